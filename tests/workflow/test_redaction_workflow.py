"""A call with a spoken card number, through the local workflow with Redaction `redact` (docs/REDACTION.md).

The issue's done-when: every text output (json, srt, vtt, txt, segments/search) and the redacted audio
hide the card number, and no unredacted digit run reaches any output, log line or event. The stack runs
the tiny speech model (it transcribes the digits the call reads out), the real ASL and the Lambdas in
process; everything they wrote or said is searched for the card (local_emulator.card_call.card_leaks):
every object of the output bucket, every catalog row, every event on the stack's bus, every log record
of any logger, the Batch job's console and whatever else was printed. The same call under a prefix without
redaction is the control: there the finder must find the card, or the test proves nothing.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_emulator import event_tap, runner
from local_emulator.card_call import SPOKEN_CARD, card_leaks, make_card_call
from local_emulator.stack import SPEECH_MODEL, LocalStack, local_stack
from local_emulator.template import REGION
from parakeet_cli import exits
from parakeet_cli.connect import publish_local_stack
from tests.local_cli import parakeet

# Files up to 15 s go to the worker pool, longer ones get their own Batch job: the call is short, and the
# same call with 10 s of silence after it is long, so both writers of transcript.json are exercised.
PARAMETERS = {
    "PoolMaxSeconds": "15",
    "PoolIdleExitSeconds": "5",
    "FullMaxSeconds": "60",
    "RedactionByPrefix": "support/=redact",
    "RedactAudioByPrefix": "support/=true",
    "Speakers": "off",  # one caller: the text is compared as spoken, without speaker labels
}
REDACTED = ("support/pool/call.wav", "support/job/call.mp3")
CONTROL = "open/call.wav"


class Records(logging.Handler):
    """Every record any logger emits while attached, formatted with its extra fields."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {json.dumps(record.__dict__, default=str)}")


@dataclass
class Run:
    stack: LocalStack
    reports: dict[str, runner.ExecutionReport]
    job_console: str
    log_lines: list[str]
    events: list[dict[str, Any]] = field(default_factory=list)


def _attach(handler: logging.Handler) -> list[logging.Logger]:
    """The handler on the root logger and on every logger that does not pass records up to it (the
    Lambdas' Powertools logger among them: imported first, so that it exists)."""
    import lambda_runtime.observability  # noqa: F401

    loggers = [logging.getLogger()]
    loggers += [
        item
        for item in logging.Logger.manager.loggerDict.values()
        if isinstance(item, logging.Logger) and not item.propagate
    ]
    for logger in loggers:
        logger.addHandler(handler)
    return loggers


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    if not SPEECH_MODEL.exists():
        pytest.fail(f"{SPEECH_MODEL} is missing: it is a committed fixture (docs/TINY_MODEL.md)")
    root = tmp_path_factory.mktemp("card-call")
    short = make_card_call(root / "call.wav")
    long = make_card_call(root / "call.mp3", padding_s=10.0)
    records = Records()
    console = io.StringIO()  # whatever is printed outside the Batch job (the pool's worker threads too)
    loggers = _attach(records)
    try:
        with (
            contextlib.redirect_stdout(console),
            contextlib.redirect_stderr(console),
            tempfile.TemporaryFile("w+") as job_log,
            local_stack(parameter_overrides=PARAMETERS, model=str(SPEECH_MODEL), job_log=job_log) as local,
        ):
            publish_local_stack(local.deployment)
            queue = event_tap.subscribe(
                "every-event", {"source": [{"prefix": "parakeet"}, {"prefix": "aws"}]}
            )
            reports = {}
            for path, key in ((short, REDACTED[0]), (long, REDACTED[1]), (short, CONTROL)):
                _, report = runner.upload_and_run(local.deployment, str(path), key, timeout_s=300)
                assert report is not None and report.status == "SUCCEEDED", report and report.cause
                reports[key] = report
            job_log.seek(0)
            done = Run(
                local, reports, job_log.read() + console.getvalue(), records.lines, event_tap.drain(queue)
            )
            yield done
    finally:
        for logger in loggers:
            logger.removeHandler(records)


