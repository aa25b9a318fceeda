"""A randomly initialised NeMo streaming Sortformer, for tests and the GPU cost benchmark.

Why: the production diarizer's weights (nvidia/diar_streaming_sortformer_4spk-v2.1) cannot be
downloaded here, but its *compute* does not depend on the weights: a random model of the same shape
costs the same GPU time per audio hour, and a tiny one runs NeMo's real streaming step in a second
on a CPU, so gpu_job.diarization.SortformerStream can be checked against NeMo's own whole-file loop.
The keys follow NeMo's examples/speaker_tasks/diarization/conf/neural_diarizer/
streaming_sortformer_diarizer_4spk-v2.yaml (not shipped in the wheel); `full_size` is that shape
(17 FastConformer layers of 512, 18 Transformer layers of 192: ~118 M parameters).

    python scripts/random_sortformer.py --full-size --out build/models/full_size_random_sortformer.nemo
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def sortformer_config(full_size: bool = False, normalize: str = "NA") -> dict[str, Any]:
    fc, tf = (512, 192) if full_size else (64, 32)
    return {
        "model_defaults": {"fc_d_model": fc, "tf_d_model": tf},
        "sample_rate": 16000,
        "pil_weight": 0.5,
        "ats_weight": 0.5,
        "max_num_of_spks": 4,
        "streaming_mode": True,
        "preprocessor": {
            "_target_": "nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor",
            "normalize": normalize,
            "window_size": 0.025,
            "sample_rate": 16000,
            "window_stride": 0.01,
            "window": "hann",
            "features": 128,
            "n_fft": 512,
            "frame_splicing": 1,
            "dither": 0.00001,
        },
        "sortformer_modules": {
            "_target_": "nemo.collections.asr.modules.sortformer_modules.SortformerModules",
            "num_spks": 4,
            "dropout_rate": 0.5,
            "fc_d_model": fc,
            "tf_d_model": tf,
            "spkcache_len": 188,
            "fifo_len": 0,
            "chunk_len": 188,
            "spkcache_update_period": 1,
            "chunk_left_context": 1,
            "chunk_right_context": 1,
        },
        "encoder": {
            "_target_": "nemo.collections.asr.modules.ConformerEncoder",
            "feat_in": 128,
            "feat_out": -1,
            "n_layers": 17 if full_size else 2,
            "d_model": fc,
            "subsampling": "dw_striding",
            "subsampling_factor": 8,
            "subsampling_conv_channels": 256 if full_size else 32,
            "causal_downsampling": False,
            "ff_expansion_factor": 4,
            "self_attention_model": "rel_pos",
            "n_heads": 8 if full_size else 4,
            "att_context_size": [-1, -1],
            "att_context_style": "regular",
            "xscaling": True,
            "untie_biases": True,
            "pos_emb_max_len": 5000,
            "conv_kernel_size": 9,
            "conv_norm_type": "batch_norm",
            "dropout": 0.1,
            "dropout_pre_encoder": 0.1,
            "dropout_emb": 0.0,
            "dropout_att": 0.1,
        },
        "transformer_encoder": {
            "_target_": "nemo.collections.asr.modules.transformer.transformer_encoders.TransformerEncoder",
            "num_layers": 18 if full_size else 2,
            "hidden_size": tf,
            "inner_size": 4 * tf,
            "num_attention_heads": 8 if full_size else 4,
            "attn_score_dropout": 0.5,
            "attn_layer_dropout": 0.5,
            "ffn_dropout": 0.5,
            "hidden_act": "relu",
            "pre_ln": False,
            "pre_ln_final_layer_norm": True,
        },
        "loss": {
            "_target_": "nemo.collections.asr.losses.bce_loss.BCELoss",
            "weight": None,
            "reduction": "mean",
        },
    }


def random_sortformer(full_size: bool = False, normalize: str = "NA", seed: int = 0) -> Any:
    """The model, in eval mode, on the CPU."""
    import torch
    from nemo.collections.asr.models import SortformerEncLabelModel
    from omegaconf import OmegaConf

    torch.manual_seed(seed)
    model = SortformerEncLabelModel(cfg=OmegaConf.create(sortformer_config(full_size, normalize)))
    model.eval()
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full-size", action="store_true")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--if-missing", action="store_true")
    args = parser.parse_args(argv)
    if args.if_missing and args.out.exists():
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    random_sortformer(args.full_size).save_to(str(args.out))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
