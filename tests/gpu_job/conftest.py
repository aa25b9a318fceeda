"""Shared fixtures for the gpu_job tests: the tiny random TDT model and media generated with ffmpeg.

Media is generated at test time (ffmpeg lavfi sources, espeak-ng speech), never committed. Torch runs
with one intra-op thread: the CI/dev CPU is shared and small per-step decoder ops get much slower when
OpenMP threads compete (see gpu_job.model._apply_cpu_threads).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.gpu_job.media_support import ffmpeg

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GPU_JOB_CPU_THREADS", "1")
# Speakers auto (the default) diarizes files with a few seconds of speech: with the diarizer the repo
# trains, not Sortformer, whose weights cannot be downloaded here.
# Tests of other features transcribe without speaker labels (their text is compared word for word);
# the speaker tests ask for Speakers by argument.
os.environ.setdefault("SPEAKERS", "off")
os.environ.setdefault(
    "GPU_JOB_DIARIZER", str(Path(__file__).resolve().parents[1] / "fixtures" / "models" / "tiny_diarizer.npz")
)

REPO = Path(__file__).resolve().parents[2]
TINY_MODEL = REPO / "build" / "models" / "tiny_random_tdt.nemo"


def _build_tiny_model() -> None:
    script = REPO / "scripts" / "build_tiny_random_model.py"
    subprocess.run([sys.executable, str(script), "--if-missing", "--out", str(TINY_MODEL)], check=True)


@pytest.fixture(scope="session")
def tiny_model_path() -> Path:
    if not TINY_MODEL.exists():
        _build_tiny_model()
    return TINY_MODEL


@pytest.fixture(scope="session")
def tiny_model(tiny_model_path: Path) -> Any:
    from gpu_job import api

    return api.load_model(str(tiny_model_path), device="cpu")


@pytest.fixture(scope="module")
def speech_model() -> Any:
    """The tiny model trained on espeak-ng speech (a committed fixture, docs/TINY_MODEL.md), loaded once
    per module: some specifications switch its attention mode and back."""
    from gpu_job import api
    from tests.gpu_job.accuracy_support import SPEECH_MODEL

    assert SPEECH_MODEL.exists(), f"missing {SPEECH_MODEL} (built by scripts/train_tiny_model.py)"
    return api.load_model(str(SPEECH_MODEL), device="cpu")


@pytest.fixture(scope="session")
def transcript_validator() -> Callable[[dict[str, Any]], Any]:
    """Raises unless a document is a TranscriptDocument (the model the consumers read it with)."""
    from pipeline.transcript import TranscriptDocument

    return TranscriptDocument.model_validate


MakeMedia = Callable[..., Path]


@pytest.fixture(scope="session")
def make_media(tmp_path_factory: pytest.TempPathFactory) -> MakeMedia:
    """make_media(name, seconds, *codec_args, channels=1, rate=16000, video=False) -> path.

    The audio is a 440 Hz tone mixed with pink noise: enough signal for the random model to emit tokens.
    """
    root = tmp_path_factory.mktemp("media")

    def make(
        name: str, seconds: float, *codec_args: str, channels: int = 1, rate: int = 16000, video: bool = False
    ) -> Path:
        path = root / name
        if path.exists():
            return path
        inputs = [
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:sample_rate={rate}:duration={seconds}",
            "-f",
            "lavfi",
            "-i",
            f"anoisesrc=color=pink:sample_rate={rate}:duration={seconds}:amplitude=0.2",
        ]
        graph = "[0:a][1:a]amix=inputs=2[a]"
        maps = ["-map", "[a]"]
        if video:
            inputs += ["-f", "lavfi", "-i", f"testsrc=size=64x48:rate=5:duration={seconds}"]
            maps += ["-map", "2:v"]
        ffmpeg(*inputs, "-filter_complex", graph, *maps, "-ac", str(channels), *codec_args, str(path))
        return path

    return make


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    path = tmp_path_factory.mktemp("speech") / "speech.wav"
    text = "Hello world. This is a test of the transcription pipeline. Good morning, and thank you."
    subprocess.run(["espeak-ng", "-v", "en", "-w", str(path), text], check=True)
    return path


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Any:
    """moto S3 with the input and output buckets the Batch-form tests read from and write to."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket="media-in")
        client.create_bucket(Bucket="media-out")
        yield client