def _s3_objects(bucket: str, prefix: str) -> dict[str, bytes]:
    s3 = boto3.client("s3", region_name=REGION)
    keys = [
        obj["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for obj in page.get("Contents", [])
    ]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def _outputs_of(run: Run, key: str) -> dict[str, bytes]:
    """Every object the execution of ``key`` names as an output, and every object under its prefix."""
    report = run.reports[key]
    assert report.output is not None
    named = dict(report.output["postprocess"]["outputs"])
    bucket = run.stack.deployment.output_bucket
    found = _s3_objects(bucket, f"transcripts/{key}/")
    for uri in named.values():
        b, _, k = uri.removeprefix("s3://").partition("/")
        found[k] = boto3.client("s3", region_name=REGION).get_object(Bucket=b, Key=k)["Body"].read()
    return found


@pytest.mark.slow
def test_the_control_call_says_the_card_so_the_finder_can_fail(run: Run) -> None:
    # Given the same call uploaded where Redaction is off, the finder finds the card in its outputs
    texts = [body.decode("utf-8") for body in _outputs_of(run, CONTROL).values()]
    assert texts and all(card_leaks(text) for text in texts)
    assert (
        SPOKEN_CARD in json.loads(_outputs_of(run, CONTROL)[f"transcripts/{CONTROL}/transcript.json"])["text"]
    )


@pytest.mark.slow
@pytest.mark.parametrize("key", REDACTED)
def test_every_output_hides_the_card(run: Run, key: str) -> None:
    report = run.reports[key]
    assert report.output is not None
    plan = report.output["plan"]
    assert plan["path"] == ("pool" if "/pool/" in key else "job")
    assert plan["request"]["redaction"] == "redact" and plan["request"]["redact_audio"] is True
    outputs = _outputs_of(run, key)
    names = {Path(k).name for k in outputs}
    assert {"transcript.json", "transcript.srt", "transcript.vtt", "transcript.txt"} <= names
    assert "redacted_audio.flac" in names and any(k.endswith(".jsonl") for k in outputs)
    for name, body in outputs.items():
        if name.endswith(".flac"):
            continue
        assert card_leaks(body.decode("utf-8")) == [], name
    document = json.loads(outputs[f"transcripts/{key}/transcript.json"])
    # The card is one [CREDIT_CARD] placeholder with its audio span; the rest of the call is still there
    assert [(r["type"]) for r in document["redactions"]] == ["CREDIT_CARD"]
    assert document["redaction"]["entities"] == {"CREDIT_CARD": 1}
    assert "[CREDIT_CARD]" in document["text"] and "good night" in document["text"]


@pytest.mark.slow
@pytest.mark.parametrize("key", REDACTED)
def test_the_redacted_audio_no_longer_says_the_card(run: Run, key: str, tmp_path: Path) -> None:
    from gpu_job import api

    # Given the silenced copy the run wrote next to the outputs
    audio = _outputs_of(run, key)[f"transcripts/{key}/redacted_audio.flac"]
    path = tmp_path / "redacted_audio.flac"
    path.write_bytes(audio)
    # When the same model transcribes it
    heard = api.transcribe(str(path), api.load_model(str(SPEECH_MODEL), "cpu"), mode="full")["text"]
    # Then the digits are gone and the words around them are not
    assert card_leaks(heard) == [], heard
    assert "good" in heard.split(), heard


@pytest.mark.slow
def test_nothing_unredacted_reaches_the_catalog_the_events_or_the_logs(run: Run) -> None:
    table = boto3.resource("dynamodb", region_name=REGION).Table(run.stack.deployment.catalog_table)
    rows = table.scan()["Items"]
    # The catalog never holds text, even of the control; it counts what was redacted, by type
    assert rows and all(card_leaks(json.dumps(row, default=str)) == [] for row in rows)
    redacted = {r["key"]: r for r in rows if r.get("key") in REDACTED}
    assert set(redacted) == set(REDACTED)
    assert all(r["redacted_entities"] == {"CREDIT_CARD": 1} for r in redacted.values())
    # Every event on the bus: the completion events of the three calls and S3's own
    ready = [e for e in run.events if e.get("detail-type") == "Transcript Ready"]
    assert {e["detail"]["upload"]["key"] for e in ready} == {*REDACTED, CONTROL}
    assert card_leaks(json.dumps(run.events)) == []
    # Every log record (Lambdas, gpu_job, pool worker, emulator), the Batch job's console and all printed
    # (the capture sees the Lambdas' Powertools records: the Probe logs its whole result)
    assert any(line.startswith("probe result") for line in run.log_lines)
    assert card_leaks("\n".join(run.log_lines)) == []
    assert card_leaks(run.job_console) == []


@pytest.mark.slow
def test_search_never_returns_the_card(run: Run) -> None:
    # The control's words are searchable, so a search for the digits would find them where they were kept
    code, control = parakeet("search", "four five three nine", "--json")
    assert code == exits.OK and [h["key"] for h in control["hits"]] == [CONTROL]
    # The redacted calls answer with their placeholder, never with the digits
    code, found = parakeet("search", "CREDIT_CARD", "--limit", "100", "--json")
    assert code == exits.OK and {h["key"] for h in found["hits"]} == set(REDACTED)
    assert all(card_leaks(h["text"]) == [] for h in found["hits"])


def test_the_finder_finds_spoken_and_written_card_numbers() -> None:
    assert card_leaks(f"my card is {SPOKEN_CARD} thanks")
    assert card_leaks("card 4539 1488 0343 6467") and card_leaks("4539-1488-0343-6467")
    assert card_leaks("hello good morning [CREDIT_CARD] good night, etag 9f2c41, took 1.25 s") == []
