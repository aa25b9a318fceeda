"""The five handlers composed the way the ASL composes them (payloads as in docs/CONTRACTS.md).

Not a workflow test (tests/workflow runs the real ASL and checks its paths against the models): this
checks that what each handler returns is what the next one needs, with gpu_job stood in for by
writing its outputs at the plan's ``request.output_prefix``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import claim_source.app
import index_transcript.app
import plan_job.app
import postprocess.app
import pytest
import record_failure.app
from moto import mock_aws
from pipeline.s3uri import parse_s3_uri
from test_common_support import (
    OUT,
    AwsClients,
    FakeLambdaContext,
    aws_environment,
    create_bucket,
    create_catalog_table,
)

from local_emulator.runner import object_created_event

ARNS = {
    "JOB_QUEUE_SMALL": "arn:aws:batch:eu-west-1:1:job-queue/small",
    "JOB_QUEUE_MEDIUM": "arn:aws:batch:eu-west-1:1:job-queue/medium",
    "JOB_QUEUE_LARGE": "arn:aws:batch:eu-west-1:1:job-queue/large",
    "JOB_DEFINITION_BATCHED": "arn:aws:batch:eu-west-1:1:job-definition/batched:1",
    "JOB_DEFINITION_FULL": "arn:aws:batch:eu-west-1:1:job-definition/full:1",
    "JOB_DEFINITION_LOCAL_ATTENTION": "arn:aws:batch:eu-west-1:1:job-definition/local:1",
    "JOB_DEFINITION_STREAMING": "arn:aws:batch:eu-west-1:1:job-definition/streaming:1",
}
EXECUTION = "arn:aws:states:eu-west-1:1:execution:transcribe:run-1"
KEY = "meetings/2026/stand up.wav"
AUDIO = bytes(range(256)) * 16  # 4096 bytes: the uploaded object (the chain never decodes it)
ETAG = hashlib.md5(AUDIO).hexdigest()


def upload_event(key: str = KEY, etag: str = f'"{ETAG}"', size: int = 4096) -> dict[str, Any]:
    """S3's Object Created event (the key URL-encoded, as S3 sends it)."""
    return object_created_event("input-bucket", key, size=size, etag=etag)


def fake_gpu_job(s3: Any, plan: dict[str, Any], source: dict[str, Any]) -> None:
    """What gpu_job leaves behind on success: transcript.json at the plan's output prefix."""
    words = [
        {"start": 0.5 * i, "end": 0.5 * i + 0.4, "word": w}
        for i, w in enumerate(["Good", "morning,", "everyone."])
    ]
    document = {
        "schema_version": "1.1",
        "source": {"uri": source["uri"], "etag": source["etag"], "size": source["size"]},
        "media": {"duration_s": 2.0, "codec": "pcm_s16le", "sample_rate": 16000, "channels": 1},
        "model": {"name": "nvidia/parakeet-tdt-0.6b-v3", "revision": None},
        "mode": plan["mode"],
        "chunking": plan["request"]["chunking"],
        "language": "en",
        "text": "Good morning, everyone.",
        "segments": [{"id": 0, "start": 0.0, "end": 1.4, "text": "Good morning, everyone.", "words": words}],
        "words": words,
        "timings": {"download": 0.1, "decode": 0.1, "load": 5.0, "inference": 0.5, "total": 5.7},
        "hardware": {"device": "cuda", "gpu": "NVIDIA L4", "dtype": "bfloat16"},
    }
    location = parse_s3_uri(plan["request"]["output_prefix"] + "transcript.json")
    s3.put_object(Bucket=location.bucket, Key=location.key, Body=json.dumps(document))


@pytest.fixture(scope="module")
def clients() -> Iterator[AwsClients]:
    with aws_environment(**ARNS) as built:
        yield built


@pytest.fixture
def aws(clients: AwsClients) -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        create_bucket(clients.s3)
        create_bucket(clients.s3, "input-bucket")  # Claim, Postprocess and Index look at what the key holds
        clients.s3.put_object(Bucket="input-bucket", Key=KEY, Body=AUDIO)
        yield create_catalog_table(clients.dynamodb), clients.s3


