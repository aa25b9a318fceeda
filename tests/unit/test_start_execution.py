"""Specification of the starter (functions/start_execution): UploadQueue records -> named executions.

Each record ends as exactly one of started / duplicate / ignored / invalid / retry; only ``retry``
goes back to the queue (a batch item failure), and no record is ever dropped without a trace.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws
from pipeline.naming import execution_name
from pipeline.uploads import ignore_reason, uploaded_object_from_event
from start_execution.starter import (
    INVALID_PREFIX,
    SqsRecord,
    batch_response,
    plan_record,
    start_executions,
)
from test_common_support import REGION, FakeLambdaContext, aws_environment

from local_emulator.ingress import sqs_event
from local_emulator.runner import object_created_event

ARN = f"arn:aws:states:{REGION}:123456789012:stateMachine:transcribe"
BUCKET = "input-bucket"


def body(
    key: str = "calls/agent call.wav",
    size: int = 1234,
    etag: str = "9b2cf535f27731c974343645a3985328",
    version_id: str | None = None,
) -> str:
    return json.dumps(object_created_event(BUCKET, key, size=size, etag=etag, version_id=version_id))


def record(text: str, message_id: str = "m1") -> SqsRecord:
    return SqsRecord(message_id=message_id, body=text)


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "StartExecution")


class FakeStepFunctions:
    """start_execution as Step Functions answers it: names are unique; queued errors are raised first."""

    def __init__(self, errors: list[Exception] | None = None) -> None:
        self.errors = list(errors or [])
        self.calls: list[dict[str, str]] = []
        self.names: dict[str, str] = {}

    def start_execution(self, stateMachineArn: str, name: str, input: str) -> dict[str, Any]:
        self.calls.append({"name": name, "input": input})
        if self.errors:
            raise self.errors.pop(0)
        if name in self.names and self.names[name] != input:
            raise client_error("ExecutionAlreadyExists")
        self.names[name] = input
        return {"executionArn": f"{stateMachineArn.replace('stateMachine', 'execution')}:{name}"}


# ---------------------------------------------------------------- names
def test_an_upload_starts_one_execution_named_after_the_file_with_the_event_as_input() -> None:
    sfn = FakeStepFunctions()
    text = body()
    [outcome] = start_executions(sfn, ARN, [record(text)])
    expected = execution_name(uploaded_object_from_event(json.loads(text)))
    assert outcome.outcome == "started"
    assert outcome.name == expected and expected.startswith("calls_agent-call-wav-9b2cf535-")
    assert outcome.source_uri == f"s3://{BUCKET}/calls/agent call.wav"
    assert sfn.calls == [{"name": expected, "input": text}]
    assert batch_response([outcome]) == {"batchItemFailures": []}


@pytest.mark.parametrize("key", ["録音/会議.wav", "x" * 1024, "no-extension", "a b+c%d.dat", "clip.3gp"])
def test_every_key_gets_a_valid_name(key: str) -> None:
    plan = plan_record(body(key), ())
    assert plan.outcome == "start" and plan.name is not None
    assert 1 <= len(plan.name) <= 80 and all(c.isascii() and (c.isalnum() or c in "-_") for c in plan.name)


def test_an_overwrite_is_a_new_upload_and_gets_a_new_name() -> None:
    first = plan_record(body("a.wav", etag="1" * 32), ()).name
    second = plan_record(body("a.wav", etag="2" * 32), ()).name
    versioned = plan_record(body("a.wav", etag="1" * 32, version_id="v2"), ()).name
    assert len({first, second, versioned}) == 3


def test_a_zero_byte_upload_is_started_so_claim_records_zero_byte_object() -> None:
    sfn = FakeStepFunctions()
    [outcome] = start_executions(sfn, ARN, [record(body("empty.wav", size=0))])
    assert outcome.outcome == "started"


# ---------------------------------------------------------------- duplicates
def test_the_same_event_delivered_twice_in_one_batch_starts_one_execution() -> None:
    sfn = FakeStepFunctions()
    text = body()
    event = json.loads(text)
    redelivered = json.dumps({**event, "id": "another-delivery"})  # same upload, another event id
    outcomes = start_executions(sfn, ARN, [record(text, "m1"), record(redelivered, "m2")])
    assert [o.outcome for o in outcomes] == ["started", "duplicate"]
    assert outcomes[0].name == outcomes[1].name
    assert len(sfn.names) == 1
    assert batch_response(outcomes) == {"batchItemFailures": []}  # a refused duplicate is done


def test_execution_already_exists_is_a_refused_duplicate_not_a_failure() -> None:
    sfn = FakeStepFunctions([client_error("ExecutionAlreadyExists")])
    [outcome] = start_executions(sfn, ARN, [record(body())])
    assert (outcome.outcome, outcome.reason) == ("duplicate", "ExecutionAlreadyExists")
    assert batch_response([outcome])["batchItemFailures"] == []


# ---------------------------------------------------------------- retries
@pytest.mark.parametrize(
    "error",
    [
        client_error("ThrottlingException"),
        client_error("ServiceUnavailable"),
        client_error("ExecutionLimitExceeded"),
        client_error("AccessDeniedException"),
        client_error("StateMachineDoesNotExist"),
        EndpointConnectionError(endpoint_url="https://states"),
    ],
)
def test_a_record_that_could_not_be_started_goes_back_to_the_queue(error: Exception) -> None:
    sfn = FakeStepFunctions([error])
    outcomes = start_executions(sfn, ARN, [record(body("a.wav"), "m1"), record(body("b.wav"), "m2")])
    assert [o.outcome for o in outcomes] == ["retry", "started"]
    assert batch_response(outcomes) == {"batchItemFailures": [{"itemIdentifier": "m1"}]}


def test_a_retried_record_starts_under_the_same_name() -> None:
    sfn = FakeStepFunctions([client_error("ThrottlingException")])
    text = body()
    [first] = start_executions(sfn, ARN, [record(text)])
    [second] = start_executions(sfn, ARN, [record(text)])
    assert (first.outcome, second.outcome) == ("retry", "started")
    assert first.name == second.name


# ---------------------------------------------------------------- ignored
@pytest.mark.parametrize(
    ("key", "suffixes", "reason"),
    [
        ("folder/", (), "folder_marker"),
        ("notes/readme.TXT", (".txt",), "ignored_suffix:.txt"),
        ("meta.json", (".txt", ".json"), "ignored_suffix:.json"),
    ],
)
def test_folder_markers_and_ignored_suffixes_start_nothing(
    key: str, suffixes: tuple[str, ...], reason: str
) -> None:
    sfn = FakeStepFunctions()
    [outcome] = start_executions(sfn, ARN, [record(body(key, size=0))], suffixes)
    assert (outcome.outcome, outcome.reason) == ("ignored", reason)
    assert sfn.calls == []
    assert batch_response([outcome])["batchItemFailures"] == []


def test_suffixes_match_whole_endings_only() -> None:
    assert ignore_reason("talk.txt.wav", (".txt",)) is None
    assert ignore_reason("talk.wav", ()) is None
    assert ignore_reason("talk.wav", ("",)) is None


# ---------------------------------------------------------------- bad records
@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[1, 2]",
        json.dumps({"hello": "world"}),
        json.dumps({**json.loads(body()), "detail-type": "Object Deleted"}),
        json.dumps({**json.loads(body()), "detail": {"bucket": {"name": BUCKET}}}),
    ],
)
def test_a_record_that_is_no_upload_event_starts_an_execution_under_a_fallback_name(text: str) -> None:
    sfn = FakeStepFunctions()
    [outcome] = start_executions(sfn, ARN, [record(text)])
    assert outcome.outcome == "invalid" and outcome.reason
    assert outcome.name is not None and outcome.name.startswith(INVALID_PREFIX) and len(outcome.name) <= 80
    [call] = sfn.calls
    execution_input = json.loads(call["input"])  # always a JSON object: Claim then raises UnsupportedInput
    assert isinstance(execution_input, dict)
    # And a redelivery of the same bad record is refused by the same name
    [again] = start_executions(sfn, ARN, [record(text)])
    assert again.name == outcome.name


# ---------------------------------------------------------------- the handler
@pytest.fixture
def machine() -> Iterator[str]:
    with aws_environment(IGNORE_KEY_SUFFIXES=".txt, .JSON"), mock_aws():
        sfn = boto3.client("stepfunctions", region_name=REGION)
        iam = boto3.client("iam", region_name=REGION)
        role = iam.create_role(RoleName="sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        arn = sfn.create_state_machine(
            name="transcribe",
            roleArn=role,
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        )["stateMachineArn"]
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("STATE_MACHINE_ARN", arn)
            yield arn


def test_the_handler_starts_named_executions_and_reports_only_failures(machine: str) -> None:
    from start_execution.app import handler

    delivered = body("a.wav")  # delivered twice: the same event (id, sequencer), as EventBridge redelivers it
    bodies = [delivered, delivered, body("notes.txt"), body("b.MP3")]
    response = handler(sqs_event(bodies), FakeLambdaContext())
    assert response == {"batchItemFailures": []}
    sfn = boto3.client("stepfunctions", region_name=REGION)
    names = sorted(e["name"] for e in sfn.list_executions(stateMachineArn=machine)["executions"])
    assert names == sorted({plan_record(b, ()).name for b in (bodies[0], bodies[3])})
