"""Specification of RecordFailure: every failure is classified and recorded, whatever shape it arrives in."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pipeline.contracts import FailureRequest, UploadedObject
from pipeline.outcomes import (
    BAD_INPUT_ERROR_NAMES,
    STATUS_CLAIMED,
    STATUS_FAILED,
    STATUS_TRANSCRIBED,
    TransientError,
)
from record_failure.classify import classify
from record_failure.record import MAX_CAUSE_CHARS, record_failure, write_failure
from test_common_support import (
    OUT,
    FakeLambdaContext,
)

from local_emulator.runner import object_created_event
from tests.contract_examples import planned

UPLOAD = UploadedObject(bucket="in", key="a b.mp3", etag="abc", size=10, uri="s3://in/a b.mp3")
SOURCE = UPLOAD.model_dump(mode="json")
PLAN = planned(UPLOAD, duration_s=60.0, output_bucket=OUT).model_dump(mode="json")
# The execution input: S3's event (key URL-encoded) at the root of every state
RAW_EVENT = object_created_event("in", "a b.mp3", size=0, etag='"abc"')


def failure(error: Any = None, claimed: bool = True, plan: bool = False, **more: Any) -> FailureRequest:
    """RecordFailure's payload: the whole state when the failing state caught ``error``."""
    state: dict[str, Any] = {**RAW_EVENT, **more}
    if claimed:
        state["claim"] = {"claimed": True, "source": SOURCE}
    if plan:
        state["plan"] = PLAN
    if error is not None:
        state["error"] = error
    return FailureRequest(state=state, execution_arn="arn:exec:7")


def lambda_error(error_type: str, message: str) -> dict[str, str]:
    cause = {"errorMessage": message, "errorType": error_type, "requestId": "r", "stackTrace": ["  File x"]}
    return {"Error": error_type, "Cause": json.dumps(cause)}


def batch_error(exit_code: int | None, status_reason: str, attempts: int = 1) -> dict[str, str]:
    """A submitJob.sync failure as Step Functions reports it (PascalCase job description)."""
    container: dict[str, Any] = {"Command": ["--request", "{}"], "LogStreamName": "log/1"}
    if exit_code is not None:
        container["ExitCode"] = exit_code
    job = {
        "JobId": "job-1",
        "JobName": "transcribe-a-b-mp3-1",
        "JobQueue": "arn:aws:batch:eu-west-1:1:job-queue/small",
        "Status": "FAILED",
        "StatusReason": status_reason,
        "Container": container,
        "Attempts": [{"Container": dict(container), "StatusReason": status_reason}] * attempts,
    }
    return {"Error": "States.TaskFailed", "Cause": json.dumps(job)}


def stored(table: Any, uri: str = SOURCE["uri"], etag: str = "abc") -> dict[str, Any]:
    return table.get_item(Key={"source_uri": uri, "etag": etag}).get("Item", {})


# ---------------------------------------------------------------- classification of each error shape
@pytest.mark.parametrize("name", sorted(BAD_INPUT_ERROR_NAMES))
def test_typed_lambda_errors_are_bad_input_under_their_own_name(name: str) -> None:
    result = classify(lambda_error(name, "it is broken"))

    assert (result.reason, result.reason_class, result.message) == (name, "bad_input", "it is broken")


def test_other_lambda_errors_are_internal_under_their_error_type() -> None:
    result = classify(lambda_error("KeyError", "'plan'"))

    assert (result.reason, result.reason_class, result.message) == ("KeyError", "internal", "'plan'")


def test_a_bad_input_error_type_wrapped_in_a_generic_error_name_is_still_bad_input() -> None:
    error = lambda_error("NotMedia", "text file")
    error["Error"] = "Lambda.Unknown"

    assert classify(error).reason_class == "bad_input"


def test_a_batch_job_that_exited_65_is_gpu_bad_input() -> None:
    result = classify(batch_error(65, "Essential container in task exited"))

    assert (result.reason, result.reason_class, result.exit_code) == ("gpu_job.bad_input", "bad_input", 65)
    assert result.batch_job_id == "job-1"


def test_a_batch_job_that_exited_70_is_internal() -> None:
    result = classify(batch_error(70, "Essential container in task exited"))

    assert (result.reason, result.reason_class, result.exit_code) == ("batch.job_failed", "internal", 70)


