"""The FastConformer-TDT model config shared by the tiny random model and the tiny trained model.

Written with the same keys as NeMo's FastConformer TDT config (examples/asr/conf/fastconformer/...),
because the installed nemo_toolkit wheel does not ship the example YAMLs. The structure is
Parakeet-TDT's (mel preprocessor with a 10 ms hop, dw_striding 8x subsampling, rel_pos attention,
RNN-T decoder + joint with TDT durations [0..4], the `tdt` loss); the callers choose the sizes and
the training details (scripts/build_tiny_random_model.py, scripts/train_tiny_model.py).

Imported as `tiny_tdt_config`: `python scripts/<x>.py` puts scripts/ on sys.path.
"""

from __future__ import annotations

from typing import Any

TDT_DURATIONS = [0, 1, 2, 3, 4]


def fastconformer_tdt_config(
    *,
    tokenizer_dir: str,
    n_mels: int,
    d_model: int,
    n_layers: int,
    n_heads: int,
    ff_expansion: int,
    subsampling_channels: int,
    pred_hidden: int,
    joint_hidden: int,
    use_bias: bool,
    pred_dropout: float,
    joint_dropout: float,
    fuse_loss_wer: bool,
    spec_augment: dict[str, Any] | None,
    optim: dict[str, Any] | None,
    top_level: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """FastConformer-TDT model config dict (for OmegaConf.create / EncDecRNNTBPEModel).

    `top_level` adds model-level keys right after `sample_rate` (e.g. `rnnt_reduction`).
    """
    return {
        "sample_rate": 16000,
        **(top_level or {}),
        "model_defaults": {
            "enc_hidden": d_model,
            "pred_hidden": pred_hidden,
            "joint_hidden": joint_hidden,
            "tdt_durations": TDT_DURATIONS,
            "num_tdt_durations": len(TDT_DURATIONS),
        },
        "tokenizer": {"dir": tokenizer_dir, "type": "bpe"},
        "preprocessor": {
            "_target_": "nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor",
            "sample_rate": 16000,
            "normalize": "per_feature",
            "window_size": 0.025,
            "window_stride": 0.01,
            "window": "hann",
            "features": n_mels,
            "n_fft": 512,
            "log": True,
            "frame_splicing": 1,
            "dither": 1.0e-05,
            "pad_to": 0,
            "pad_value": 0.0,
        },
        "spec_augment": spec_augment,
        "encoder": {
            "_target_": "nemo.collections.asr.modules.ConformerEncoder",
            "feat_in": n_mels,
            "feat_out": -1,
            "n_layers": n_layers,
            "d_model": d_model,
            "use_bias": use_bias,
            "subsampling": "dw_striding",
            "subsampling_factor": 8,
            "subsampling_conv_channels": subsampling_channels,
            "causal_downsampling": False,
            "ff_expansion_factor": ff_expansion,
            "self_attention_model": "rel_pos",
            "n_heads": n_heads,
            "att_context_size": [-1, -1],
            "att_context_style": "regular",
            "xscaling": True,
            "untie_biases": True,
            "pos_emb_max_len": 5000,
            "conv_kernel_size": 9,
            "conv_norm_type": "batch_norm",
            "conv_context_size": None,
            "dropout": 0.1,
            "dropout_pre_encoder": 0.1,
            "dropout_emb": 0.0,
            "dropout_att": 0.1,
            "stochastic_depth_drop_prob": 0.0,
            "stochastic_depth_mode": "linear",
            "stochastic_depth_start_layer": 1,
        },
        "decoder": {
            "_target_": "nemo.collections.asr.modules.RNNTDecoder",
            "normalization_mode": None,
            "random_state_sampling": False,
            "blank_as_pad": True,
            "prednet": {
                "pred_hidden": pred_hidden,
                "pred_rnn_layers": 1,
                "t_max": None,
                "dropout": pred_dropout,
            },
        },
        "joint": {
            "_target_": "nemo.collections.asr.modules.RNNTJoint",
            "log_softmax": None,
            "preserve_memory": False,
            "fuse_loss_wer": fuse_loss_wer,
            "fused_batch_size": 4,
            "num_extra_outputs": len(TDT_DURATIONS),
            "jointnet": {
                "joint_hidden": joint_hidden,
                "activation": "relu",
                "dropout": joint_dropout,
                "encoder_hidden": d_model,
                "pred_hidden": pred_hidden,
            },
        },
        "decoding": {
            "strategy": "greedy_batch",
            "model_type": "tdt",
            "durations": TDT_DURATIONS,
            "greedy": {"max_symbols": 10, "loop_labels": True},
        },
        "loss": {
            "loss_name": "tdt",
            "tdt_kwargs": {
                "fastemit_lambda": 0.0,
                "clamp": -1.0,
                "durations": TDT_DURATIONS,
                "sigma": 0.02,
                "omega": 0.1,
            },
        },
        "optim": optim,
    }
