"""Word confidence: does it tell right words from wrong ones, is it calibrated, and what does it cost?

Usage:
  .venv/bin/python benchmarks/confidence.py                      # tiny speech model, CPU (~3 min)
  python benchmarks/confidence.py --speed-only --device cuda \\
      --model build/models/full_size_random_tdt.nemo              # benchmarks/gpu/run.sh: the cost on a GPU

Quality (speech model only): held-out utterances of the synthetic corpus (scripts/make_speech_corpus.py's
test split, never trained on) with white noise added at several SNRs (over the speech's RMS), so the
model gets words wrong. Each file goes through the batched engine (production path) with confidence
on; hypothesis words are marked right or wrong by aligning them to the reference words with NeMo's own
`get_correct_marks` (kaldialign: a substituted or inserted word is wrong), and NeMo's `auc_roc`
(sklearn) scores how well confidence ranks right above wrong (goal >= 0.75). The calibration table
bins words by confidence and reports the observed share right per bin; `ece` is NeMo's expected
calibration error. Alternative word aggregations and NeMo's max-prob method are scored on the same
audio to justify gpu_job.confidence's choice.

Cost: the same batches of encoder outputs are decoded by the label-looping computer with confidence
off and on, alternating, several rounds (medians), then the whole engine on the same files both ways.
On CUDA the computer's CUDA-graph mode is recorded for each (NeMo keeps graphs on with confidence).
Writes benchmarks/results/confidence.json (or --out) and prints tables.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "functions")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GPU_JOB_CPU_THREADS", "1")

DEFAULT_OUT = ROOT / "benchmarks" / "results" / "confidence.json"
SNRS_DB = (20.0, 10.0, 5.0, 0.0)
NOISE_SEED = 11
GOAL_AUROC = 0.75
BINS = 10
VARIANTS: dict[str, dict[str, Any]] = {  # name -> (method, aggregation) tried against the default
    "entropy_min (default)": {},
    "entropy_mean": {"aggregation": "mean"},
    "entropy_prod": {"aggregation": "prod"},
    "max_prob_min": {"method": {"name": "max_prob", "alpha": 0.33}},
}


def noisy_corpus(count: int, out: Path) -> list[tuple[Path, list[str], float]]:
    """(wav, reference words, SNR) for `count` held-out utterances at each SNR."""
    from tests.gpu_job import accuracy_support as acc

    gen = acc.corpus_generator()
    bank = gen.WordBank(acc.ESPEAK_CACHE)
    rng = np.random.default_rng(NOISE_SEED)
    files = []
    for i, utt in enumerate(gen.make_utterances(count, acc.heldout_seed(), bank)):
        audio = utt.audio.astype(np.float32)
        speech = audio[np.abs(audio) > 1e-3]
        rms = float(np.sqrt(np.mean(speech**2))) if speech.size else 0.1
        ref = [acc.normalise(w.word) for w in utt.words]
        for snr in SNRS_DB:
            gain = np.float32(rms * 10 ** (-snr / 20))
            noise = rng.standard_normal(audio.shape[0]).astype(np.float32) * gain
            path = out / f"u{i:04d}_snr{snr:g}.wav"
            gen.write_wav(path, np.clip(audio + noise, -1.0, 1.0))
            files.append((path, ref, snr))
    return files


def set_variant(model: Any, variant: dict[str, Any], default: tuple[str, dict[str, Any]]) -> None:
    """Rebuild the decoding with one method/aggregation: gpu_job.confidence's constants, changed for this
    benchmark only (`default` is what they were; the empty variant restores it)."""
    from gpu_job import confidence
    from gpu_job.model import set_word_confidence

    confidence.WORD_AGGREGATION = variant.get("aggregation", default[0])
    confidence.METHOD = {**default[1], **variant.get("method", {})}
    set_word_confidence(model, True)


def marks(files: list[tuple[Path, list[str], float]], docs: list[Any]) -> list[tuple[float, bool, float]]:
    """(confidence, correct, snr) per hypothesis word."""
    from nemo.collections.asr.parts.utils.asr_confidence_benchmarking_utils import get_correct_marks

    from tests.gpu_job import accuracy_support as acc

    out = []
    for (_path, ref, snr), doc in zip(files, docs, strict=True):
        assert isinstance(doc, dict), doc
        words = [w for w in doc["words"] if acc.normalise(w["word"])]
        hyp = [acc.normalise(w["word"]) for w in words]
        correct = get_correct_marks(ref, hyp)
        out += [(float(w["confidence"]), bool(c), snr) for w, c in zip(words, correct, strict=True)]
    return out


def quality(scored: list[tuple[float, bool, float]]) -> dict[str, Any]:
    from nemo.collections.asr.parts.utils.confidence_metrics import auc_roc, ece

    conf = np.array([s[0] for s in scored])
    right = np.array([s[1] for s in scored], dtype=int)
    table = []
    for b in range(BINS):
        lo, hi = b / BINS, (b + 1) / BINS
        inside = (conf >= lo) & ((conf < hi) if b < BINS - 1 else (conf <= hi))
        n = int(inside.sum())
        table.append(
            {
                "bin": f"[{lo:.1f}, {hi:.1f}{']' if b == BINS - 1 else ')'}",
                "words": n,
                "mean_confidence": round(float(conf[inside].mean()), 3) if n else None,
                "accuracy": round(float(right[inside].mean()), 3) if n else None,
            }
        )
    per_snr = {}
    for snr in SNRS_DB:
        pick = np.array([s[2] == snr for s in scored])
        per_snr[f"{snr:g}"] = {
            "words": int(pick.sum()),
            "accuracy": round(float(right[pick].mean()), 3),
            "mean_confidence": round(float(conf[pick].mean()), 3),
            "auroc": round(float(auc_roc(right[pick], conf[pick])), 3)
            if 0 < right[pick].sum() < pick.sum()
            else None,
        }
    from pipeline.transcript import LOW_CONFIDENCE_THRESHOLD

    low = conf < LOW_CONFIDENCE_THRESHOLD
    return {
        "words": int(conf.size),
        "wrong": int((1 - right).sum()),
        "auroc": round(float(auc_roc(right, conf)), 4),
        "ece": round(float(ece(right, conf, n_bins=BINS)), 4),
        "low_confidence": {
            "threshold": LOW_CONFIDENCE_THRESHOLD,
            "share": round(float(low.mean()), 4),
            "accuracy_below": round(float(right[low].mean()), 3) if low.any() else None,
            "accuracy_above": round(float(right[~low].mean()), 3) if (~low).any() else None,
        },
        "calibration": table,
        "per_snr_db": per_snr,
    }


def decoder_cost(model: Any, signals: list[np.ndarray], batch: int, rounds: int) -> dict[str, Any]:
    """The label-looping computer alone on fixed encoder outputs, confidence off vs on, alternating."""
    import torch

    from gpu_job.engine.inference import _decoding_computer
    from gpu_job.model import set_word_confidence

    device = model.device
    encoded = []
    for i in range(0, len(signals), batch):
        part = signals[i : i + batch]
        lengths = [s.shape[0] for s in part]
        padded = np.zeros((len(part), max(lengths)), np.float32)
        for row, s in zip(padded, part, strict=True):
            row[: s.shape[0]] = s
        with torch.inference_mode():
            enc, enc_len = model(
                input_signal=torch.from_numpy(padded).to(device),
                input_signal_length=torch.tensor(lengths, device=device),
            )
        encoded.append((enc.transpose(1, 2).contiguous(), enc_len))
    times: dict[str, list[float]] = {"off": [], "on": []}
    graphs: dict[str, str | None] = {}
    tokens = {"off": 0, "on": 0}
    labels: dict[str, list[list[int]]] = {}  # the last round's token ids per hypothesis
    with_confidence = True  # every "on" hypothesis carried one confidence per token
    for r in range(rounds + 1):  # round 0 warms up (CUDA graphs are captured on first use)
        for label in ("off", "on"):
            set_word_confidence(model, label == "on")
            computer = _decoding_computer(model)
            if device.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            count = 0
            batches = []
            with torch.inference_mode():
                for enc, enc_len in encoded:
                    hyps, _ = computer(x=enc, out_len=enc_len)
                    count += int(hyps.current_lengths.sum())
                    batches.append((hyps, int(enc.shape[0])))  # CUDA graphs pad the batch
            if device.type == "cuda":
                torch.cuda.synchronize()
            if r:
                times[label].append(time.perf_counter() - t0)
                tokens[label] = count
                labels[label], carried = _token_ids(batches)
                with_confidence = with_confidence and (carried or label == "off")
            mode = getattr(computer, "cuda_graphs_mode", None)
            graphs[label] = None if mode is None else str(getattr(mode, "value", mode))
    set_word_confidence(model, True)
    off, on = statistics.median(times["off"]), statistics.median(times["on"])
    return {
        "batch": batch,
        "batches": len(encoded),
        "rounds": rounds,
        "off_s": round(off, 4),
        "on_s": round(on, 4),
        "overhead": round(on / off - 1, 4),
        **_spread(times, 4),
        "tokens": tokens,
        # confidence must not change what is decoded, and the batched label-looping computer must
        # return a confidence per token with it (NeMo's `non_blank_step_confidence_precomputed`)
        "same_tokens": labels.get("off") == labels.get("on"),
        "confidence_per_token": with_confidence,
        "cuda_graphs_mode": graphs,
        # None on CPU (no graphs); on CUDA: graphs stayed in the same mode with confidence on
        "cuda_graphs_kept": None
        if device.type != "cuda"
        else graphs.get("on") == graphs.get("off") is not None,
    }


def _token_ids(batches: list[tuple[Any, int]]) -> tuple[list[list[int]], bool]:
    """Each hypothesis's token ids, and whether every one carried a confidence per token."""
    from nemo.collections.asr.parts.utils.rnnt_utils import batched_hyps_to_hypotheses

    ids, carried = [], True
    for hyps, size in batches:
        for hyp in batched_hyps_to_hypotheses(hyps, batch_size=size):
            tokens = [int(t) for t in hyp.y_sequence]
            ids.append(tokens)
            steps = getattr(hyp, "non_blank_step_confidence_precomputed", None)
            carried = carried and steps is not None and len(steps) == len(tokens)
    return ids, carried


