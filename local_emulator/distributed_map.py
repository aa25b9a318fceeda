"""Bridges for moto 5.2.5's Distributed Map, used by the backfill (statemachine/backfill.asl.json).

Test support only, installed by ``local_emulator.bridges.bridged`` and undone with it. moto runs a
``"Mode": "DISTRIBUTED"`` Map in-process: each item's ItemProcessor runs in one of MaxConcurrency
worker threads of the parent execution (that part is kept: it bounds concurrency as AWS does).
What it does differently from AWS, and what is bridged here:

16. ItemReader ``arn:aws:states:::s3:listObjectsV2``: moto makes one ListObjectsV2 call (at most
    1,000 objects, no pagination) and hands over boto3's ``Contents`` (``ETag``, a datetime
    ``LastModified``). Bridge: every page is read, and each item is what AWS hands a Distributed Map,
    ``{Key, Etag, Size, LastModified (epoch seconds), StorageClass}``.
17. ItemReader ``ReaderConfig.InputType: MANIFEST`` (an S3 Inventory manifest.json): moto's parser
    rejects the value (``InputTypeValue`` has CSV and JSON only), so the state machine cannot even be
    created. Bridge: MANIFEST is accepted; the manifest is read with the ItemReader's ``s3:getObject``,
    then every CSV (optionally gzip) inventory file it lists, from its destination bucket; each row is
    one item, a dict keyed by the manifest's ``fileSchema`` (values as strings, keys URL-encoded, as in
    the inventory). ORC and Parquet inventories are not read here.
18. ToleratedFailurePercentage(Path): moto parses it and ignores it ("no effect on the program
    evaluation"): a failed item becomes ``null`` in the results and the Map succeeds whatever the
    count. Bridge: after the items ran, more failed items than the tolerated percentage fail the Map
    with ``States.ExceedToleratedFailureThreshold``, as on AWS. Not bridged: AWS stops starting new
    items once the threshold is crossed; here every item still runs first. A tolerated failed item
    stays ``null`` in the results.
19. ``states:startExecution(.sync:2)``: moto passes the state's PascalCase parameters
    (``StateMachineArn``, ``Name``, ``Input``) straight to boto3 (KeyError 'StateMachineArn'), and
    hands back camelCase responses (``executionArn``) where the integration reads PascalCase. Bridge:
    request and response are normalised against the botocore Step Functions model (as gap 1 does for
    Batch), so ``.sync:2`` waits and hands over ``{Output, Status, ...}`` as on AWS, and a name
    already used fails with ``StepFunctions.ExecutionAlreadyExistsException``.
20. ``ListMapRuns`` of an execution whose interpreter has not set up yet (just started) dies with
    AttributeError (``exec_worker.env`` is None). AWS answers an empty list. Bridge: an empty list.
21. Every service task creates its boto3 client on call (``asl.utils.boto_client.boto_client_for``,
    ``boto3.client`` on the default session), and botocore's session is not safe to create clients
    from many threads at once: with MaxConcurrency item threads, a task failed now and then (2 of 50
    Decide calls in a run). Bridge: those clients are created one at a time.
22. ResultWriter ``arn:aws:states:::s3:putObject``: moto writes a manifest.json whose ``ResultFiles``
    are empty and no result file at all ("TODO: generate result files"), so a step reading the results
    from S3 finds none. Bridge: the results are written as AWS writes them, under
    ``<Prefix>/<map run id>/``: ``SUCCEEDED_n.json`` / ``FAILED_n.json`` (JSON arrays of entries
    ``{ExecutionArn, Name, Input, InputDetails, Output, OutputDetails, Status, ...}``, ``Output`` a JSON
    string; a FAILED entry has ``Error``/``Cause`` instead) and ``manifest.json`` listing them
    (``{DestinationBucket, MapRunArn, ResultFiles: {FAILED, PENDING, SUCCEEDED: [{Key, Size}]}}``); the
    state's result is ``{MapRunArn, ResultWriterDetails: {Bucket, Key}}``. Differences: each file holds at
    most ``RESULTS_PER_FILE`` entries (AWS splits by size, up to 5 GB); an entry's ``Input`` is the
    ItemReader's item (AWS: after ItemSelector); the ExecutionArn is made up from the map run (moto runs
    no child executions, below); PENDING is always empty (a Map that stops early fails here, gap 18).
(new, issue 22; the lead numbers it) ResultWriter ``WriterConfig`` (``OutputType`` JSON | JSONL,
    ``Transformation`` NONE | COMPACT | FLATTEN): moto 5.2.5's grammar has no such field, so a
    definition that uses it cannot even be created locally. Bridge: ``carry_writer_config`` moves it
    into the ResultWriter's ``Parameters`` (under ``WRITER_CONFIG``) before moto parses the definition,
    and ``write_results`` writes what AWS writes for it. Only the configuration the backfill uses is
    written, ``{"OutputType": "JSONL", "Transformation": "NONE"}``, and refused otherwise: per the
    Step Functions Developer Guide, "ResultWriter (Map)"
    (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html),
    ``NONE`` "returns the output of the child workflow executions unchanged, in addition to the
    workflow metadata" (the entries above, ``Status`` included) and ``JSONL`` "formats the results as
    JSON Lines": one entry per line instead of one JSON array per file, the same manifest. The result
    files' names are not relied on (Summarise reads the keys the manifest lists); here they are
    ``<STATUS>_<n>.json``, as without WriterConfig.
Not bridged (the ASL works either way): moto runs no child *executions* for the items (AWS starts
one per item, visible in the console and counted per execution), so ``list_executions`` of the
backfill machine shows only the parent; a Map run is recorded (``list_map_runs``).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import threading
from collections.abc import Callable
from typing import Any

import boto3

MANIFEST = "MANIFEST"
RESULTS_PER_FILE = 1000
WRITER_CONFIG = "WriterConfig"  # carried inside the ResultWriter's Parameters (moto has no such field)
DEFAULT_WRITER_CONFIG = {"OutputType": "JSON", "Transformation": "NONE"}
WRITTEN_CONFIGS = ({"OutputType": "JSON", "Transformation": "NONE"},
                   {"OutputType": "JSONL", "Transformation": "NONE"})
EXCEED_TOLERATED = "States.ExceedToleratedFailureThreshold"
_CLIENT_CREATION = threading.Lock()


class _SerialBoto3:
    """``boto3`` as moto's boto_client_for sees it: ``client`` created under one lock (gap 21)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(boto3, name)

    @staticmethod
    def client(*args: Any, **kwargs: Any) -> Any:
        with _CLIENT_CREATION:
            return boto3.client(*args, **kwargs)


