"""Fixtures for the workflow specifications: generated speech clips and a fresh local stack per test.

The stack is the real template + ASL in moto's in-process AWS, with the Lambda handlers and the
gpu_job entry point running in this process (local_emulator). Thresholds are lowered through the
template's parameters so that a few seconds of audio exercise both the full and the streaming plan.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local_emulator.stack import RANDOM_MODEL, LocalStack, local_stack
from local_emulator.template import REPO_ROOT

# The rule batched mode falls back to, made visible on short clips: batched switched off, full attention
# up to 5 s, local attention up to 6 s, streaming (4 s chunks) beyond; every file gets its own Batch job
# (tests/workflow/test_batched_default.py runs the production default, batched for every length;
# tests/workflow/test_pool_workflow.py turns the pool on).
WORKFLOW_PARAMETERS = {
    "BatchedMaxSeconds": "0",
    "PoolMaxSeconds": "0",
    "FullMaxSeconds": "5",
    "LocalAttentionMaxSeconds": "6",
    "ChunkSeconds": "4",
    "LeftContextSeconds": "2",
    "RightContextSeconds": "1",
}


def _speak(text: str, target: Path) -> Path:
    """espeak-ng speech, converted by ffmpeg to the target's format (by suffix)."""
    wav = target.with_suffix(".espeak.wav")
    subprocess.run(["espeak-ng", "-s", "160", "-w", str(wav), text], check=True)
    convert = ["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), "-ac", "1", str(target)]
    subprocess.run(convert, check=True)
    return target


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    for tool in ("espeak-ng", "ffmpeg"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is required (scripts/setup.sh installs it)")
    if not RANDOM_MODEL.exists():
        pytest.fail(f"{RANDOM_MODEL} is missing: run `make models`")
    root = tmp_path_factory.mktemp("clips")
    short = _speak("Hello there. This is a short clip.", root / "short.wav")
    long = _speak(
        "This clip is longer than the full attention threshold of this test stack. "
        "It is therefore transcribed in streaming mode, chunk after chunk.",
        root / "long.mp3",
    )
    corrupt = root / "corrupt.mp3"
    corrupt.write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 40)
    return {"short": short, "long": long, "corrupt": corrupt}


@pytest.fixture
def stack() -> Iterator[LocalStack]:
    with local_stack(parameter_overrides=WORKFLOW_PARAMETERS, model=str(RANDOM_MODEL)) as local:
        yield local


@pytest.fixture(scope="session")
def rendered_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """template.yaml as CloudFormation deploys it, definitions inlined (scripts/render_template.py; the
    SAM translator lives in .venv-sam, as in make lint and make security). Read-only: copy to mutate."""
    out = tmp_path_factory.mktemp("rendered") / "template.json"
    subprocess.run(
        [
            str(REPO_ROOT / ".venv-sam" / "bin" / "python"),
            "scripts/render_template.py",
            "--inline-definitions",
            str(out),
        ],
        cwd=REPO_ROOT,
        check=True,
        env={"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"},
    )
    return dict(json.loads(out.read_text()))
