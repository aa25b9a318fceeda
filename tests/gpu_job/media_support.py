"""Test media helpers (ffmpeg command line), importable from tests as `tests.gpu_job.media_support`."""

from __future__ import annotations

import subprocess


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-y", "-loglevel", "error", *args], check=True)
