"""`parakeet transcribe`: gpu_job on local files with the tiny speech model, through the console app.

The clip is spoken by espeak-ng at test time; the tiny FastConformer-TDT trained on espeak-ng speech
(tests/fixtures/models/tiny_tdt_speech.nemo, docs/TINY_MODEL.md) must hear most of its words, the
outputs must be the postprocess formatters' files, and the summary must report RTFx and words.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from pipeline.transcript import SCHEMA_VERSION
from typer.testing import CliRunner

from parakeet_cli import exits
from parakeet_cli.app import app
from tests.gpu_job.accuracy_support import SPEECH_MODEL, align, normalise

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GPU_JOB_CPU_THREADS", "1")

# Sentences of the demo (local_emulator.demo.SENTENCES): words the tiny model was trained on.
SAID = "hello good morning. open the window. the big red car. one two three four five."
MAX_WER = 0.4  # one short clip; tests/workflow/test_real_words.py holds it to 25 % over longer speech


def _speak(text: str, target: Path) -> Path:
    wav = target.with_suffix(".espeak.wav")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-g", "4", "-w", str(wav), text], check=True)
    convert = ["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), "-ac", "1", str(target)]
    subprocess.run(convert, check=True)
    wav.unlink()
    return target


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for tool in ("espeak-ng", "ffmpeg"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is required (scripts/setup.sh installs it)")
    if not SPEECH_MODEL.exists():
        pytest.fail(f"{SPEECH_MODEL} is missing: it is a committed fixture (docs/TINY_MODEL.md)")
    root = tmp_path_factory.mktemp("media")
    _speak(SAID, root / "talk.mp3")
    (root / "calls").mkdir()
    _speak("open the green door.", root / "calls" / "short.wav")
    (root / "calls" / "broken.mp3").write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 40)
    (root / "calls" / "notes.txt").write_text("not media: a directory walk skips it")
    return root


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout


def test_a_clip_is_transcribed_to_the_pipeline_formats(media: Path, tmp_path: Path) -> None:
    # When one spoken clip is transcribed with the tiny speech model
    code, stdout = invoke(
        "transcribe",
        str(media / "talk.mp3"),
        "--model",
        str(SPEECH_MODEL),
        "--device",
        "cpu",
        "--out",
        str(tmp_path),
        "--format",
        "json,srt,vtt,txt",
        "--languages",
        "EN",
        "--json",
    )

    # Then it succeeds, and the summary reports the file, its words and the real-time factor
    assert code == exits.OK, stdout
    summary = json.loads(stdout)
    [item] = summary["files"]
    assert item["status"] == "ok" and item["mode"] == "batched"
    assert item["duration_s"] > 2 and item["words"] > 5 and item["rtfx"] > 0
    assert summary["total"] == {**summary["total"], "files": 1, "ok": 1, "failed": 0}
    assert summary["total"]["rtfx"] > 0 and summary["total"]["words"] == item["words"]
    # And every format is written next to the others, named after the clip
    names = {Path(p).name for p in item["outputs"].values()}
    assert names == {"talk.json", "talk.srt", "talk.vtt", "talk.txt"}
    document = json.loads((tmp_path / "talk.json").read_text())
    assert document["schema_version"] == SCHEMA_VERSION and len(document["words"]) == item["words"]
    assert all(0.0 <= w["confidence"] <= 1.0 for w in document["words"])
    assert document["expected_languages"] == ["en"] and document["warnings"] == []
    srt = (tmp_path / "talk.srt").read_text()
    assert srt.startswith("1\n00:00:0") and " --> " in srt
    assert (tmp_path / "talk.vtt").read_text().startswith("WEBVTT\n\n00:00:0")
    # And the text reads as what was said
    heard = [w for w in (normalise(t) for t in (tmp_path / "talk.txt").read_text().split()) if w]
    truth = [w for w in (normalise(t) for t in SAID.split()) if w]
    errors, _ = align(truth, heard)
    assert errors / len(truth) <= MAX_WER, f"said: {SAID}\nheard: {' '.join(heard)}"


def test_a_directory_reports_each_file_and_fails_only_the_bad_one(media: Path, tmp_path: Path) -> None:
    # When a folder with a good clip, undecodable bytes named .mp3 and a text file is transcribed
    code, stdout = invoke(
        "transcribe",
        str(media / "calls"),
        "--model",
        str(SPEECH_MODEL),
        "--device",
        "cpu",
        "--out",
        str(tmp_path),
        "--format",
        "srt",
        "--no-progress",
    )

    # Then the exit code says an item failed, and the summary names it with its typed error
    assert code == exits.FAILED_ITEMS, stdout
    assert "broken.mp3" in stdout and "FAILED" in stdout and "RTFx" in stdout
    assert "notes.txt" not in stdout
    # And the good file's subtitles were still written
    assert (tmp_path / "short.srt").read_text().strip()
    assert not (tmp_path / "broken.srt").exists()


def test_a_per_file_mode_runs_through_the_same_outputs(media: Path, tmp_path: Path) -> None:
    code, stdout = invoke(
        "transcribe",
        str(media / "calls" / "short.wav"),
        "--mode",
        "full",
        "--model",
        str(SPEECH_MODEL),
        "--device",
        "cpu",
        "--out",
        str(tmp_path),
        "--format",
        "txt",
        "--json",
    )
    assert code == exits.OK, stdout
    [item] = json.loads(stdout)["files"]
    assert item["mode"] == "full" and list(item["outputs"]) == ["txt"]


@pytest.mark.parametrize(
    ("args", "code", "error"),
    [
        (["--format", "srt,docx"], exits.USAGE, "usage"),
        (["--mode", "fastest"], exits.USAGE, "usage"),
        (["--device", "tpu"], exits.USAGE, "usage"),
        (["--languages", "en+xx"], exits.USAGE, "usage"),
    ],
)
def test_bad_options_are_usage_errors(media: Path, args: list[str], code: int, error: str) -> None:
    exit_code, stdout = invoke("transcribe", str(media / "talk.mp3"), *args, "--json")
    assert exit_code == code
    assert json.loads(stdout)["error"] == error


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    exit_code, stdout = invoke("transcribe", str(tmp_path / "nope.wav"), "--json")
    assert exit_code == exits.NOT_FOUND
    missing = str(tmp_path / "nope.wav")
    assert json.loads(stdout) == {
        "error": "not_found",
        "exit_code": 3,
        "message": f"no such file or directory: {missing}",
        "path": missing,
    }


def test_two_inputs_with_the_same_name_would_collide(media: Path, tmp_path: Path) -> None:
    other = tmp_path / "talk.wav"
    shutil.copy(media / "calls" / "short.wav", other)
    exit_code, stdout = invoke("transcribe", str(media / "talk.mp3"), str(other), "--json")
    assert exit_code == exits.USAGE
    assert "same outputs" in json.loads(stdout)["message"]
