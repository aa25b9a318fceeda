"""Build a tiny, randomly initialised FastConformer-TDT `.nemo` for CPU tests and benchmarks.

The model has Parakeet-TDT's *structure* (128 mel features, 8x dw_striding subsampling, rel_pos
attention, RNN-T decoder + joint with TDT durations [0..4]) but is shrunk (d_model 64, 2 layers) and has
random weights, so the real NeMo code paths (preprocessor, encoder, label-looping TDT decoding,
timestamps, attention changes) run in seconds on a CPU. It transcribes nothing meaningful.

The config comes from scripts/tiny_tdt_config.py (NeMo's FastConformer TDT keys; shared with
scripts/train_tiny_model.py), because the installed nemo_toolkit wheel does not ship the example
YAMLs. `--d-model/--layers/--vocab/...` build the
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

from tiny_tdt_config import fastconformer_tdt_config

DEFAULT_OUT = Path("build/models/tiny_random_tdt.nemo")

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


# Parakeet-TDT-0.6B-v3's shapes (its model_config.yaml): the GPU memory benchmark's random full-size model.
FULL_SIZE_SHAPE: dict[str, int] = {
    "d_model": 1024,
    "n_layers": 24,
    "n_heads": 8,
    "pred_hidden": 640,
    "joint_hidden": 640,
    "vocab_size": 8192,
    "subsampling_channels": 256,
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
                tokenizer_dir=str(tok_dir),
                n_mels=128,
                d_model=d_model,
                n_layers=n_layers,
                n_heads=n_heads,
                ff_expansion=4,
                subsampling_channels=subsampling_channels,
                pred_hidden=pred_hidden,
                joint_hidden=joint_hidden,
                use_bias=False,
                pred_dropout=0.2,
                joint_dropout=0.2,
                fuse_loss_wer=True,
                spec_augment=None,
                optim=None,
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
    shape = (
        FULL_SIZE_SHAPE
        if args.full_size
        else {
            "d_model": args.d_model,
            "n_layers": args.layers,
            "n_heads": args.heads,
            "pred_hidden": args.pred_hidden,
            "joint_hidden": args.joint_hidden,
            "vocab_size": args.vocab,
            "subsampling_channels": args.subsampling_channels,
        }
    )
    path = build_model(args.out, seed=args.seed, **shape)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