def test_an_upload_flows_from_claim_to_a_transcribed_catalog_item(aws: tuple[Any, Any]) -> None:
    _, s3 = aws
    ctx = FakeLambdaContext()
    state: dict[str, Any] = upload_event()

    state["claim"] = claim_source.app.handler({"event": dict(state), "execution_arn": EXECUTION}, ctx)
    assert state["claim"]["claimed"] is True
    source = state["claim"]["source"]
    state["probe"] = {
        "duration_s": 2.0,
        "container": "wav",
        "codec": "pcm_s16le",
        "sample_rate": 16000,
        "channels": 1,
        "bitrate": 256000,
        "size": 4096,
        "has_audio": True,
    }
    state["plan"] = plan_job.app.handler({"source": source, "probe": state["probe"]}, ctx)
    fake_gpu_job(s3, state["plan"], source)
    state["job"] = {"job_id": "job-1", "status": "SUCCEEDED"}
    state["postprocess"] = postprocess.app.handler({"source": source, "plan": state["plan"]}, ctx)
    item = index_transcript.app.handler(
        {k: state[k] for k in ("plan", "job", "postprocess")} | {"source": source}, ctx
    )

    assert json.loads(json.dumps(state)) == state  # every state result is plain JSON, as Step Functions needs
    assert (item["status"], item["source_uri"], item["execution_arn"]) == (
        "TRANSCRIBED",
        "s3://input-bucket/meetings/2026/stand up.wav",
        EXECUTION,
    )
    for uri in item["outputs"].values():
        location = parse_s3_uri(uri)
        s3.head_object(Bucket=location.bucket, Key=location.key)  # raises if an output is missing
    srt = s3.get_object(Bucket=OUT, Key="transcripts/meetings/2026/stand up.wav/transcript.srt")[
        "Body"
    ].read()
    assert b"Good morning, everyone." in srt


def test_a_duplicate_event_is_not_claimed_twice(aws: tuple[Any, Any]) -> None:
    ctx = FakeLambdaContext()

    first = claim_source.app.handler({"event": upload_event(), "execution_arn": EXECUTION}, ctx)
    second = claim_source.app.handler({"event": upload_event(), "execution_arn": EXECUTION + "-dup"}, ctx)

    assert (first["claimed"], second["claimed"], second["reason"]) == (True, False, "already_claimed")


def test_a_gpu_job_rejecting_the_input_is_recorded_as_bad_input_and_can_be_retried(
    aws: tuple[Any, Any],
) -> None:
    table, s3 = aws
    ctx = FakeLambdaContext()
    state: dict[str, Any] = upload_event()
    state["claim"] = claim_source.app.handler({"event": dict(state), "execution_arn": EXECUTION}, ctx)
    source = state["claim"]["source"]
    state["probe"] = {
        "duration_s": 2.0,
        "container": "wav",
        "codec": "pcm_s16le",
        "sample_rate": 16000,
        "channels": 1,
        "bitrate": 256000,
        "size": 4096,
        "has_audio": True,
    }
    state["plan"] = plan_job.app.handler({"source": source, "probe": state["probe"]}, ctx)
    error_json = {"error": "CorruptMedia", "message": "invalid frame at 1.2 s", "input": source["uri"]}
    location = parse_s3_uri(state["plan"]["request"]["output_prefix"] + "error.json")
    s3.put_object(Bucket=location.bucket, Key=location.key, Body=json.dumps(error_json))
    job = {
        "JobId": "job-2",
        "Status": "FAILED",
        "StatusReason": "Essential container in task exited",
        "Container": {"ExitCode": 65},
        "Attempts": [{"Container": {"ExitCode": 65}}],
    }
    state["error"] = {"Error": "States.TaskFailed", "Cause": json.dumps(job)}

    failure = record_failure.app.handler({"state": state, "execution_arn": EXECUTION}, ctx)

    assert (failure["reason"], failure["reason_class"]) == ("gpu_job.bad_input", "bad_input")
    item = table.get_item(Key={"source_uri": source["uri"], "etag": ETAG})["Item"]
    assert (item["status"], item["gpu_error"]["error"]) == ("FAILED", "CorruptMedia")
    # And re-uploading the same bytes claims the file again (the retry path for FAILED items)
    retry = claim_source.app.handler({"event": upload_event(), "execution_arn": EXECUTION + "-retry"}, ctx)
    assert retry["claimed"] is True
