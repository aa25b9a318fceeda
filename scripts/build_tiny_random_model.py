"""Build a tiny, randomly initialised FastConformer-TDT `.nemo` for CPU tests and benchmarks.

The model has Parakeet-TDT's *structure* (128 mel features, 8x dw_striding subsampling, rel_pos
attention, RNN-T decoder + joint with TDT durations [0..4]) but is shrunk (d_model 64, 2 layers) and has
random weights, so the real NeMo code paths (preprocessor, encoder, label-looping TDT decoding,
timestamps, attention changes) run in seconds on a CPU. It transcribes nothing meaningful.

The config is written here with the same keys as NeMo's FastConformer TDT config
(examples/asr/conf/fastconformer/hybrid_transducer_ctc/... and .../tdt/), because the installed
nemo_toolkit wheel does not ship the example YAMLs. `--d-model/--layers/--vocab/...` build the
full-size architecture for GPU memory benchmarks (see benchmarks/gpu_job_memory.py).

Usage: python scripts/build_tiny_random_model.py [--if-missing] [--out build/models/tiny_random_tdt.nemo]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

DEFAULT_OUT = Path("build/models/tiny_random_tdt.nemo")
TDT_DURATIONS = [0, 1, 2, 3, 4]

# A few words per language so the tokenizer has pieces for several scripts (Latin, Cyrillic, Greek).
_WORD_TEXT = (
    "the of and to in is that it was for on are with as this be at by from have not but "
    "speech audio model transcript streaming chunk memory decoder encoder attention minute hour "
    "der die und ist nicht ein mit das sich auf für den von le la les et est une pas des que "
    "el los las y es en con por una de il che non per della sono och det att som för inte "
    "и в не на что это как по я он с с мы вы они был το και να είναι σε με για που "
    "zero one two three four five six seven eight nine ten hello world good morning thank you"
)
_WORDS = _WORD_TEXT.split()


_SYLLABLES = [c + v for c in "bcdfghjklmnprstvzšžč" for v in "aeiouyäö"]


def training_text(n_sentences: int = 4000, seed: int = 1234, invented_words: int = 0) -> str:
    """Generate a deterministic pseudo-corpus: random word sequences with punctuation.

    `invented_words` adds that many made-up syllable words, so a large vocabulary (8192 for the
    full-size architecture) has enough distinct pieces to learn.
    """
    rng = random.Random(seed)
    vocabulary = list(_WORDS)
    vocabulary += ["".join(rng.choices(_SYLLABLES, k=rng.randint(1, 4))) for _ in range(invented_words)]
    lines = []
    for _ in range(n_sentences):
        words = [rng.choice(vocabulary) for _ in range(rng.randint(3, 14))]
        words[0] = words[0].capitalize()
        lines.append(" ".join(words) + rng.choice([".", ".", ",", "?", "!"]))
    return "\n".join(lines) + "\n"


def train_tokenizer(out_dir: Path, vocab_size: int) -> Path:
    """Train a SentencePiece BPE tokenizer the way NeMo's process_asr_text_tokenizer.py lays it out."""
    import sentencepiece as spm

    out_dir.mkdir(parents=True, exist_ok=True)
    text_path = out_dir / "text.txt"
    big = vocab_size > 512
    text = training_text(n_sentences=60000 if big else 4000, invented_words=40000 if big else 0)
    text_path.write_text(text, encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(text_path),
        model_prefix=str(out_dir / "tokenizer"),
        vocab_size=vocab_size,
        model_type="bpe",
        character_coverage=1.0,
        num_threads=1,
        bos_id=-1,
        eos_id=-1,
        unk_id=0,
        hard_vocab_limit=False,
        minloglevel=2,
    )
    # NeMo's SentencePiece tokenizer config also registers a vocab.txt (one piece per line).
    sp = spm.SentencePieceProcessor(model_file=str(out_dir / "tokenizer.model"))
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    (out_dir / "vocab.txt").write_text("\n".join(pieces) + "\n", encoding="utf-8")
    return out_dir