def test_spot_reclaims_exhausting_the_retries_are_internal_with_the_host_reason() -> None:
    result = classify(batch_error(None, "Host EC2 (instance i-0abc) terminated.", attempts=3))

    assert (result.reason, result.reason_class, result.exit_code) == ("batch.job_failed", "internal", None)
    assert "Host EC2 (instance i-0abc) terminated." in result.message
    assert result.attempts == 3


def test_a_job_its_queue_cancelled_in_runnable_is_capacity_unavailable_with_the_queues_reason() -> None:
    # Given a job that JobStateTimeLimitActions cancelled: no attempt, the action's reason (template.yaml)
    reason = (
        "CapacityUnavailable: no g6.xlarge instance launched within 3600 s in eu-west-1 (class SMALL)."
        " Check the EC2 vCPU quota of the instance family (Running On-Demand G and VT instances ..."
    )
    result = classify(batch_error(None, reason, attempts=0))
    # Then it is neither bad input nor internal, and the message is the reason (what to check)
    assert (result.reason, result.reason_class, result.message) == ("CapacityUnavailable", "capacity", reason)
    assert result.batch_job_id == "job-1"


def test_a_reason_that_only_mentions_capacity_is_not_taken_for_the_queues_cancellation() -> None:
    result = classify(batch_error(1, "Essential container in task exited (CapacityUnavailable: no)"))
    assert result.reason_class == "internal"


def test_a_pool_file_nobody_answered_in_time_is_capacity_unavailable() -> None:
    from local_emulator.template import REPO_ROOT

    # Given the Pass state TranscribeInPool's timeout goes to (statemachine/transcribe.asl.json)
    asl = json.loads((REPO_ROOT / "statemachine" / "transcribe.asl.json").read_text())
    error = asl["States"]["PoolCapacityUnavailable"]["Parameters"]
    # Then it is recorded as capacity, with its cause as the message
    result = classify(error)
    assert (result.reason, result.reason_class, result.message) == (
        "CapacityUnavailable",
        "capacity",
        error["Cause"],
    )


def test_the_handler_records_a_capacity_failure_under_its_own_class(aws: tuple[Any, Any]) -> None:
    import record_failure.app

    table, _ = aws
    reason = "CapacityUnavailable: no p5.4xlarge instance launched within 600 s in us-east-1 (class LARGE)."
    result = record_failure.app.handler(
        failure(batch_error(None, reason, 0)).model_dump(mode="json"), FakeLambdaContext()
    )
    assert (result["status"], result["reason"], result["reason_class"]) == (
        "FAILED",
        "CapacityUnavailable",
        "capacity",
    )
    assert stored(table)["reason_class"] == "capacity"


def test_step_functions_errors_are_internal_under_their_name() -> None:
    result = classify({"Error": "States.Timeout", "Cause": "Task timed out after 3600 seconds"})

    assert (result.reason, result.reason_class) == ("States.Timeout", "internal")
    assert result.message == "Task timed out after 3600 seconds"


@pytest.mark.parametrize(
    "error", [None, {}, {"Error": None}, {"Cause": 12}, "boom", {"Error": "X", "Cause": "[1,"}]
)
def test_odd_errors_are_classified_internal_without_raising(error: Any) -> None:
    assert classify(error).reason_class == "internal"


# ---------------------------------------------------------------- recording
def test_a_failed_claim_is_recorded_under_the_key_from_the_raw_event(aws: tuple[Any, Any]) -> None:
    table, s3 = aws

    # Given Claim itself failed: no claim.source, only the raw event at the state's root
    result = record_failure(table, s3, failure(lambda_error("ZeroByteObject", "empty"), claimed=False))

    assert result.model_dump() == {
        "status": STATUS_FAILED,
        "reason": "ZeroByteObject",
        "reason_class": "bad_input",
        "message": "empty",
        "recorded": True,
        "source_uri": "s3://in/a b.mp3",
        "etag": "abc",
        "superseded_by": None,
        "archive": None,
    }
    item = stored(table)
    assert (item["status"], item["reason"], item["reason_class"], item["error"]) == (
        STATUS_FAILED,
        "ZeroByteObject",
        "bad_input",
        "ZeroByteObject",
    )
    assert json.loads(item["cause"])["errorMessage"] == "empty"