def engine_cost(model: Any, paths: list[Path], rounds: int) -> dict[str, Any]:
    """The whole batched engine on the same files, confidence off vs on, alternating."""
    from gpu_job import api
    from gpu_job.model import set_word_confidence

    times: dict[str, list[float]] = {"off": [], "on": []}
    for r in range(rounds + 1):
        for label in ("off", "on"):
            set_word_confidence(model, label == "on")
            t0 = time.perf_counter()
            api.transcribe_many([str(p) for p in paths], model)
            if r:
                times[label].append(time.perf_counter() - t0)
    set_word_confidence(model, True)
    off, on = statistics.median(times["off"]), statistics.median(times["on"])
    return {
        "files": len(paths),
        "rounds": rounds,
        "off_s": round(off, 3),
        "on_s": round(on, 3),
        "overhead": round(on / off - 1, 4),
        **_spread(times, 3),
    }


def _spread(times: dict[str, list[float]], digits: int) -> dict[str, Any]:
    """Every round's seconds (a shared CPU is noisy: the reader sees how much) and the overhead of the
    fastest rounds, which contention from other processes disturbs least."""
    return {
        "off_rounds_s": [round(t, digits) for t in times["off"]],
        "on_rounds_s": [round(t, digits) for t in times["on"]],
        "overhead_fastest": round(min(times["on"]) / min(times["off"]) - 1, 4),
    }


