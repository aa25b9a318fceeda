"""What the probe found: docs/CONTRACTS.md's ProbeResult fields, plus which parser found them.

Named apart from ``pipeline.contracts.ProbeResult`` (the boundary model) because it carries two fields
the contract does not, both logged: ``parser``, so that a wrong answer can be traced to its parser,
and ``track_index``, the container stream index of the audio track described (the same track
gpu_job will decode: the one marked default, else the first; see ``pipeline.media``).
Every parser builds this one type and falls back to the same average bitrate, so a file timed
from its header and the same file timed by FFmpeg are described alike.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class ProbeFinding:
    duration_s: float
    container: str
    codec: str
    sample_rate: int
    channels: int
    bitrate: int
    size: int
    has_audio: bool
    parser: str  # "mutagen", "rf64-header" or "pyav": what answered (logged, not in the contract)
    # No trustworthy length header: duration_s is an upper bound (see probe_audio.length).
    duration_is_estimate: bool = False
    track_index: int | None = None  # None: a single-track format, no stream index to report

    def to_contract(self) -> dict[str, Any]:
        """The ProbeResult dict of docs/CONTRACTS.md."""
        data = asdict(self)
        data.pop("parser")
        data.pop("track_index")
        return data


def average_bitrate(size: int, duration_s: float | None) -> int:
    """Bits per second over the whole object, for when no header states a bitrate (0 without a length)."""
    return round(size * 8 / duration_s) if duration_s and duration_s > 0 else 0
