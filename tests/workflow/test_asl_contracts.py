"""The ASL's paths against the models: each state hands the next exactly what its model accepts.

statemachine/transcribe.asl.json moves data with ``InputPath``, ``Parameters``, ``ResultSelector``
and ``ResultPath``; pipeline.contracts says what each state reads and returns (``STATE_CONTRACTS``).
These specifications walk one upload through the real definition with model instances as the task
results, apply every path the way Step Functions does (a small applier for the ``$.a.b`` and ``.$``
forms the ASL uses), and validate each payload with its consumer's model and each selected result
with its producer's model; then they do the same for the Catch of every task into RecordFailure.
The executions under moto (test_per_file_workflow.py) run the same definition end to end.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from pipeline.contracts import (
    STATE_CONTRACTS,
    CatalogItem,
    ClaimResult,
    JobResult,
    Plan,
    PoolScaling,
    TranscriptionRequest,
)
from pipeline.uploads import uploaded_object_from_event
from record_failure.record import identify, planned_prefix

from local_emulator.runner import object_created_event
from local_emulator.template import REPO_ROOT
from tests.contract_examples import planned, postprocessed, probed

ASL = json.loads((REPO_ROOT / "statemachine" / "transcribe.asl.json").read_text())
CONTEXT = {
    "Execution": {"Id": "arn:aws:states:us-east-1:123456789012:execution:transcribe:run-1"},
    "State": {"EnteredTime": "2026-12-02T05:00:00.000Z", "RetryCount": 0},
    "Task": {"Token": "AQCEAAAAKgAAAAMAAAAAAAAAAb4tok3n"},
}
EVENT = object_created_event("media-in", "talks/a talk + Q&A.mp3", size=123456, etag='"abc123"')


# ---------------------------------------------------------------- a JSONPath applier (the ASL's forms)
def read_path(data: Any, path: str) -> Any:
    """``$``, ``$.a.b`` on the state, ``$$.a.b`` on the context object; a missing key is an error,
    as States.Runtime is."""
    root, rest = (CONTEXT, path[2:]) if path.startswith("$$") else (data, path[1:])
    value = root
    for part in filter(None, rest.split(".")):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(f"{path}: no {part!r}")
        value = value[part]
    return value


def resolve(template: Any, data: Any) -> Any:
    """Parameters / ResultSelector: ``"key.$": path`` takes the value at the path; the rest is literal."""
    if isinstance(template, dict):
        return {
            (key[:-2] if key.endswith(".$") else key): read_path(data, value)
            if key.endswith(".$")
            else resolve(value, data)
            for key, value in template.items()
        }
    if isinstance(template, list):
        return [resolve(item, data) for item in template]
    return template


def write_path(data: dict[str, Any], path: str, value: Any) -> Any:
    """ResultPath: ``$`` replaces the input, ``$.a.b`` sets a key in a copy of it."""
    if path == "$":
        return value
    result = copy.deepcopy(data)
    *parents, last = path[2:].split(".")
    node = result
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return result


def payload_of(state: dict[str, Any], state_input: dict[str, Any]) -> Any:
    effective = read_path(state_input, state.get("InputPath", "$"))
    return resolve(state["Parameters"], effective) if "Parameters" in state else effective


def selected(state: dict[str, Any], raw_result: Any) -> Any:
    return resolve(state["ResultSelector"], raw_result) if "ResultSelector" in state else raw_result


# ---------------------------------------------------------------- what each task returns
def batch_job_description(submitted: dict[str, Any]) -> dict[str, Any]:
    """A SUCCEEDED DescribeJobs entry as Step Functions hands it to ResultSelector (PascalCase)."""
    return {
        "JobId": "5b0a1c4e-job",
        "JobName": submitted["JobName"],
        "JobQueue": submitted["JobQueue"],
        "JobDefinition": submitted["JobDefinition"],
        "Status": "SUCCEEDED",
        "Container": {"Command": submitted["ContainerOverrides"]["Command"], "ExitCode": 0},
        "Attempts": [{"Container": {"ExitCode": 0}, "StatusReason": "Essential container in task exited"}],
    }


def catalog_item(payload: dict[str, Any]) -> dict[str, Any]:
    source = payload["source"]
    item = CatalogItem(source_uri=source["uri"], etag=source["etag"], status="TRANSCRIBED")
    return item.model_dump(mode="json")


def task_results(duration_s: float) -> dict[str, Callable[[Any], Any]]:
    """The raw result of each task, given its payload (model instances dumped as the handlers do)."""
    upload = uploaded_object_from_event(EVENT)
    plan = planned(upload, duration_s=duration_s)
    return {
        "Claim": lambda p: ClaimResult(claimed=True, source=upload).model_dump(mode="json"),
        "Probe": lambda p: probed(duration_s).model_dump(mode="json"),
        "Plan": lambda p: plan.model_dump(mode="json"),
        "Transcribe": batch_job_description,
        "ScalePool": lambda p: PoolScaling(
            waiting=3, in_flight=1, active_workers=1, wanted_workers=1, started=[]
        ).model_dump(mode="json"),
        "TranscribeInPool": lambda p: JobResult(
            job_id="pool-worker-7", status="SUCCEEDED", gpu_seconds=0.42, batch_files=10
        ).model_dump(mode="json"),
        "Postprocess": lambda p: postprocessed(Plan.model_validate(p["plan"])).model_dump(mode="json"),
        "Index": catalog_item,
    }


def walk_happy_path(duration_s: float = 20000.0) -> list[tuple[str, dict[str, Any], Any, Any]]:
    """(state name, state input, payload, selected result) for every task from StartAt to the end, the
    Choices evaluated on the state (IsClaimed: claimed; ChoosePath: the plan's path)."""
    results = task_results(duration_s)
    visited = []
    name, data = ASL["StartAt"], copy.deepcopy(EVENT)
    while name:
        state = ASL["States"][name]
        if state["Type"] == "Choice":
            taken = [rule["Next"] for rule in state["Choices"] if choice_matches(rule, data)]
            name = taken[0] if taken else state["Default"]
            continue
        payload = payload_of(state, data)
        result = selected(state, results[name](payload))
        visited.append((name, data, payload, result))
        data = write_path(data, state["ResultPath"], result)
        name = None if state.get("End") else state["Next"]
    return visited


def choice_matches(rule: dict[str, Any], data: dict[str, Any]) -> bool:
    """The two comparison forms the ASL's Choices use."""
    value = read_path(data, rule["Variable"])
    if "BooleanEquals" in rule:
        return value is rule["BooleanEquals"]
    return value == rule["StringEquals"]


HAPPY_PATH = walk_happy_path()  # streaming (20000 s): the request carries a window; its own job
POOL_PATH = walk_happy_path(duration_s=42.0)  # short: the pool
TASKS = [name for name, s in ASL["States"].items() if s["Type"] == "Task"]


# ---------------------------------------------------------------- specifications
def test_every_task_of_the_definition_has_its_models() -> None:
    assert set(TASKS) == set(STATE_CONTRACTS)
    assert [name for name, *_ in HAPPY_PATH] == [
        "Claim",
        "Probe",
        "Plan",
        "Transcribe",
        "Postprocess",
        "Index",
    ]
    assert [name for name, *_ in POOL_PATH] == [
        "Claim",
        "Probe",
        "Plan",
        "ScalePool",
        "TranscribeInPool",
        "Postprocess",
        "Index",
    ]


BOTH_PATHS = [("job", *step) for step in HAPPY_PATH] + [("pool", *step) for step in POOL_PATH]
IDS = [f"{path}-{step[0]}" for path, *step in BOTH_PATHS]


@pytest.mark.parametrize(("path", "name", "state_input", "payload", "result"), BOTH_PATHS, ids=IDS)
def test_each_payload_is_what_its_state_accepts_and_each_result_what_it_returns(
    path: str, name: str, state_input: dict[str, Any], payload: Any, result: Any
) -> None:
    request_model, result_model = STATE_CONTRACTS[name]
    # Given the state input the previous states built, When the state's paths are applied
    # Then the payload is a valid request model and the selected result a valid result model
    if name == "Transcribe":  # the job's request travels as the container command
        flag, request_json = payload["ContainerOverrides"]["Command"]
        assert flag == "--request"
        request = TranscriptionRequest.model_validate_json(request_json)
        plan = state_input["plan"]
        assert request.model_dump(mode="json") == plan["request"]
        assert (payload["JobName"], payload["JobQueue"], payload["JobDefinition"]) == (
            plan["job_name"],
            plan["job_queue"],
            plan["job_definition"],
        )
    elif name == "TranscribeInPool":  # the PoolTask travels as the message body, to the plan's queue
        task = request_model.model_validate(payload["MessageBody"])  # type: ignore[union-attr]
        assert task.model_dump(mode="json")["request"] == state_input["plan"]["request"]
        assert payload["QueueUrl"] == "${PoolQueueUrl}"
    else:
        assert request_model is not None
        request_model.model_validate(payload)
    assert result_model is not None
    result_model.model_validate(result)


def test_the_results_land_where_the_contract_says() -> None:
    paths = {name: ASL["States"][name]["ResultPath"] for name in TASKS}
    assert paths == {
        "Claim": "$.claim",
        "Probe": "$.probe",
        "Plan": "$.plan",
        "Transcribe": "$.job",
        "ScalePool": "$.pool",
        "TranscribeInPool": "$.job",
        "Postprocess": "$.postprocess",
        "Index": "$.catalog",
        "RecordFailure": "$.failure",
        "RecordSuperseded": "$.failure",
    }


def test_probe_reads_the_claimed_upload_with_its_key_decoded_once() -> None:
    [(_, _, payload, _)] = [h for h in HAPPY_PATH if h[0] == "Probe"]
    assert payload["key"] == "talks/a talk + Q&A.mp3"
    assert EVENT["detail"]["object"]["key"] != payload["key"]  # S3 sent it URL-encoded


def test_index_gets_the_summary_so_nothing_reads_transcript_json_twice() -> None:
    [(_, _, payload, _)] = [h for h in HAPPY_PATH if h[0] == "Index"]
    assert payload["postprocess"]["summary"]["word_count"] == 2
    assert payload["job"] == {"job_id": "5b0a1c4e-job", "status": "SUCCEEDED"}


def failed_state(name: str, state_input: dict[str, Any]) -> dict[str, Any]:
    """The state RecordFailure gets when ``name`` fails: its Catch puts the error at ResultPath."""
    catch = catch_all(name)
    error = {"Error": "States.TaskFailed", "Cause": "{}"}
    return write_path(state_input, catch["ResultPath"], error)


def catch_all(name: str) -> dict[str, Any]:
    """The task's last Catch, the one for States.ALL (TranscribeInPool catches its typed ends first)."""
    catch = ASL["States"][name]["Catch"][-1]
    assert catch["ErrorEquals"] == ["States.ALL"]
    return catch


STEPS = {name: state_input for _, name, state_input, *_ in BOTH_PATHS}
# ScalePool is best effort: its failure goes on to TranscribeInPool (next test), not to RecordFailure.
RECORDED = {name: state_input for name, state_input in STEPS.items() if name != "ScalePool"}


def test_a_failed_scaling_call_hands_the_pool_task_what_it_reads() -> None:
    # Given ScalePool failed (throttled) after Plan
    state = failed_state("ScalePool", STEPS["ScalePool"])
    skipped = ASL["States"][catch_all("ScalePool")["Next"]]
    # When the Pass state fills in for its result
    state = write_path(state, skipped["ResultPath"], payload_of(skipped, state))
    # Then TranscribeInPool's message is built from the same state as after a successful call
    body = payload_of(ASL["States"][skipped["Next"]], state)["MessageBody"]
    assert body["request"] == STEPS["ScalePool"]["plan"]["request"]


@pytest.mark.parametrize(("name", "state_input"), RECORDED.items(), ids=list(RECORDED))
def test_every_catch_hands_record_failure_a_failure_request_naming_the_upload(
    name: str, state_input: dict[str, Any]
) -> None:
    # Given the task fails (before Claim produced a source, or after)
    assert catch_all(name)["Next"] == "RecordFailure"
    record = ASL["States"]["RecordFailure"]
    # When its Catch and RecordFailure's Parameters are applied
    payload = payload_of(record, failed_state(name, state_input))
    request = STATE_CONTRACTS["RecordFailure"][0].model_validate(payload)  # type: ignore[union-attr]
    # Then the request names the upload: from claim.source, or from the raw event when Claim failed
    assert identify(request.state) == uploaded_object_from_event(EVENT)
    assert request.state["error"]["Error"] == "States.TaskFailed"
    assert request.execution_arn == CONTEXT["Execution"]["Id"]
    # And once Plan ran, the prefix where gpu_job writes error.json is found
    expected_prefix = state_input["plan"]["request"]["output_prefix"] if "plan" in state_input else None
    assert planned_prefix(request.state) == expected_prefix


@pytest.mark.parametrize(("name", "state_input"), RECORDED.items(), ids=list(RECORDED))
def test_a_superseded_upload_is_caught_by_name_and_recorded_as_such(
    name: str,
    state_input: dict[str, Any],
) -> None:
    # Given the task raised SourceSuperseded (a Lambda's errorType, a pool worker's answer); a Batch job
    # cannot be caught by name: it exits 66, which RecordFailure reads from the job description
    catches = ASL["States"][name]["Catch"]
    by_name = [c for c in catches if c["ErrorEquals"] == ["SourceSuperseded"]]
    if name == "Transcribe":
        assert by_name == []
        return
    [catch] = by_name
    assert catches.index(catch) < len(catches) - 1  # before States.ALL
    # When its Catch and RecordSuperseded's Parameters are applied
    record = ASL["States"][catch["Next"]]
    assert record["Resource"] == ASL["States"]["RecordFailure"]["Resource"]
    state = write_path(state_input, catch["ResultPath"], {"Error": "SourceSuperseded", "Cause": "{}"})
    request = STATE_CONTRACTS["RecordSuperseded"][0].model_validate(payload_of(record, state))  # type: ignore[union-attr]
    # Then RecordFailure is told the outcome and gets the upload, and the execution ends as RecordFailure's do
    assert request.outcome == "SUPERSEDED"
    assert identify(request.state) == uploaded_object_from_event(EVENT)
    assert (record["ResultPath"], record["Next"]) == ("$.failure", "IsSuperseded")


def test_record_failure_returns_a_failure_result_and_then_fails_the_execution() -> None:
    record = ASL["States"]["RecordFailure"]
    assert record["Next"] == "IsSuperseded" and ASL["States"]["Failed"]["Type"] == "Fail"
    assert record["Catch"][0]["Next"] == "Failed"
    assert STATE_CONTRACTS["RecordFailure"][1].__name__ == "FailureResult"  # type: ignore[union-attr]


def test_a_superseded_upload_ends_in_its_own_succeed_state_every_other_failure_in_failed() -> None:
    # FailureResult.status is what the Choice reads: SUPERSEDED -> Superseded, and a cold upload's
    # ARCHIVED -> Archived, RESTORING -> Restoring (docs/ARCHIVES.md); none is counted as failed
    from pipeline.contracts import FailureResult

    choice = ASL["States"]["IsSuperseded"]
    assert choice["Type"] == "Choice" and choice["Default"] == "Failed"
    routes = {(rule["Variable"], rule["StringEquals"]): rule["Next"] for rule in choice["Choices"]}
    assert routes == {
        ("$.failure.status", "SUPERSEDED"): "Superseded",
        ("$.failure.status", "ARCHIVED"): "Archived",
        ("$.failure.status", "RESTORING"): "Restoring",
    }
    for status, state in routes.items():
        assert ASL["States"][state]["Type"] == "Succeed"
        assert status[1] in FailureResult.model_fields["status"].annotation.__args__  # type: ignore[union-attr]
    assert ASL["States"]["RecordFailure"]["ResultPath"] == "$.failure"


def test_index_gets_the_execution_arn_for_its_completion_event() -> None:
    assert ASL["States"]["Index"]["Parameters"]["execution_arn.$"] == "$$.Execution.Id"


def test_a_pool_task_whose_workers_all_died_is_recorded_as_a_lost_worker() -> None:
    # Given TranscribeInPool's token answered pool.worker_lost (its message was dead-lettered)
    [dead_lettered, *_] = ASL["States"]["TranscribeInPool"]["Catch"]
    assert dead_lettered["ErrorEquals"] == ["pool.worker_lost"]
    lost = ASL["States"][dead_lettered["Next"]]
    # When the Pass state names the reason
    state = write_path(STEPS["TranscribeInPool"], lost["ResultPath"], payload_of(lost, {}))
    payload = payload_of(ASL["States"][lost["Next"]], state)
    request = STATE_CONTRACTS["RecordFailure"][0].model_validate(payload)  # type: ignore[union-attr]
    # Then RecordFailure gets the upload and the typed reason pool.worker_lost
    assert request.state["error"]["Error"] == "pool.worker_lost"
    assert identify(request.state) == uploaded_object_from_event(EVENT)