def fastconformer_tdt_config(
    tokenizer_dir: str,
    d_model: int,
    n_layers: int,
    n_heads: int,
    pred_hidden: int,
    joint_hidden: int,
    subsampling_channels: int,
) -> dict[str, Any]:
    """FastConformer-TDT model config with the structure of NeMo's and Parakeet-TDT-0.6B-v3's."""
    return {
        "sample_rate": 16000,
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
            "features": 128,
            "n_fft": 512,
            "log": True,
            "frame_splicing": 1,
            "dither": 1.0e-05,
            "pad_to": 0,
            "pad_value": 0.0,
        },
        "spec_augment": None,
        "encoder": {
            "_target_": "nemo.collections.asr.modules.ConformerEncoder",
            "feat_in": 128,
            "feat_out": -1,
            "n_layers": n_layers,
            "d_model": d_model,
            "use_bias": False,
            "subsampling": "dw_striding",
            "subsampling_factor": 8,
            "subsampling_conv_channels": subsampling_channels,
            "causal_downsampling": False,
            "ff_expansion_factor": 4,
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
            "prednet": {"pred_hidden": pred_hidden, "pred_rnn_layers": 1, "t_max": None, "dropout": 0.2},
        },
        "joint": {
            "_target_": "nemo.collections.asr.modules.RNNTJoint",
            "log_softmax": None,
            "preserve_memory": False,
            "fuse_loss_wer": True,
            "fused_batch_size": 4,
            "num_extra_outputs": len(TDT_DURATIONS),
            "jointnet": {
                "joint_hidden": joint_hidden,
                "activation": "relu",
                "dropout": 0.2,
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
        "optim": None,
    }


def build_model(
    out: Path,
    d_model: int = 64,
    n_layers: int = 2,
    n_heads: int = 4,
    pred_hidden: int = 64,
    joint_hidden: int = 64,
    vocab_size: int = 256,
    seed: int = 0,
    subsampling_channels: int = 64,
) -> Path:
    """Train the tokenizer, instantiate EncDecRNNTBPEModel with random weights, save a `.nemo`."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from nemo.collections.asr.models import EncDecRNNTBPEModel
    from omegaconf import OmegaConf

    torch.manual_seed(seed)
    random.seed(seed)
    with tempfile.TemporaryDirectory() as tmp:
        tok_dir = train_tokenizer(Path(tmp) / "tokenizer", vocab_size)
        cfg = OmegaConf.create(
            fastconformer_tdt_config(
                str(tok_dir), d_model, n_layers, n_heads, pred_hidden, joint_hidden, subsampling_channels
            )
        )
        model = EncDecRNNTBPEModel(cfg=cfg)
        model.eval()
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp_out = out.with_suffix(".nemo.tmp")
        model.save_to(str(tmp_out))
        tmp_out.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--if-missing", action="store_true", help="do nothing when --out already exists")
    parser.add_argument("--d-model", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--pred-hidden", type=int, default=64)
    parser.add_argument("--joint-hidden", type=int, default=64)
    parser.add_argument("--vocab", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--subsampling-channels", type=int, default=64)
    parser.add_argument(
        "--full-size",
        action="store_true",
        help="Parakeet-TDT-0.6B-v3 shapes: 24 layers, d_model 1024, 8 heads, 256 subsampling channels, "
        "pred/joint 640, 8192 vocab (random weights; for GPU memory benchmarks)",
    )
    args = parser.parse_args(argv)
    if args.if_missing and args.out.exists():
        print(f"{args.out} exists")
        return 0
    path = build_model(
        args.out,
        args.d_model,
        args.layers,
        args.heads,
        args.pred_hidden,
        args.joint_hidden,
        args.vocab,
        args.seed,
    )
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
