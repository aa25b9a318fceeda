"""How the commands print seconds, times and positions in a recording (one format each)."""

from __future__ import annotations

from typing import Any


def seconds_text(seconds: Any) -> str:
    """12.345 -> "12.3"; None -> "-"."""
    return "-" if seconds is None else f"{float(seconds):.1f}"


def when_text(value: Any) -> str:
    """An ISO time as "2026-12-07 11:35:30" (UTC, no zone suffix); None -> "-"."""
    return str(value or "-").replace("T", " ").removesuffix("Z")[:19]


def clock(seconds: float) -> str:
    """12.5 -> 0:00:12.5 (a position in the recording)."""
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}.{int(seconds * 10) % 10}"