def print_report(result: dict[str, Any]) -> None:
    q = result.get("quality")
    if q:
        print(
            f"\nword confidence on {q['words']} words ({q['wrong']} wrong): AUROC {q['auroc']:.3f} "
            f"(goal >= {GOAL_AUROC}), ECE {q['ece']:.3f}"
        )
        print(f"{'bin':<12}{'words':>7}{'mean conf':>11}{'accuracy':>10}")
        for row in q["calibration"]:
            acc = "-" if row["accuracy"] is None else f"{row['accuracy']:.3f}"
            mc = "-" if row["mean_confidence"] is None else f"{row['mean_confidence']:.3f}"
            print(f"{row['bin']:<12}{row['words']:>7}{mc:>11}{acc:>10}")
        print(f"\n{'SNR dB':<8}{'words':>7}{'accuracy':>10}{'mean conf':>11}{'AUROC':>8}")
        for snr, row in q["per_snr_db"].items():
            auroc = "-" if row["auroc"] is None else f"{row['auroc']:.3f}"
            print(
                f"{snr:<8}{row['words']:>7}{row['accuracy']:>10.3f}{row['mean_confidence']:>11.3f}{auroc:>8}"
            )
        print(f"\n{'variant':<24}{'AUROC':>8}{'ECE':>8}")
        for name, row in result["variants"].items():
            print(f"{name:<24}{row['auroc']:>8.3f}{row['ece']:>8.3f}")
    d = result["decoder_cost"]
    print(
        f"\ndecoder alone ({d['batches']} batches of {d['batch']}): off {d['off_s']:.4f} s, "
        f"on {d['on_s']:.4f} s, overhead {d['overhead']:+.1%} "
        f"(fastest rounds {d['overhead_fastest']:+.1%}); same tokens {d['same_tokens']}, "
        f"a confidence per token {d['confidence_per_token']}; CUDA graphs {d['cuda_graphs_mode']} "
        f"(kept: {d['cuda_graphs_kept']})"
    )
    e = result.get("engine_cost")
    if e:
        print(
            f"engine end to end ({e['files']} files): off {e['off_s']:.3f} s, on {e['on_s']:.3f} s, "
            f"overhead {e['overhead']:+.1%} (fastest rounds {e['overhead_fastest']:+.1%})"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="default: the committed tiny speech model")
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--utterances",
        type=int,
        default=40,
        help="held-out utterances (x each SNR); --speed-only: 20 s windows",
    )
    parser.add_argument(
        "--speed-only",
        action="store_true",
        help="the decoder's cost only, on noise windows (random weights: no words to score)",
    )
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds, off and on alternating")
    parser.add_argument("--batch", type=int, default=32, help="windows per decoder batch")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    from gpu_job import api, confidence
    from tests.gpu_job import accuracy_support as acc

    default = (confidence.WORD_AGGREGATION, dict(confidence.METHOD))
    model_path = args.model or str(acc.SPEECH_MODEL)
    model = api.load_model(model_path, device=args.device)
    result: dict[str, Any] = {
        "model": Path(model_path).name,
        "device": args.device,
        "gpu": model.gpu_job_info.gpu,
        "dtype": model.gpu_job_info.dtype,
        "host": platform.node(),
        "cpu_threads": os.environ.get("GPU_JOB_CPU_THREADS"),
        "method": default[1],
        "aggregation": default[0],
        "snrs_db": list(SNRS_DB),
    }
    if args.speed_only:  # random weights: no words to score; the decoder's cost on 20 s windows of noise
        rng = np.random.default_rng(NOISE_SEED)
        signals = [
            rng.standard_normal(20 * 16000).astype(np.float32) * np.float32(0.1)
            for _ in range(args.utterances)
        ]
        result["decoder_cost"] = decoder_cost(model, signals, args.batch, args.rounds)
        return finish(result, args.out)
    with tempfile.TemporaryDirectory(prefix="confidence-") as folder:
        files = noisy_corpus(args.utterances, Path(folder))
        variants = {}
        for name, variant in VARIANTS.items():
            set_variant(model, variant, default)
            docs = api.transcribe_many([str(p) for p, _, _ in files], model)
            q = quality(marks(files, docs))
            variants[name] = {"auroc": q["auroc"], "ece": q["ece"]}
            if not variant:
                result["quality"] = q
        set_variant(model, {}, default)
        result["variants"] = variants
        result["goal_auroc"] = GOAL_AUROC
        result["meets_goal"] = result["quality"]["auroc"] >= GOAL_AUROC
        import soundfile as sf

        signals = [sf.read(p, dtype="float32")[0] for p, _, _ in files]  # 16 kHz mono, as written
        result["decoder_cost"] = decoder_cost(model, signals, args.batch, args.rounds)
        result["engine_cost"] = engine_cost(model, [p for p, _, _ in files], args.rounds)
    return finish(result, args.out)


def finish(result: dict[str, Any], out: Path) -> int:
    """Writes the JSON; exit 1 when confidence changed the tokens, came without a confidence per token,
    or knocked the CUDA graphs off (what run.sh must see, not only a slower figure)."""
    print_report(result)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {out}")
    d = result["decoder_cost"]
    broken = not d["same_tokens"] or not d["confidence_per_token"] or d["cuda_graphs_kept"] is False
    return 1 if broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
