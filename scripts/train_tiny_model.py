#!/usr/bin/env python3
"""Train a tiny FastConformer-TDT on the espeak-ng corpus, on CPU, and save a small `.nemo`.

Why: random-weight models only prove that code runs. This model really recognises the synthetic
vocabulary of `scripts/make_speech_corpus.py`, so tests can check words and timestamps of every
inference mode offline on CPU (tests/fixtures/models/tiny_tdt_speech.nemo).

The architecture keeps what the pipeline depends on from Parakeet-TDT: mel preprocessor with a
10 ms hop, dw_striding 8x subsampling (80 ms encoder frames: the timestamp and chunking math),
rel_pos attention (so `change_attention_model("rel_pos_local_attn")` applies), RNN-T decoder and
joint with TDT durations [0, 1, 2, 3, 4] and the `tdt` loss config (sigma 0.02, omega 0.1).
Only the sizes shrink.

CPU training detail: NeMo's `tdt` loss is Numba-CUDA only and its `tdt_pytorch` reference is a
per-cell Python loop that calls `.cuda()`. For training on CPU we swap in `TDTLossTorch` below (the
same forward variable as NeMo's reference, vectorised over batch and labels; checked against
the reference with `--check-loss`). The saved config still names the standard `tdt` loss, so the
`.nemo` is an ordinary NeMo TDT model. (omega, the loss-mixing term of the CUDA kernel, is not
applied in CPU training.)

Reproduce (see docs/TINY_MODEL.md):
    python scripts/make_speech_corpus.py --out build/corpus --train 8000 --dev 150 --test 300
    python scripts/train_tiny_model.py --corpus build/corpus --out tests/fixtures/models/tiny_tdt_speech.nemo
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# OpenMP threads that spin while waiting are a disaster on a shared, oversubscribed CPU.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch
from tiny_tdt_config import TDT_DURATIONS, fastconformer_tdt_config
from torch import nn

FRAME_S = 0.08  # 10 ms hop x 8 subsampling
ALIGN_EARLY_FRAMES = 1
ALIGN_LATE_FRAMES = 2
NEG = -1.0e5  # "log zero" that keeps gradients finite (no -inf - -inf)


class TDTLossTorch(nn.Module):
    """TDT transducer loss (Xu et al. 2023, eq. 7) in plain PyTorch, usable on CPU.

    Returns per-utterance negative log-likelihoods (NeMo's RNNTLoss wrapper does the reduction).
    The recursion runs over time; within one frame the duration-0 (same frame) label arcs form a
    chain along u, which is solved in closed form with a cumulative sum + logcumsumexp.
    """

    def __init__(self, blank: int, durations: list[int], sigma: float = 0.0) -> None:
        super().__init__()
        self.blank = blank
        self.durations = list(durations)
        self.sigma = sigma
        self.reduction: str | None = None  # set/unset by NeMo's RNNTLoss wrapper
        # Optional (B, T, U+1) bool: where label u may be emitted (frame t). Set per batch by the
        # training loop (alignment-restricted transducer training), None = unrestricted.
        self.allowed: torch.Tensor | None = None

    def forward(
        self, acts: torch.Tensor, labels: torch.Tensor, act_lens: torch.Tensor, label_lens: torch.Tensor
    ) -> torch.Tensor:
        n_dur = len(self.durations)
        label_lp = torch.log_softmax(acts[..., :-n_dur].float(), dim=-1) - self.sigma
        dur_lp = torch.log_softmax(acts[..., -n_dur:].float(), dim=-1)
        batch, max_t, max_u1, _ = acts.shape
        blank_lp = label_lp[..., self.blank]  # B,T,U+1
        lab = torch.cat([labels.long(), labels.new_zeros(batch, 1).long()], dim=1)[:, :max_u1]
        emit_lp = label_lp.gather(-1, lab[:, None, :, None].expand(batch, max_t, max_u1, 1)).squeeze(-1)
        # Per-frame views, (D, B, U+1) each: unbind keeps the backward pass to one stack per tensor
        # (indexing the full tensor inside the loop costs a full-size zero tensor per index).
        blank_w = (blank_lp.unsqueeze(-1) + dur_lp).double().permute(1, 3, 0, 2).unbind(0)
        emit_full = (emit_lp.unsqueeze(-1) + dur_lp).double()
        if self.allowed is not None:
            allowed = self.allowed[:, :max_t, :max_u1].unsqueeze(-1)
            emit_full = torch.where(allowed, emit_full, torch.full_like(emit_full, NEG))
        emit_w = emit_full.permute(1, 3, 0, 2).unbind(0)

        init = torch.full((batch, max_u1), NEG, dtype=torch.float64)
        init[:, 0] = 0.0
        neg_col = torch.full((batch, 1), NEG, dtype=torch.float64)
        zero_col = torch.zeros((batch, 1), dtype=torch.float64)
        d0 = self.durations.index(0) if 0 in self.durations else None
        alphas: list[torch.Tensor] = []
        for t in range(max_t):
            if t == 0:
                base = init
            else:
                terms = []
                for n, dur in enumerate(self.durations):
                    if dur == 0 or t - dur < 0:
                        continue
                    prev = alphas[t - dur]
                    terms.append(prev + blank_w[t - dur][n])  # blank: stay on u, advance dur frames
                    emit = prev + emit_w[t - dur][n]  # label: u -> u+1, advance dur frames
                    terms.append(torch.cat([neg_col, emit[:, :-1]], dim=1))
                base = torch.logsumexp(torch.stack(terms), dim=0)
            if d0 is not None and max_u1 > 1:
                step = emit_w[t][d0, :, :-1]  # label arcs u -> u+1 within frame t
                cum = torch.cat([zero_col, torch.cumsum(step, dim=1)], dim=1)
                alpha_t = cum + torch.logcumsumexp(base - cum, dim=1)
            else:
                alpha_t = base
            alphas.append(alpha_t)
        alpha = torch.stack(alphas, dim=1)  # B,T,U+1

        rows = torch.arange(batch)
        finals = []
        act_lens = act_lens.long()
        label_lens = label_lens.long()
        for n, dur in enumerate(self.durations):
            if dur == 0:
                continue
            t_last = act_lens - dur
            valid = t_last >= 0
            t_idx = t_last.clamp(min=0)
            pairs = zip(t_idx.tolist(), label_lens.tolist(), strict=True)
            weight = torch.stack([blank_w[t][n, b, u] for b, (t, u) in enumerate(pairs)])
            term = alpha[rows, t_idx, label_lens] + weight
            finals.append(torch.where(valid, term, torch.full_like(term, NEG)))
        log_like = torch.logsumexp(torch.stack(finals), dim=0)
        return (-log_like).to(acts.dtype)


def check_loss_against_nemo_reference(seed: int = 0) -> float:
    """Max |difference| between TDTLossTorch and NeMo's reference TDTLossPytorch on random inputs."""
    from nemo.collections.asr.losses.rnnt_pytorch import TDTLossPytorch

    torch.manual_seed(seed)
    batch, max_t, max_u, vocab = 3, 9, 4, 6
    acts = torch.randn(batch, max_t, max_u + 1, vocab + 1 + len(TDT_DURATIONS))
    labels = torch.randint(0, vocab, (batch, max_u))
    act_lens = torch.tensor([9, 7, 5])
    label_lens = torch.tensor([4, 2, 3])
    ours = TDTLossTorch(blank=vocab, durations=TDT_DURATIONS, sigma=0.02)(acts, labels, act_lens, label_lens)
    ref_mod = TDTLossPytorch(blank=vocab, durations=TDT_DURATIONS, reduction="none", sigma=0.02)
    original_cuda = torch.Tensor.cuda
    torch.Tensor.cuda = lambda self, *a, **k: self  # the reference hard-codes .cuda()
    try:
        ref = ref_mod(acts=acts, labels=labels, act_lens=act_lens, label_lens=label_lens)
    finally:
        torch.Tensor.cuda = original_cuda
    return float((ours - ref).abs().max())


def train_tokenizer(manifest: Path, out_dir: Path, vocab_size: int) -> Path:
    """SentencePiece unigram tokenizer over the training transcripts, laid out as NeMo expects."""
    import sentencepiece as spm

    out_dir.mkdir(parents=True, exist_ok=True)
    text_path = out_dir / "text.txt"
    with manifest.open(encoding="utf-8") as f, text_path.open("w", encoding="utf-8") as out:
        for line in f:
            out.write(json.loads(line)["text"] + "\n")
    spm.SentencePieceTrainer.train(
        input=str(text_path),
        model_prefix=str(out_dir / "tokenizer"),
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=1.0,
        num_threads=1,
        bos_id=-1,
        eos_id=-1,
        unk_id=0,
        hard_vocab_limit=False,
        minloglevel=2,
        seed_sentencepiece_size=100000,
    )
    sp = spm.SentencePieceProcessor(model_file=str(out_dir / "tokenizer.model"))
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    (out_dir / "vocab.txt").write_text("\n".join(pieces) + "\n", encoding="utf-8")
    text_path.unlink()
    return out_dir


def model_config(args: argparse.Namespace, tokenizer_dir: Path) -> dict[str, Any]:
    """FastConformer-TDT config with NeMo's keys (the wheel ships no example YAMLs), shrunk."""
    return fastconformer_tdt_config(
        tokenizer_dir=str(tokenizer_dir),
        n_mels=args.n_mels,
        d_model=args.d_model,
        n_layers=args.layers,
        n_heads=args.heads,
        ff_expansion=args.ff_expansion,
        subsampling_channels=args.subsampling_channels,
        pred_hidden=args.pred_hidden,
        joint_hidden=args.joint_hidden,
        use_bias=True,
        pred_dropout=0.1,
        joint_dropout=0.0,
        fuse_loss_wer=False,
        spec_augment={
            "_target_": "nemo.collections.asr.modules.SpectrogramAugmentation",
            "freq_masks": 2,
            "time_masks": 2,
            "freq_width": 12,
            "time_width": 0.03,
        },
        optim={
            "name": "adamw",
            "lr": args.lr,
            "betas": [0.9, 0.98],
            "weight_decay": 1.0e-3,
            "sched": {"name": "CosineAnnealing", "warmup_steps": args.warmup_steps, "min_lr": args.lr / 50},
        },
        top_level={
            "compute_eval_loss": False,
            "log_prediction": False,
            "rnnt_reduction": "mean_volume",
            "skip_nan_grad": False,
        },
    )


DATASET_SECTIONS = {
    # NeMo's transcribe() reads cfg.validation_ds (e.g. use_start_end_token); released models carry
    # these sections, so the fixture does too (without this machine's manifest paths).
    "train_ds": {"manifest_filepath": None, "sample_rate": 16000, "batch_size": 16, "shuffle": True},
    "validation_ds": {
        "manifest_filepath": None,
        "sample_rate": 16000,
        "batch_size": 16,
        "shuffle": False,
        "use_start_end_token": False,
    },
}


def add_dataset_sections(model: Any) -> None:
    from omegaconf import OmegaConf, open_dict

    with open_dict(model.cfg):
        for key, value in DATASET_SECTIONS.items():
            if key not in model.cfg:
                model.cfg[key] = OmegaConf.create(value)


def snapshot(model: Any, out: Path) -> None:
    """Save the model as it is now (eval mode for the save, then back to training)."""
    add_dataset_sections(model)
    model.eval()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.nemo")
    model.save_to(str(tmp))
    tmp.replace(out)
    model.train()


@dataclass
class Example:
    audio: np.ndarray  # int16, 16 kHz
    tokens: list[int]
    text: str
    # Per token: the encoder frames in which it may be emitted (from the generator's word times).
    windows: list[tuple[int, int]]


def load_examples(manifest: Path, tokenizer: Any, limit: int | None = None) -> list[Example]:
    import soundfile as sf

    examples = []
    with manifest.open(encoding="utf-8") as f:
        for i, line in enumerate(f):
            if limit is not None and i >= limit:
                break
            entry = json.loads(line)
            audio, rate = sf.read(entry["audio_filepath"], dtype="int16")
            if rate != 16000:
                raise ValueError(f"{entry['audio_filepath']}: {rate} Hz")
            tokens: list[int] = []
            windows: list[tuple[int, int]] = []
            for word in entry["words"]:
                ids = tokenizer.text_to_ids(word["word"])
                first = int(word["start"] / FRAME_S)
                last = math.ceil(word["end"] / FRAME_S)
                # The word's first token (its timestamp) near the onset; the rest within the word.
                windows.append((first - ALIGN_EARLY_FRAMES, first + ALIGN_LATE_FRAMES))
                windows.extend((first - ALIGN_EARLY_FRAMES, last + 1) for _ in ids[1:])
                tokens.extend(ids)
            examples.append(Example(audio, tokens, entry["text"], windows))
    return examples


def allowed_emissions(examples: list[Example], max_t: int) -> torch.Tensor:
    """(B, T, U+1) mask for TDTLossTorch.allowed: token u only inside its window (clipped to the audio)."""
    max_u1 = max(len(e.tokens) for e in examples) + 1
    allowed = torch.zeros(len(examples), max_t, max_u1, dtype=torch.bool)
    for b, ex in enumerate(examples):
        n_frames = math.ceil(len(ex.audio) / 16000 / FRAME_S)
        for u, (lo, hi) in enumerate(ex.windows):
            lo_c = max(0, min(lo, n_frames - 1))
            hi_c = max(lo_c, min(hi, n_frames - 1))
            allowed[b, lo_c : hi_c + 1, u] = True
    return allowed


def length_batches(examples: list[Example], max_batch_s: float, max_batch: int) -> list[list[int]]:
    """Batches of similar duration (sorted), capped by padded audio seconds: little padding on CPU."""
    order = sorted(range(len(examples)), key=lambda i: len(examples[i].audio))
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        longest = len(examples[i].audio) / 16000
        if current and (longest * (len(current) + 1) > max_batch_s or len(current) >= max_batch):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def collate(examples: list[Example]) -> tuple[torch.Tensor, ...]:
    audio = [torch.from_numpy(e.audio.astype(np.float32) / 32768.0) for e in examples]
    tokens = [torch.tensor(e.tokens, dtype=torch.long) for e in examples]
    return (
        nn.utils.rnn.pad_sequence(audio, batch_first=True),
        torch.tensor([len(a) for a in audio]),
        nn.utils.rnn.pad_sequence(tokens, batch_first=True),
        torch.tensor([len(t) for t in tokens]),
    )


def word_errors(ref: str, hyp: str) -> int:
    r, h = ref.split(), hyp.split()
    row = list(range(len(h) + 1))
    for i, rw in enumerate(r, 1):
        prev, row[0] = row[0], i
        for j, hw in enumerate(h, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (rw != hw))
    return row[len(h)]


def dev_wer(model: Any, examples: list[Example], batch_size: int = 16) -> float:
    """Greedy TDT decoding of the dev utterances; corpus-level WER."""
    model.eval()
    errors = words = 0
    with torch.no_grad():
        for start in range(0, len(examples), batch_size):
            chunk = examples[start : start + batch_size]
            audio, audio_len, _, _ = collate(chunk)
            enc, enc_len = model.forward(input_signal=audio, input_signal_length=audio_len)
            hyps = model.decoding.rnnt_decoder_predictions_tensor(encoder_output=enc, encoded_lengths=enc_len)
            if isinstance(hyps, tuple):
                hyps = hyps[0]
            for ex, hyp in zip(chunk, hyps, strict=True):
                errors += word_errors(ex.text, hyp.text)
                words += len(ex.text.split())
    model.train()
    return errors / max(words, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=Path("build/corpus"))
    parser.add_argument("--out", type=Path, default=Path("tests/fixtures/models/tiny_tdt_speech.nemo"))
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-utterances", type=int, default=12000)
    parser.add_argument("--dev-utterances", type=int, default=48)
    parser.add_argument("--max-steps", type=int, default=6000, help="also the cosine schedule length")
    parser.add_argument("--max-minutes", type=float, default=36.0, help="wall-time budget, ends the decay")
    parser.add_argument("--val-every", type=int, default=250, help="steps between dev WER checks")
    parser.add_argument("--stop-wer", type=float, default=0.01, help="stop early once dev WER <= this")
    parser.add_argument("--batch-seconds", type=float, default=45.0, help="padded audio seconds per batch")
    parser.add_argument("--max-batch", type=int, default=48)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--warmup-steps", type=int, default=100)
    parser.add_argument("--vocab", type=int, default=128)
    parser.add_argument("--n-mels", type=int, default=80)
    parser.add_argument("--d-model", type=int, default=112)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--ff-expansion", type=int, default=4)
    parser.add_argument("--subsampling-channels", type=int, default=48)
    parser.add_argument("--pred-hidden", type=int, default=96)
    parser.add_argument("--joint-hidden", type=int, default=96)
    parser.add_argument(
        "--aux-ctc-weight", type=float, default=0.3, help="auxiliary CTC head on the encoder (not saved)"
    )
    parser.add_argument(
        "--add-dataset-sections", type=Path, default=None, help="re-save a .nemo from an older run and exit"
    )
    parser.add_argument(
        "--restrict-alignment",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="emit each word's first token within -1..+2 frames of its true onset (accurate timestamps)",
    )
    parser.add_argument(
        "--stop-step", type=int, default=None, help="stop here without changing the LR schedule"
    )
    parser.add_argument("--init-from", type=Path, default=None, help="continue training this .nemo")
    parser.add_argument(
        "--check-loss", action="store_true", help="compare the CPU TDT loss with NeMo's and exit"
    )
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    # Denormal floats make CPU training slow down progressively as values get tiny.
    torch.set_flush_denormal(True)
    if args.add_dataset_sections is not None:
        from nemo.collections.asr.models import EncDecRNNTBPEModel

        fixed = EncDecRNNTBPEModel.restore_from(str(args.add_dataset_sections), map_location="cpu")
        snapshot(fixed, args.add_dataset_sections)
        return 0
    if args.check_loss:
        diff = check_loss_against_nemo_reference()
        print(f"max |TDTLossTorch - TDTLossPytorch| = {diff:.2e}")
        return 0 if diff < 1e-3 else 1

    from nemo.collections.asr.models import EncDecRNNTBPEModel
    from omegaconf import OmegaConf

    started = time.time()
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        subset = Path(tmp) / "train.jsonl"
        lines = (args.corpus / "train.jsonl").read_text(encoding="utf-8").splitlines()[: args.max_utterances]
        subset.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tok_dir = train_tokenizer(subset, Path(tmp) / "tokenizer", args.vocab)
        cfg = OmegaConf.create(model_config(args, tok_dir))
        if args.init_from is not None:
            # Continue from an earlier run's .nemo (its tokenizer and architecture win over the flags).
            model = EncDecRNNTBPEModel.restore_from(str(args.init_from), map_location="cpu")
            cfg = model.cfg
            model.train()
        else:
            model = EncDecRNNTBPEModel(cfg=cfg)
        # CPU-capable loss in place of the CUDA-only Numba TDT kernel (config unchanged).
        tdt_loss = TDTLossTorch(
            blank=model.decoder.blank_idx, durations=TDT_DURATIONS, sigma=cfg.loss.tdt_kwargs.sigma
        )
        model.loss._loss = tdt_loss
        train = load_examples(subset, model.tokenizer)
        dev = load_examples(args.corpus / "dev.jsonl", model.tokenizer, args.dev_utterances)
        batches = length_batches(train, args.batch_seconds, args.max_batch)
        n_params = sum(p.numel() for p in model.parameters())
        hours = sum(len(e.audio) for e in train) / 16000 / 3600
        print(
            f"train {len(train)} utterances ({hours:.1f} h) in {len(batches)} batches, vocab "
            f"{model.tokenizer.vocab_size}, params {n_params / 1e6:.2f} M, "
            f"setup {time.time() - started:.0f}s",
            flush=True,
        )

        # Auxiliary CTC head: a training-only linear layer on the encoder output. CTC learns the
        # audio-to-token alignment much faster than a transducer from scratch, which is what a CPU
        # budget of a few hundred steps needs; it is dropped before saving (the .nemo is pure TDT).
        ctc_head = nn.Linear(int(cfg.encoder.d_model), model.tokenizer.vocab_size + 1)
        ctc_blank = model.tokenizer.vocab_size
        params = list(model.parameters()) + list(ctc_head.parameters())
        optimizer = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.98), weight_decay=1e-3)

        def lr_at(step: int) -> float:
            """Linear warm-up, then cosine decay over max-steps, or over max-minutes if that ends first
            (a shared CPU's speed varies a lot; the decay must finish either way)."""
            if step < args.warmup_steps:
                return args.lr * (step + 1) / args.warmup_steps
            by_steps = (step - args.warmup_steps) / max(1, args.max_steps - args.warmup_steps)
            by_time = (time.time() - started) / (args.max_minutes * 60)
            progress = min(1.0, max(by_steps, by_time))
            return args.lr / 50 + (args.lr - args.lr / 50) * 0.5 * (1 + math.cos(math.pi * progress))

        rng = random.Random(args.seed)
        model.train()
        step = 0
        wer = float("nan")
        best: tuple[float, dict[str, torch.Tensor]] | None = None
        epoch_order: list[int] = []
        loss_sum = 0.0
        while step < args.max_steps:
            if not epoch_order:
                epoch_order = list(range(len(batches)))
                rng.shuffle(epoch_order)
            batch = [train[i] for i in batches[epoch_order.pop()]]
            audio, audio_len, tokens, token_len = collate(batch)
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step)
            enc, enc_len = model.forward(input_signal=audio, input_signal_length=audio_len)
            dec, _, _ = model.decoder(targets=tokens, target_length=token_len)
            joint = model.joint(encoder_outputs=enc, decoder_outputs=dec)
            if args.restrict_alignment:
                tdt_loss.allowed = allowed_emissions(batch, joint.shape[1])
            loss = model.loss(
                log_probs=joint, targets=tokens, input_lengths=enc_len, target_lengths=token_len
            )
            if args.aux_ctc_weight > 0:
                ctc_lp = torch.log_softmax(ctc_head(enc.transpose(1, 2)), dim=-1).transpose(0, 1)
                ctc = (
                    nn.functional.ctc_loss(
                        ctc_lp,
                        tokens,
                        enc_len,
                        token_len,
                        blank=ctc_blank,
                        reduction="sum",
                        zero_infinity=True,
                    )
                    / token_len.sum()
                )
                loss = loss + args.aux_ctc_weight * ctc
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            step += 1
            loss_sum += loss.item()
            elapsed = time.time() - started
            if step % 20 == 0:
                print(
                    f"step {step} loss {loss_sum / 20:.3f} lr {lr_at(step):.2e} elapsed {elapsed:.0f}s "
                    f"({20 / max(1e-9, elapsed - getattr(main, '_last', 0.0)):.2f} step/s)",
                    flush=True,
                )
                main._last = elapsed  # type: ignore[attr-defined]
                loss_sum = 0.0
            out_of_time = elapsed > args.max_minutes * 60
            if step % args.val_every == 0 or step == args.max_steps or out_of_time:
                wer = dev_wer(model, dev)
                elapsed = time.time() - started
                print(f"VALIDATION step {step} dev_wer {wer:.4f} elapsed {elapsed:.0f}s", flush=True)
                if best is None or wer <= best[0]:
                    best = (wer, {k: v.detach().clone() for k, v in model.state_dict().items()})
                    snapshot(model, args.out)  # usable while training goes on
                if wer <= args.stop_wer:
                    print(f"dev WER {wer:.4f} <= {args.stop_wer}: stopping", flush=True)
                    break
            if out_of_time:
                print("time limit reached: stopping", flush=True)
                break
            if args.stop_step is not None and step >= args.stop_step:
                print(f"--stop-step {args.stop_step} reached: stopping", flush=True)
                break
        train_s = time.time() - started
        if best is not None:
            wer = best[0]
            model.load_state_dict(best[1])
        snapshot(model, args.out)
    size_mb = args.out.stat().st_size / 1e6
    print(
        f"DONE steps {step} train_time {train_s / 60:.1f} min, best dev WER {wer:.4f}, "
        f"wrote {args.out} ({size_mb:.2f} MB)",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
