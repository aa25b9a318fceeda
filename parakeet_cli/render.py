"""A transcript document as json, srt, vtt or txt, with the postprocess Lambda's own formatters.

One implementation: `parakeet transcribe` writes what the pipeline would have written next to
transcript.json (functions/postprocess: subtitles.build_cues, formats.to_srt/to_vtt/to_text).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pipeline.formats import to_srt, to_text, to_vtt
from pipeline.subtitles import build_cues
from pipeline.transcript import TranscriptDocument

FORMATS = ("json", "srt", "vtt", "txt")


def parse_formats(value: str | Iterable[str]) -> list[str]:
    """``"json,srt"`` (or a list of such) -> ["json", "srt"], in the order given, without duplicates."""
    parts = [value] if isinstance(value, str) else list(value)
    chosen: list[str] = []
    for part in parts:
        for name in part.split(","):
            name = name.strip().lower()
            if not name:
                continue
            if name not in FORMATS:
                raise ValueError(f"unknown format {name!r}: choose from {', '.join(FORMATS)}")
            if name not in chosen:
                chosen.append(name)
    if not chosen:
        raise ValueError(f"no format given: choose from {', '.join(FORMATS)}")
    return chosen


def render(document: dict[str, Any], formats: Iterable[str]) -> dict[str, str]:
    """Each requested format's file content; the document is validated once (the consumers' contract)."""
    formats = list(formats)
    rendered: dict[str, str] = {}
    if "json" in formats:
        rendered["json"] = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if any(f != "json" for f in formats):
        transcript = TranscriptDocument.model_validate(document)
        cues = build_cues(transcript)
        writers = {
            "srt": lambda: to_srt(cues),
            "vtt": lambda: to_vtt(cues),
            "txt": lambda: to_text(transcript),
        }
        for name in formats:
            if name != "json":
                rendered[name] = writers[name]()
    return {name: rendered[name] for name in formats}