def test_a_claimed_item_becomes_failed_and_keeps_its_claim(aws: tuple[Any, Any]) -> None:
    table, s3 = aws
    table.put_item(
        Item={"source_uri": SOURCE["uri"], "etag": "abc", "status": STATUS_CLAIMED, "claimed_at": "t0"}
    )

    record_failure(table, s3, failure(batch_error(70, "exited"), plan=True))

    item = stored(table)
    assert (item["status"], item["reason"], item["claimed_at"]) == (STATUS_FAILED, "batch.job_failed", "t0")
    assert (item["exit_code"], item["batch_job_id"]) == (70, "job-1")


def test_gpu_bad_input_attaches_the_jobs_error_json(aws: tuple[Any, Any]) -> None:
    table, s3 = aws
    document = {"error": "CorruptMedia", "message": "invalid data found", "input": SOURCE["uri"]}
    s3.put_object(Bucket=OUT, Key="transcripts/a b.mp3/error.json", Body=json.dumps(document))

    error = batch_error(65, "Essential container in task exited")
    result = record_failure(table, s3, failure(error, plan=True))

    assert (result.reason, result.reason_class) == ("gpu_job.bad_input", "bad_input")
    assert result.message == "CorruptMedia: invalid data found"
    assert stored(table)["gpu_error"] == document


def test_gpu_bad_input_without_error_json_is_still_recorded(aws: tuple[Any, Any]) -> None:
    table, s3 = aws

    result = record_failure(table, s3, failure(batch_error(65, "exited"), plan=True))

    assert (result.reason, result.recorded) == ("gpu_job.bad_input", True)
    assert "gpu_error" not in stored(table)


def test_the_claimed_source_names_the_item_and_the_execution_is_recorded(aws: tuple[Any, Any]) -> None:
    table, s3 = aws

    result = record_failure(table, s3, failure(lambda_error("DurationOutOfRange", "too long"), plan=True))

    assert (result.reason, result.source_uri) == ("DurationOutOfRange", SOURCE["uri"])
    assert stored(table)["failed_execution_arn"] == "arn:exec:7"


def test_a_transcribed_item_is_not_overwritten_by_a_later_failure(aws: tuple[Any, Any]) -> None:
    table, s3 = aws
    table.put_item(Item={"source_uri": SOURCE["uri"], "etag": "abc", "status": STATUS_TRANSCRIBED})

    result = record_failure(table, s3, failure(lambda_error("TransientError", "throttled")))

    assert result.recorded is False
    assert stored(table)["status"] == STATUS_TRANSCRIBED


def test_a_huge_cause_is_truncated(aws: tuple[Any, Any]) -> None:
    table, s3 = aws

    record_failure(table, s3, failure({"Error": "States.Runtime", "Cause": "x" * 500_000}))

    assert len(stored(table)["cause"]) <= MAX_CAUSE_CHARS


@pytest.mark.parametrize("state", [{}, {"event": "nonsense", "error": 5}, {"claim": {"source": {"uri": 3}}}])
def test_odd_state_is_still_recorded_under_a_placeholder_key(aws: tuple[Any, Any], state: Any) -> None:
    table, s3 = aws

    result = record_failure(table, s3, FailureRequest(state=state))

    assert (result.status, result.reason_class, result.recorded) == (STATUS_FAILED, "internal", True)
    assert stored(table, result.source_uri, result.etag)["status"] == STATUS_FAILED


def test_a_throttled_catalog_update_is_a_transient_error() -> None:
    class ThrottledTable:
        def update_item(self, **_: Any) -> None:
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "UpdateItem")

    with pytest.raises(TransientError):
        write_failure(ThrottledTable(), UPLOAD, {"status": STATUS_FAILED})


def test_the_handler_records_and_summarises(aws: tuple[Any, Any]) -> None:
    import record_failure.app

    table, _ = aws
    payload = failure(lambda_error("NotMedia", "a PDF")).model_dump(mode="json")
    result = record_failure.app.handler(payload, FakeLambdaContext())

    assert (result["status"], result["reason"], result["reason_class"]) == ("FAILED", "NotMedia", "bad_input")
    assert stored(table)["status"] == STATUS_FAILED


def test_the_handler_emits_a_failure_metric_named_by_reason_class(
    aws: tuple[Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    import record_failure.app

    payload = failure({"Error": "States.Timeout"}).model_dump(mode="json")
    record_failure.app.handler(payload, FakeLambdaContext())

    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    # The handler's blob; FailuresRecorded (by ReasonClass) has its own: tests/unit/test_operations_metrics.py
    [blob] = [line for line in emf if "ExecutionsFailedInternal" in line]
    assert blob["ExecutionsFailedInternal"] == [1.0]