def aws_listing_item(content: dict[str, Any]) -> dict[str, Any]:
    """One ListObjectsV2 entry as a Distributed Map item (AWS: ``Etag``, the date in epoch seconds)."""
    modified = content.get("LastModified")
    return {
        "Key": content["Key"],
        "Etag": content.get("ETag", ""),
        "Size": int(content.get("Size", 0)),
        "LastModified": int(modified.timestamp()) if hasattr(modified, "timestamp") else modified,
        "StorageClass": content.get("StorageClass", "STANDARD"),
    }


def list_all(s3: Any, parameters: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(**parameters):
        items += [aws_listing_item(c) for c in page.get("Contents", [])]
    return items


def inventory_items(s3: Any, manifest_text: str) -> list[dict[str, Any]]:
    """Every row of the CSV inventory files a manifest.json lists, keyed by its fileSchema."""
    manifest = json.loads(manifest_text)
    if str(manifest.get("fileFormat", "CSV")).upper() != "CSV":
        raise ValueError(f"only CSV inventories are read locally, not {manifest.get('fileFormat')}")
    columns = [c.strip() for c in str(manifest["fileSchema"]).split(",")]
    bucket = str(manifest["destinationBucket"]).rsplit(":", 1)[-1]
    items: list[dict[str, Any]] = []
    for entry in manifest.get("files", []):
        body = s3.get_object(Bucket=bucket, Key=entry["key"])["Body"].read()
        if entry["key"].endswith(".gz"):
            body = gzip.decompress(body)
        items += [dict(zip(columns, row, strict=False)) for row in csv.reader(io.StringIO(body.decode()))]
    return items


def result_entry(map_run_arn: str, index: int, item: Any, output: Any) -> dict[str, Any]:
    """One item as a ResultWriter entry: SUCCEEDED with its Output (a JSON string), or FAILED (moto
    leaves ``None`` for a failed item and keeps no error: the Cause says so)."""
    name = f"{index:08d}"
    entry: dict[str, Any] = {
        "ExecutionArn": f"{map_run_arn.replace(':mapRun:', ':execution:')}:{name}", "Name": name,
        "Input": json.dumps(item), "InputDetails": {"Included": True}, "RedriveCount": 0,
        "RedriveStatus": "NOT_REDRIVABLE",
        "StateMachineArn": map_run_arn.replace(":mapRun:", ":stateMachine:")}
    if output is None:
        return entry | {"Status": "FAILED", "Error": "States.TaskFailed",
                        "Cause": "the item's processing failed (moto keeps no error for it)"}
    return entry | {"Status": "SUCCEEDED", "Output": json.dumps(output), "OutputDetails": {"Included": True}}


def carry_writer_config(definition: str) -> str:
    """The definition with each ResultWriter's ``WriterConfig`` moved into its ``Parameters``."""
    machine = json.loads(definition)
    carried = False

    def visit(node: Any) -> None:
        nonlocal carried
        if isinstance(node, dict):
            writer = node.get("ResultWriter")
            if isinstance(writer, dict) and WRITER_CONFIG in writer:
                writer.setdefault("Parameters", {})[WRITER_CONFIG] = writer.pop(WRITER_CONFIG)
                carried = True
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(machine)
    return json.dumps(machine) if carried else definition


def encode_entries(entries: list[dict[str, Any]], output_type: str) -> bytes:
    """One result file's body: a JSON array (JSON) or one entry per line (JSONL)."""
    if output_type == "JSONL":
        return "".join(json.dumps(entry) + "\n" for entry in entries).encode()
    return json.dumps(entries).encode()


def write_results(s3: Any, bucket: str, prefix: str, map_run_arn: str, items: list[Any],
                  outputs: list[Any], writer_config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ResultWriter's files for one map run, as AWS writes them; returns the Map state's result."""
    config = {**DEFAULT_WRITER_CONFIG, **(writer_config or {})}
    if config not in WRITTEN_CONFIGS:
        raise ValueError(f"ResultWriter WriterConfig {config} is not emulated (only {list(WRITTEN_CONFIGS)})")
    run_id = map_run_arn.rsplit(":", 1)[-1]
    base = f"{prefix.rstrip('/')}/{run_id}/" if prefix else f"{run_id}/"
    by_status: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    for index, output in enumerate(outputs):
        entry = result_entry(map_run_arn, index, items[index] if index < len(items) else None, output)
        by_status[entry["Status"]].append(entry)
    files: dict[str, list[dict[str, Any]]] = {status: [] for status in by_status}
    for status, entries in by_status.items():
        for n, start in enumerate(range(0, len(entries), RESULTS_PER_FILE)):
            body = encode_entries(entries[start:start + RESULTS_PER_FILE], config["OutputType"])
            key = f"{base}{status}_{n}.json"
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            files[status].append({"Key": key, "Size": len(body)})
    manifest_key = f"{base}manifest.json"
    manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": files}
    s3.put_object(Bucket=bucket, Key=manifest_key, Body=json.dumps(manifest).encode())
    return {"MapRunArn": map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}}


def distributed_map_patches() -> list[tuple[type | Any, str, Callable[..., Any]]]:
    """(owner, attribute, replacement) for each bridge above; ``bridged`` installs and restores them."""
    from moto.stepfunctions.parser.api import HistoryEventType, MapRunFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader import item_reader_decl
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3 import (  # noqa: E501
        ResourceEvalS3,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_output_transformer.transformer import (  # noqa: E501
        ResourceOutputTransformer,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.reader_config.input_type import (  # noqa: E501
        InputType,
        InputTypeValue,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (  # noqa: E501
        DistributedIterationComponent,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import (
        resource_eval_s3 as result_writer_s3,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
        StateTaskServiceSfn,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    from local_emulator.bridges import botocore_normalisers

    original_transformer_for = item_reader_decl.resource_output_transformer_for
    original_map_run = DistributedIterationComponent._map_run
    original_sfn_normalise = StateTaskServiceSfn._normalise_parameters
    original_list_map_runs = StepFunctionsParserBackend.list_map_runs

    def s3_client(resource_runtime_part: Any) -> Any:
        return boto3.client("s3", region_name=resource_runtime_part.region)

    def handle_list_objects_v2(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
        env.stack.append(list_all(s3_client(resource_runtime_part), env.stack.pop()))

    class ManifestTransformer(ResourceOutputTransformer):  # type: ignore[misc]
        def __init__(self, region: str) -> None:
            super().__init__()
            self.region = region

        def _eval_body(self, env: Any) -> None:
            env.stack.pop()  # the reader config
            manifest_text = env.stack.pop()
            env.stack.append(inventory_items(boto3.client("s3", region_name=self.region), manifest_text))

    def input_type_init(self: Any, input_type: str) -> None:
        self.input_type_value = MANIFEST if input_type == MANIFEST else InputTypeValue(input_type)

    def transformer_for(input_type: Any) -> Any:
        if input_type.input_type_value == MANIFEST:
            from local_emulator.template import REGION

            return ManifestTransformer(REGION)
        return original_transformer_for(input_type=input_type)

    def map_run(self: Any, env: Any, eval_input: Any) -> None:
        record = eval_input.map_run_record
        record.bridge_items = list(env.stack[-1])  # the ItemReader's items, for the ResultWriter's Input
        original_map_run(self, env, eval_input)
        counts = record.item_counter
        total = counts.total.get() if hasattr(counts, "total") else len(env.stack[-1])
        failed = counts.failed.get()
        tolerated = float(record.tolerated_failure_percentage or 0)
        if total and failed * 100.0 / total > tolerated:
            cause = f"{failed} of {total} items failed, more than the tolerated {tolerated:g}%"
            env.stack.pop()
            raise FailureEventException(FailureEvent(
                env=env,
                error_name=StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold),
                event_type=HistoryEventType.MapRunFailed,
                event_details=EventDetails(mapRunFailedEventDetails=MapRunFailedEventDetails(
                    error=EXCEED_TOLERATED, cause=cause))))

    def handle_put_object(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
        parameters = env.stack.pop()
        outputs = env.stack.pop()
        record = env.map_run_record_pool_manager.get_all().pop()
        env.stack.append(write_results(
            s3_client(resource_runtime_part), parameters["Bucket"], parameters.get("Prefix", ""),
            record.map_run_arn, getattr(record, "bridge_items", []), outputs, parameters.get(WRITER_CONFIG)))

    sfn_normalise_parameters, sfn_normalise_response = botocore_normalisers(
        "stepfunctions", before=original_sfn_normalise)

    def list_map_runs(self: Any, execution_arn: str) -> dict[str, Any]:
        worker = getattr(self.describe_execution(execution_arn=execution_arn), "exec_worker", None)
        if worker is None or getattr(worker, "env", None) is None:
            return {"mapRuns": []}
        return dict(original_list_map_runs(self, execution_arn))

    from moto.stepfunctions.parser.asl.utils import boto_client

    return [
        (boto_client, "boto3", _SerialBoto3()),
        (StepFunctionsParserBackend, "list_map_runs", list_map_runs),
        (ResourceEvalS3, "_handle_list_objects_v2", staticmethod(handle_list_objects_v2)),
        (result_writer_s3.ResourceEvalS3, "_handle_put_object", staticmethod(handle_put_object)),
        (InputType, "__init__", input_type_init),
        (item_reader_decl, "resource_output_transformer_for", transformer_for),
        (DistributedIterationComponent, "_map_run", map_run),
        (StateTaskServiceSfn, "_normalise_parameters", sfn_normalise_parameters),
        (StateTaskServiceSfn, "_normalise_response", sfn_normalise_response),
    ]
