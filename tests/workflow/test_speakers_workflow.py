"""A 3-speaker mono conversation through the local workflow (issue 18, docs/SPEAKERS.md).

The stack runs the tiny speech model and the tiny diarizer (local_emulator.stack) on a generated
conversation whose truth is exact (local_emulator.conversation). The same file is uploaded where it
goes to the worker pool and, padded with silence, where it gets its own Batch job, so both writers of
transcript.json are exercised; then with the `speakers=off` override (through `parakeet upload
--speakers off`) and with a bad tag value, which is bad input, never retried.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from local_emulator import event_tap, runner
from local_emulator.conversation import speaker_agreement, three_speakers
from local_emulator.stack import SPEECH_MODEL, LocalStack, local_stack
from local_emulator.template import REGION
from parakeet_cli import exits
from parakeet_cli.connect import publish_local_stack
from tests.local_cli import parakeet

# The conversation is about 60 s: up to 75 s goes to the pool; padded to about 85 s it gets its own job.
PARAMETERS = {"PoolMaxSeconds": "75", "PoolIdleExitSeconds": "5"}
LABELLED = ("pool/conversation.wav", "job/conversation.wav")
OFF = "off/conversation.wav"
BAD = "bad/conversation.wav"
# The tiny diarizer is imperfect: a clear majority of words, not all of them, get the right speaker.
MIN_AGREEMENT = 0.7


@dataclass
class Run:
    stack: LocalStack
    reports: dict[str, runner.ExecutionReport]
    events: dict[str, dict[str, Any]]  # key -> its S3 Object Created event
    truth: list[dict[str, Any]]
    ready: list[dict[str, Any]]  # Transcript Ready events on the bus


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    if not SPEECH_MODEL.exists():
        pytest.fail(f"{SPEECH_MODEL} is missing: it is a committed fixture (docs/TINY_MODEL.md)")
    root = tmp_path_factory.mktemp("conversation")
    wav, conversation = three_speakers(root)
    padded = root / "padded.wav"
    pad = ["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), "-af", "apad=pad_dur=25", str(padded)]
    subprocess.run(pad, check=True)
    with (
        tempfile.TemporaryFile("w+") as job_log,
        local_stack(parameter_overrides=PARAMETERS, model=str(SPEECH_MODEL), job_log=job_log) as local,
    ):
        publish_local_stack(local.deployment)
        queue = event_tap.subscribe("ready-events", {"detail-type": ["Transcript Ready"]})
        reports, events = {}, {}
        for path, key, tags in (
            (wav, LABELLED[0], {}),
            (padded, LABELLED[1], {}),
            (wav, BAD, {"Tagging": "speakers=many"}),
        ):
            event, report = runner.upload_and_run(local.deployment, str(path), key, timeout_s=300, **tags)
            assert report is not None, key
            reports[key], events[key] = report, event
        # The per-upload override through the CLI: `parakeet upload --speakers off` tags the object
        code, uploaded = parakeet(
            "upload",
            str(wav),
            "--prefix",
            "off/",
            "--speakers",
            "off",
            "--wait",
            "--timeout",
            "300",
            "--json",
        )
        assert code == exits.OK, uploaded
        yield Run(local, reports, events, conversation.words, event_tap.drain(queue))


def _catalog_row(run: Run, key: str) -> dict[str, Any]:
    table = boto3.resource("dynamodb", region_name=REGION).Table(run.stack.deployment.catalog_table)
    rows = [r for r in table.scan()["Items"] if r.get("key") == key]
    assert len(rows) == 1, rows
    return rows[0]


def _output(run: Run, key: str, name: str) -> str:
    body = boto3.client("s3", region_name=REGION).get_object(
        Bucket=run.stack.deployment.output_bucket, Key=f"transcripts/{key}/{name}"
    )["Body"]
    return str(body.read().decode("utf-8"))


def _document(run: Run, key: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(_output(run, key, "transcript.json"))
    return document


@pytest.mark.slow
@pytest.mark.parametrize("key", LABELLED)
def test_the_conversation_is_transcribed_with_its_speakers(run: Run, key: str) -> None:
    report = run.reports[key]
    assert report.status == "SUCCEEDED", report.cause
    assert report.output is not None and report.output["plan"]["path"] == (
        "pool" if "pool/" in key else "job"
    )
    document = _document(run, key)
    speakers, words = document["speakers"], document["words"]
    # Then the diarizer labelled the words, and most of them with the right speaker
    assert speakers["used"] == "diarization" and speakers["count"] >= 2, speakers
    assert speakers["model"].startswith("tiny-diarizer")
    assert words and all(isinstance(w.get("speaker"), int) for w in words)
    assert speaker_agreement(words, run.truth) >= MIN_AGREEMENT
    # And every word says how sure the model was
    assert all(0.0 <= w["confidence"] <= 1.0 for w in words)
    # And segments break at speaker turns: each segment's words are its speaker's
    for segment in document["segments"]:
        inside = [w for w in words if segment["start"] <= w["start"] and w["end"] <= segment["end"]]
        assert inside and {w["speaker"] for w in inside} == {segment["speaker"]}, segment
    # And the catalog row and its Transcript Ready event carry the count
    row = _catalog_row(run, key)
    assert row["status"] == "TRANSCRIBED" and int(row["speaker_count"]) == speakers["count"]
    [ready] = [e for e in run.ready if e["detail"]["upload"]["key"] == key]
    assert ready["detail"]["speaker_count"] == speakers["count"]
    code, status = parakeet("status", key, "--json")
    assert code == exits.OK and status["latest"]["speaker_count"] == speakers["count"]


@pytest.mark.slow
@pytest.mark.parametrize("key", LABELLED)
def test_subtitles_and_text_name_the_speakers(run: Run, key: str) -> None:
    count = _document(run, key)["speakers"]["count"]
    srt, vtt, txt = (_output(run, key, f"transcript.{ext}") for ext in ("srt", "vtt", "txt"))
    named = {int(n) for n in re.findall(r"\[Speaker (\d)\]", srt)}
    assert named == set(range(1, count + 1))
    assert {int(n) for n in re.findall(r"<v Speaker (\d)>", vtt)} == named
    paragraphs = [p for p in txt.strip().split("\n\n") if p.strip()]
    assert len(paragraphs) > 1 and all(re.match(r"\[Speaker \d\] ", p) for p in paragraphs), txt[:300]


@pytest.mark.slow
def test_search_by_speaker_finds_a_phrase_said_by_that_speaker_only(run: Run) -> None:
    key = LABELLED[0]
    segments = _document(run, key)["segments"]
    speakers = {s["speaker"] for s in segments}

    def said_by(text: str) -> set[int]:
        return {s["speaker"] for s in segments if text in s["text"].lower()}

    # Given a phrase of the transcript itself that only one speaker says (whatever the ASR heard)
    candidates = [s for s in segments if len(s["text"].split()) >= 3]
    phrase, who = next(
        (s["text"].lower().strip(" .,"), s["speaker"])
        for s in sorted(candidates, key=lambda s: -len(s["text"]))
        if len(said_by(s["text"].lower().strip(" .,"))) == 1
    )
    # When searching for it as that speaker, it is found there
    code, found = parakeet("search", phrase, "--speaker", str(who + 1), "--limit", "100", "--json")
    assert code == exits.OK
    mine = [h for h in found["hits"] if h["key"] == key]
    assert mine and all(h["speaker"] == who for h in found["hits"])
    # And as any other speaker of the transcript, not in this file
    for other in speakers - {who}:
        code, none = parakeet("search", phrase, "--speaker", str(other + 1), "--limit", "100", "--json")
        assert code == exits.OK and [h for h in none["hits"] if h["key"] == key] == []


@pytest.mark.slow
def test_speakers_off_per_upload_leaves_the_words_unlabelled(run: Run) -> None:
    document = _document(run, OFF)
    assert document["speakers"]["requested"] == "off" and document["speakers"]["used"] == "off"
    assert all("speaker" not in w or w["speaker"] is None for w in document["words"])
    assert "[Speaker" not in _output(run, OFF, "transcript.srt")
    assert "<v " not in _output(run, OFF, "transcript.vtt")
    assert not _catalog_row(run, OFF).get("speaker_count")


@pytest.mark.slow
def test_a_bad_speakers_tag_is_bad_input_never_retried(run: Run) -> None:
    report = run.reports[BAD]
    assert report.status == "FAILED"
    assert "Transcribe" not in report.states  # no GPU job was ever asked for it
    row = _catalog_row(run, BAD)
    assert (row["status"], row["reason_class"], row["error"]) == ("FAILED", "bad_input", "UnsupportedInput")
    assert "speakers" in row["message"] and "many" in row["message"]
    jobs = [j for j in run.stack.bridge.batch_jobs if BAD in " ".join(j.command)]
    assert jobs == []
