"""Custom vocabularies: keyword recall/precision/F-score with and without phrase boosting, the WER of
utterances without the vocabulary's words, and the decoding speed with and without boosting.

Usage: nice -n 10 .venv/bin/python benchmarks/boosting.py [--rare 80] [--control 80] [--weights 3,5,7,10,20]
       [--device cpu] [--media build/boosting_media] [--out benchmarks/results/boosting.json]

`--media DIR` keeps the generated utterances (WAVs + manifest.json, ~15 MB): a machine without
espeak-ng (the lent GPU, benchmarks/gpu/run.sh step 6) reads them from there instead.

Model: the tiny speech model (tests/fixtures/models/tiny_tdt_speech.nemo), or --model. Data, held out
(never in its training corpus: a seed of its own, sentences the corpus never makes):
- rare: English sentences of 3-8 English words with one rare word (scripts/rare_words.py: a Spanish or
  German word of the model's vocabulary, spoken by an English voice) at a random place;
- control: the same kind of English sentences without a rare word.
Both are noisy: white noise at -45 to -30 dBFS (the training corpus: -65 to -45). The vocabulary is the
rare words, each with the weight under test (VOCABULARY_BOOST 1.0, the default).

Everything goes through the batched engine (gpu_job.api.transcribe_many: VAD windows, shared batches,
per-stream trees), once without and once with the vocabulary per weight. Keyword precision, recall and
F-score are NeMo's own (`context_biasing_utils.compute_fscore`, the code behind
scripts/asr_context_biasing/compute_key_words_fscore.py) on a manifest of reference/prediction pairs.
WER: word edit distance (kaldialign) over reference words. Speed: the same batches of encoder output
decoded by the label-looping decoder without trees and with every row boosted, alternately, several
rounds each (median), so both see the same machine load; and the whole encoder+decoder call the same
way. On CPU the multi-model advances with NeMo's PyTorch loop; on CUDA with Triton it runs a kernel.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]
os.environ.setdefault("GPU_JOB_CPU_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from scripts import rare_words  # noqa: E402

DEFAULT_OUT = ROOT / "benchmarks" / "results" / "boosting.json"
DEFAULT_MODEL = ROOT / "tests" / "fixtures" / "models" / "tiny_tdt_speech.nemo"
SEED = 19_019  # not a corpus split seed (scripts/make_speech_corpus.py: base*10 + 0..4)
NOISE_DB = (-45.0, -30.0)
WER_RISE_LIMIT = 0.005  # issue 19: the WER without the words must not rise by more than 0.5 points


def make_sets(out: Path, rare: int, control: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from scripts import make_speech_corpus as corpus

    rng = np.random.default_rng(SEED)
    english = corpus.VOCABULARY["en"]
    speakers = rare_words.english_speakers()
    words_rare = rare_words.rare_candidates()
    bank = corpus.WordBank(rare_words.ESPEAK_CACHE)

    def one(name: str, with_rare: bool) -> dict[str, Any]:
        words = [english[int(i)] for i in rng.integers(len(english), size=int(rng.integers(3, 9)))]
        if with_rare:
            words.insert(int(rng.integers(len(words) + 1)), words_rare[int(rng.integers(len(words_rare)))])
        speaker = speakers[int(rng.integers(len(speakers)))]
        noise = float(rng.uniform(*NOISE_DB))
        utt = rare_words.speak(
            words,
            speaker,
            noise_db=noise,
            seed=int(rng.integers(2**31)),
            bank=bank,
            gain=float(rng.uniform(0.3, 0.9)),
        )
        path = rare_words.write_wav(out / f"{name}.wav", utt.audio)
        return {"path": str(path), "text": utt.text, "speaker": speaker.name, "noise_db": round(noise, 1)}

    return (
        [one(f"rare_{i:03d}", True) for i in range(rare)],
        [one(f"control_{i:03d}", False) for i in range(control)],
    )


def load_or_make_sets(
    media: Path | None, tmp: Path, rare: int, control: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    manifest = media / "manifest.json" if media else None
    if manifest is not None and manifest.exists():
        sets = json.loads(manifest.read_text())
        for item in sets["rare"] + sets["control"]:
            item["path"] = str(media / Path(item["path"]).name)  # type: ignore[operator]
        return sets["rare"][:rare], sets["control"][:control]
    out = media or tmp
    out.mkdir(parents=True, exist_ok=True)
    made = make_sets(out, rare, control)
    if manifest is not None:
        manifest.write_text(json.dumps({"rare": made[0], "control": made[1]}, indent=1))
    return made


def hypotheses(model: Any, items: list[dict[str, Any]], vocabulary: Any) -> list[str]:
    from gpu_job import api

    documents = api.transcribe_many([i["path"] for i in items], model, vocabularies=[vocabulary] * len(items))
    out = []
    for document in documents:
        if not isinstance(document, dict):
            raise RuntimeError(f"transcription failed: {document}")
        out.append(" ".join(str(w["word"]).lower() for w in document["words"]))
    return out


def wer(items: list[dict[str, Any]], hyps: list[str]) -> float:
    import kaldialign

    pairs = zip(items, hyps, strict=True)
    errors = sum(kaldialign.edit_distance(i["text"].split(), h.split())["total"] for i, h in pairs)
    return errors / max(1, sum(len(i["text"].split()) for i in items))


def keyword_scores(items: list[dict[str, Any]], hyps: list[str], keywords: list[str]) -> dict[str, float]:
    """NeMo's compute_fscore reads a manifest and wants a non-empty prediction first (order does not
    change its counts), so the pairs are written with a non-empty one first."""
    from nemo.collections.asr.parts.context_biasing.context_biasing_utils import compute_fscore

    pairs = sorted(zip((i["text"] for i in items), hyps, strict=True), key=lambda pair: not pair[1])
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as manifest:
        for text, pred in pairs:
            manifest.write(json.dumps({"text": text, "pred_text": pred}) + "\n")
    try:
        precision, recall, fscore = compute_fscore(manifest.name, keywords)
    finally:
        os.unlink(manifest.name)
    return {"precision": round(precision, 4), "recall": round(recall, 4), "fscore": round(fscore, 4)}


def speed(model: Any, items: list[dict[str, Any]], vocabulary: Any, rounds: int) -> dict[str, Any]:
    """Decoder-only and encoder+decoder seconds per batch, plain vs boosted, alternated per round."""
    import soundfile
    import torch

    from gpu_job.boosting import trees
    from gpu_job.engine.inference import transcribe_batch

    signals = [soundfile.read(i["path"], dtype="float32")[0] for i in items]
    batch_ids = trees(model).ids([vocabulary] * len(signals), 1.0)
    lengths = [s.shape[0] for s in signals]
    padded = np.zeros((len(signals), max(lengths)), dtype=np.float32)
    for row, s in zip(padded, signals, strict=True):
        row[: s.shape[0]] = s
    device = model.device
    with torch.inference_mode():
        encoded, encoded_len = model(
            input_signal=torch.from_numpy(padded).to(device),
            input_signal_length=torch.tensor(lengths, device=device),
        )
    x = encoded.transpose(1, 2)
    computer = model.decoding.decoding.decoding_computer
    boosted_ids = torch.tensor(batch_ids, device=device)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    def timed(fn: Any) -> float:
        sync()
        t0 = time.perf_counter()
        with torch.inference_mode():
            fn()
        sync()
        return time.perf_counter() - t0

    timed(lambda: computer(x=x, out_len=encoded_len))  # warm both paths
    timed(lambda: computer(x=x, out_len=encoded_len, multi_biasing_ids=boosted_ids))
    decode = {"plain": [], "boosted": []}
    whole = {"plain": [], "boosted": []}
    for _ in range(rounds):
        decode["plain"].append(timed(lambda: computer(x=x, out_len=encoded_len)))
        decode["boosted"].append(
            timed(lambda: computer(x=x, out_len=encoded_len, multi_biasing_ids=boosted_ids))
        )
        whole["plain"].append(timed(lambda: transcribe_batch(model, signals)))
        whole["boosted"].append(timed(lambda: transcribe_batch(model, signals, batch_ids)))
    med = {
        name: {m: statistics.median(v) for m, v in runs.items()}
        for name, runs in (("decoder", decode), ("batch", whole))
    }
    return {
        "batch_rows": len(signals),
        "audio_s": round(sum(lengths) / 16000, 2),
        "rounds": rounds,
        "decoder_s": {m: round(v, 4) for m, v in med["decoder"].items()},
        "decoder_slowdown": round(med["decoder"]["boosted"] / med["decoder"]["plain"], 3),
        "encoder_decoder_s": {m: round(v, 4) for m, v in med["batch"].items()},
        "encoder_decoder_slowdown": round(med["batch"]["boosted"] / med["batch"]["plain"], 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rare", type=int, default=48, help="utterances with a rare word")
    parser.add_argument("--control", type=int, default=48, help="utterances without one")
    parser.add_argument("--weights", default="5,10", help="phrase weights to measure (comma-separated)")
    parser.add_argument("--speed-rounds", type=int, default=5)
    parser.add_argument("--media", type=Path, default=None, help="keep / reuse the utterances here")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    from pipeline.settings import Settings

    from gpu_job import api
    from gpu_job.boosting import Vocabulary

    model = api.load_model(args.model, device=args.device)
    keywords = list(rare_words.rare_candidates())
    results: dict[str, Any] = {
        "model": Path(args.model).name,
        "device": str(model.device),
        "cpu": platform.processor() or platform.machine(),
        "torch_threads": int(os.environ["GPU_JOB_CPU_THREADS"]),
        "gpu": model.gpu_job_info.gpu,
        "keywords": keywords,
        "noise_dbfs": list(NOISE_DB),
        "seed": SEED,
        "vocabulary_boost": Settings().vocabulary_boost,
        "runs": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        rare, control = load_or_make_sets(args.media, Path(tmp), args.rare, args.control)
        control_words = sum(len(i["text"].split()) for i in control)
        results["utterances"] = {"rare": len(rare), "control": len(control), "control_words": control_words}
        plain_rare, plain_control = hypotheses(model, rare, None), hypotheses(model, control, None)
        baseline = {
            "keywords": keyword_scores(rare, plain_rare, keywords),
            "rare_set_wer": round(wer(rare, plain_rare), 4),
            "control_wer": round(wer(control, plain_control), 4),
        }
        results["without_boosting"] = baseline
        for weight in (float(w) for w in args.weights.split(",")):
            path = Path(tmp) / f"rare-words-{weight:g}.txt"
            path.write_text("".join(f"{word} | {weight:g}\n" for word in keywords))
            vocabulary = Vocabulary.from_file(path, Settings(), name=f"rare-words-w{weight:g}")
            boosted_rare = hypotheses(model, rare, vocabulary)
            boosted_control = hypotheses(model, control, vocabulary)
            control_wer = wer(control, boosted_control)
            run = {
                "weight": weight,
                "keywords": keyword_scores(rare, boosted_rare, keywords),
                "rare_set_wer": round(wer(rare, boosted_rare), 4),
                "control_wer": round(control_wer, 4),
                "control_wer_rise_points": round((control_wer - baseline["control_wer"]) * 100, 2),
                "control_wer_within_limit": control_wer - baseline["control_wer"] <= WER_RISE_LIMIT,
                "speed": speed(model, rare[:16], vocabulary, args.speed_rounds),
                "examples": [
                    {"ref": r["text"], "plain": p, "boosted": b}
                    for r, p, b in list(zip(rare, plain_rare, boosted_rare, strict=True))[:4]
                ],
            }
            results["runs"].append(run)

    print(
        f"{results['model']} on {results['device']}: {args.rare} rare-word + {args.control} control "
        "utterances; kw = keywords (NeMo compute_fscore), ctl = control set, x = boosted/plain time"
    )
    print(
        f"{'weight':>7} {'kw P':>6} {'kw R':>6} {'kw F':>6} {'ctl WER':>8} {'rise pt':>8} {'dec x':>6} "
        f"{'enc+dec x':>9}"
    )
    b = results["without_boosting"]
    print(
        f"{'none':>7} {b['keywords']['precision']:6.3f} {b['keywords']['recall']:6.3f} "
        f"{b['keywords']['fscore']:6.3f} {b['control_wer']:8.4f} {'':>8} {'1.000':>6} {'1.000':>9}"
    )
    for run in results["runs"]:
        k, s = run["keywords"], run["speed"]
        print(
            f"{run['weight']:7g} {k['precision']:6.3f} {k['recall']:6.3f} {k['fscore']:6.3f} "
            f"{run['control_wer']:8.4f} {run['control_wer_rise_points']:8.2f} {s['decoder_slowdown']:6.3f} "
            f"{s['encoder_decoder_slowdown']:9.3f}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
