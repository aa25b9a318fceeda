"""Run under strace by tests/unit/hostile_inputs.py: decode each named input with one side.

    python hostile_runner.py probe|gpu_job|unguarded '{"case": "/path", ...}'

Everything a decode may load lazily is loaded first (imports, one good input, one bad), so that
between a case's sentinels only the decoder itself can open files or sockets. Each input is opened
by name before its start sentinel: FFmpeg sees the name too (the strongest case: HLS and image2
detection look at it). Prints one JSON object: case -> exception class name or null.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import wave
from collections.abc import Callable
from typing import Any

SENTINEL = "/nonexistent-decode-sentinel"


def _probe(f: Any) -> None:
    from probe_audio.probe import probe

    probe(f, 86400.0)


def _gpu_job(f: Any) -> None:
    from gpu_job.audio import AudioDecoder

    with AudioDecoder(f, None, 86400.0) as dec:
        for _ in dec.blocks(16000):
            pass


def _unguarded(f: Any) -> None:
    """What the decoder did before the allow-list: the control that shows the harness sees leaks."""
    import av

    with av.open(f, mode="r") as container:
        for _ in container.demux():
            pass


SIDES: dict[str, Callable[[Any], None]] = {"probe": _probe, "gpu_job": _gpu_job, "unguarded": _unguarded}


def _mark(kind: str, case: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.open(f"{SENTINEL}/{kind}/{case}", os.O_RDONLY)


def main() -> None:
    side, cases = SIDES[sys.argv[1]], json.loads(sys.argv[2])
    good = io.BytesIO()
    with wave.open(good, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(bytes(32000))
    for warm_up in (good.getvalue(), b"not media at all\n" * 400):
        try:
            side(io.BytesIO(warm_up))
        except Exception as exc:  # the warm-up only loads code paths
            str(exc)
    errors: dict[str, str | None] = {}
    for case, path in cases.items():
        with open(path, "rb") as f:
            _mark("start", case)
            try:
                side(f)
                errors[case] = None
            except Exception as exc:  # the type is the result
                errors[case] = type(exc).__name__
            _mark("end", case)
    print(json.dumps(errors))


if __name__ == "__main__":
    main()
