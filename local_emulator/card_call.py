"""A support call that reads out a card number, and a finder of that number in any text.

`make demo` and tests/workflow/test_redaction_workflow.py upload this call with Redaction `redact`
(docs/REDACTION.md) and look for the card in everything the stack produced. The call is spoken by
espeak-ng from words the tiny speech model was trained on (scripts/make_speech_corpus.py: the ten
digits and everyday words), so the model transcribes the number as spoken digit words, as a real
model does for a caller reading a card.

The finder is independent of gpu_job.pii (its own digit words, its own patterns): it names what a
reader would recognise as the number, spoken ("four five three nine ...") or written ("4539 1488 ...").
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

# A Luhn-valid card number (a well-known test Visa number), read in groups of four.
CARD = "4539148803436467"
DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SPOKEN_CARD = " ".join(DIGIT_NAMES[int(d)] for d in CARD)
# Every other word is one the tiny model knows, so what is left after redaction is readable.
BEFORE, AFTER = "hello, good morning.", "good night."


def card_call_text() -> str:
    groups = [" ".join(DIGIT_NAMES[int(d)] for d in CARD[i : i + 4]) for i in range(0, len(CARD), 4)]
    return f"{BEFORE} {', '.join(groups)}. {AFTER}"


def make_card_call(target: Path, padding_s: float = 0.0) -> Path:
    """The call as audio in the format of ``target``'s suffix (cached); ``padding_s`` of silence after it
    makes a longer file (so that it is planned as its own Batch job rather than for the pool)."""
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    wav = target.with_suffix(".speech.wav")
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "150", "-g", "4", "-w", str(wav), card_call_text()], check=True
    )
    pad = ["-af", f"apad=pad_dur={padding_s}"] if padding_s > 0 else []
    convert = ["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), *pad, "-ac", "1", str(target)]
    subprocess.run(convert, check=True)
    wav.unlink()
    return target


_WORD = re.compile(r"[a-z]+")
# Three spoken digits in a row: more than any amount, time or count the call says (it says none), and
# fewer than any group of the card.
MIN_SPOKEN_RUN = 3
# Twelve consecutive digits of the card, written, with or without separators: no ETag, size or
# timestamp holds one by chance (about 5 in 10^12 per position).
MIN_WRITTEN_RUN = 12


def _written_patterns() -> list[re.Pattern[str]]:
    pieces = {CARD[i : i + MIN_WRITTEN_RUN] for i in range(len(CARD) - MIN_WRITTEN_RUN + 1)}
    return [re.compile(r"[\s\-]?".join(piece)) for piece in sorted(pieces)]


_WRITTEN = _written_patterns()


def card_leaks(text: str) -> list[str]:
    """What of the card ``text`` holds: runs of spoken digits, or a written run of the card's digits."""
    found: list[str] = []
    run: list[str] = []
    for word in [*_WORD.findall(text.lower()), ""]:
        if word in DIGIT_NAMES:
            run.append(word)
            continue
        if len(run) >= MIN_SPOKEN_RUN:
            found.append(" ".join(run))
        run = []
    found += [m.group(0) for pattern in _WRITTEN for m in pattern.finditer(text)]
    return found
