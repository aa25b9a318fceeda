#!/usr/bin/env python3
"""Diarization on generated 2-4 speaker mono conversations: DER, JER, word-level speaker accuracy.

The set (scripts/make_diarization_set.py) uses TEST_VOICES, which the tiny diarizer never heard in
training; turns overlap in about 15 % of changes. Systems compared:

- one speaker: every speech turn is one speaker (the "everyone is one speaker" baseline);
- clustering: the same window statistics and clustering (NeMo's NME-SC) as the tiny diarizer, without
  the trained projection (the "simple clustering baseline": nothing learned);
- tiny: gpu_job.diarization.TinyDiarizer with the committed tests/fixtures/models/tiny_diarizer.npz
  (scripts/train_tiny_diarizer.py; nothing in it was tuned on this set);
- sortformer: with --sortformer NAME_OR_PATH (GPU; not run on the CPU machine).

DER and JER come from pyannote.metrics (no collar, overlap scored). Word accuracy assigns the true
word spans to speakers with gpu_job.speakers (the rule the pipeline uses) and maps hypothesis speakers
to reference speakers by the optimal one-to-one mapping (pyannote's); "boundary" is the same accuracy
on words within 1 s of a true speaker change (WhisperX-style turn-boundary word error = 1 - it).
Beside the set, --one-voice conversations of a single voice (0.1-1 minute) check that no system
splits one speaker: each row gives the speaker counts it found on them.

    nice -n 10 python benchmarks/diarization.py [--count 8] [--minutes 1 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "functions"), str(REPO / "scripts")]

from make_diarization_set import DEFAULT_CACHE, TEST_VOICES, Conversation, make_conversation  # noqa: E402
from make_speech_corpus import WordBank  # noqa: E402

from gpu_job.diarization import N_FEATURES, TinyDiarizer, log_mel, speech_frames  # noqa: E402
from gpu_job.speakers import SpeakerTurn, assign_speakers  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "diarization.json"
BOUNDARY_S = 1.0
GOAL_DER = 0.10


def one_speaker(audio: np.ndarray, max_speakers: int) -> list[SpeakerTurn]:
    """Every stretch of speech (the tiny diarizer's speech frames) is speaker 0."""
    from gpu_job.diarization import activity_to_turns

    mel = log_mel(audio)
    return activity_to_turns(speech_frames(mel)[:, None].astype(np.float32), frame_s=0.01)


def clustering_baseline() -> TinyDiarizer:
    """The tiny diarizer's window statistics and clustering on the raw features: nothing learned."""
    return TinyDiarizer(
        mean=np.zeros(N_FEATURES, np.float32),
        scale=np.ones(N_FEATURES, np.float32),
        projection=None,
        name="clustering",
    )


def one_voice_counts(
    diarize: Callable[[np.ndarray, int], list[SpeakerTurn]], conversations: list[Conversation]
) -> list[int]:
    """How many speakers ``diarize`` finds in each one-voice conversation (1 is right)."""
    return [len({t.speaker for t in diarize(c.audio, 4)}) for c in conversations]


def evaluate(
    name: str, diarize: Callable[[np.ndarray, int], list[SpeakerTurn]], conversations: list[Conversation]
) -> dict[str, Any]:
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate, JaccardErrorRate

    der, jer = DiarizationErrorRate(), JaccardErrorRate()
    right = total = boundary_right = boundary_total = 0
    audio_s = seconds = 0.0
    for conversation in conversations:
        reference, hypothesis = Annotation(), Annotation()
        for start, end, speaker in conversation.turns:
            reference[Segment(start, end)] = f"ref{speaker}"
        started = time.perf_counter()
        turns = diarize(conversation.audio, 4)
        seconds += time.perf_counter() - started
        audio_s += conversation.duration
        for turn in turns:
            hypothesis[Segment(turn.start, turn.end)] = f"hyp{turn.speaker}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            der(reference, hypothesis)
            jer(reference, hypothesis)
            mapping = der.optimal_mapping(reference, hypothesis)
        words = [{"word": w["word"], "start": w["start"], "end": w["end"]} for w in conversation.words]
        raw = [SpeakerTurn(t.start, t.end, t.speaker) for t in turns]
        assigned = assign_speakers(words, raw) if raw else words
        # assign_speakers renumbers by first appearance: map back through the raw turn labels
        numbering: dict[int, int] = {}
        for word in assigned:
            if "speaker" in word:
                raw_label = _raw_speaker(word, raw)
                numbering.setdefault(int(str(word["speaker"])), raw_label)
        changes = [conversation.turns[i][0] for i in range(1, len(conversation.turns))]
        for truth, word in zip(conversation.words, assigned, strict=True):
            label = f"hyp{numbering[int(str(word['speaker']))]}" if "speaker" in word else None
            ok = mapping.get(label) == f"ref{truth['speaker']}" if label else False
            right += ok
            total += 1
            if any(abs(float(str(truth["start"])) - c) <= BOUNDARY_S for c in changes):
                boundary_right += ok
                boundary_total += 1
    return {
        "system": name,
        "der": round(abs(der), 4),
        "jer": round(abs(jer), 4),
        "word_speaker_accuracy": round(right / max(total, 1), 4),
        "boundary_word_speaker_accuracy": round(boundary_right / max(boundary_total, 1), 4),
        "boundary_word_speaker_error": round(1 - boundary_right / max(boundary_total, 1), 4),
        "words": total,
        "boundary_words": boundary_total,
        "real_time_factor": round(seconds / max(audio_s, 1e-9), 5),
    }


def _raw_speaker(word: dict[str, Any], turns: list[SpeakerTurn]) -> int:
    from gpu_job.speakers import speaker_of

    found = speaker_of(float(word["start"]), float(word["end"]), turns)
    assert found is not None
    return found[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=9)
    parser.add_argument("--minutes", type=float, nargs=2, default=(1.0, 4.0), metavar=("MIN", "MAX"))
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--one-voice", type=int, default=4, help="one-voice conversations beside the set")
    parser.add_argument(
        "--model", type=Path, default=REPO / "tests" / "fixtures" / "models" / "tiny_diarizer.npz"
    )
    parser.add_argument("--sortformer", help="also run NeMo Sortformer (name or .nemo path; GPU)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    bank = WordBank(REPO / DEFAULT_CACHE)
    rng = np.random.default_rng(args.seed)
    conversations = [
        make_conversation(
            args.seed * 1000 + i, 2 + i % 3, float(rng.uniform(*args.minutes)), TEST_VOICES, bank
        )
        for i in range(args.count)
    ]
    solo = [
        make_conversation(args.seed * 1000 + 500 + i, 1, 0.1 + 0.3 * i, TEST_VOICES, bank)
        for i in range(args.one_voice)
    ]
    systems: list[tuple[str, Callable[[np.ndarray, int], list[SpeakerTurn]]]] = [
        ("one speaker", one_speaker),
        ("clustering (NME-SC, untrained)", clustering_baseline().diarize),
    ]
    if args.model.exists():
        systems.append(("tiny diarizer (trained)", TinyDiarizer.load(args.model).diarize))
    else:
        print(f"{args.model} missing: run scripts/train_tiny_diarizer.py first", file=sys.stderr)
    if args.sortformer:
        from gpu_job.diarization import SortformerDiarizer

        device = "cuda" if __import__("torch").cuda.is_available() else "cpu"
        systems.append(
            (f"sortformer {args.sortformer}", SortformerDiarizer.load(args.sortformer, device).diarize)
        )
    rows = [
        {
            **evaluate(name, diarize, conversations),
            "one_voice_speakers_found": one_voice_counts(diarize, solo),
        }
        for name, diarize in systems
    ]
    header = f"{'system':34} {'DER':>7} {'JER':>7} {'word acc':>9} {'boundary':>9} {'RTF':>8}  one voice"
    print(header)
    for row in rows:
        print(
            f"{row['system']:34} {row['der']:7.1%} {row['jer']:7.1%} {row['word_speaker_accuracy']:9.1%} "
            f"{row['boundary_word_speaker_accuracy']:9.1%} {row['real_time_factor']:8.4f}"
            f"  {row['one_voice_speakers_found']}"
        )
    result = {
        "benchmark": "diarization",
        "set": {
            "conversations": len(conversations),
            "speakers": [len(c.voices) for c in conversations],
            "minutes": [round(c.duration / 60, 2) for c in conversations],
            "overlap_share_of_changes": 0.15,
            "voices": "scripts/make_diarization_set.py TEST_VOICES",
            "seed": args.seed,
            "one_voice_minutes": [round(c.duration / 60, 2) for c in solo],
        },
        "goal_der": GOAL_DER,
        "model": str(args.model.relative_to(REPO)) if args.model.is_relative_to(REPO) else str(args.model),
        "rows": rows,
        "machine": {"cpu": platform.processor() or platform.machine(), "python": platform.python_version()},
        "command": "nice -n 10 python benchmarks/diarization.py " + " ".join(argv or sys.argv[1:]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
