"""Bridges for moto 5.2.5's Distributed Map, used by the backfill (statemachine/backfill.asl.json).

Test support only, installed by ``local_emulator.bridges.bridged`` and undone with it. moto runs a
``"Mode": "DISTRIBUTED"`` Map in-process: each item's ItemProcessor runs in one of MaxConcurrency
worker threads of the parent execution (that part is kept: it bounds concurrency as AWS does).
What it does differently from AWS, and how it is bridged here: gaps 16-22 of local_emulator/README.md
(listing reader, MANIFEST reader, tolerated failures, ``startExecution.sync:2``, ``ListMapRuns``,
concurrent client creation, ResultWriter) and 28 (the ResultWriter's ``WriterConfig``, which moto's
grammar lacks: carried to ``write_results``, JSON Lines as AWS writes them), and what is not
bridged (no child executions).
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
WRITTEN_CONFIGS = (
    {"OutputType": "JSON", "Transformation": "NONE"},
    {"OutputType": "JSONL", "Transformation": "NONE"},
)
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
        "ExecutionArn": f"{map_run_arn.replace(':mapRun:', ':execution:')}:{name}",
        "Name": name,
        "Input": json.dumps(item),
        "InputDetails": {"Included": True},
        "RedriveCount": 0,
        "RedriveStatus": "NOT_REDRIVABLE",
        "StateMachineArn": map_run_arn.replace(":mapRun:", ":stateMachine:"),
    }
    if output is None:
        return entry | {
            "Status": "FAILED",
            "Error": "States.TaskFailed",
            "Cause": "the item's processing failed (moto keeps no error for it)",
        }
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


def write_results(
    s3: Any,
    bucket: str,
    prefix: str,
    map_run_arn: str,
    items: list[Any],
    outputs: list[Any],
    writer_config: dict[str, Any] | None = None,
) -> dict[str, Any]:
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
            body = encode_entries(entries[start : start + RESULTS_PER_FILE], config["OutputType"])
            key = f"{base}{status}_{n}.json"
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            files[status].append({"Key": key, "Size": len(body)})
    manifest_key = f"{base}manifest.json"
    manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": files}
    s3.put_object(Bucket=bucket, Key=manifest_key, Body=json.dumps(manifest).encode())
    return {"MapRunArn": map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}}


def distributed_map_patches() -> list[tuple[type | Any, str, Callable[..., Any]]]:
    """(owner, attribute, replacement) for each bridge above; ``bridged`` installs and restores them."""
    from moto.stepfunctions.parser.api import HistoryEventType, MapRunFailedEventDetails, ResourceNotFound
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

    from local_emulator.normalisers import botocore_normalisers

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
            raise FailureEventException(
                FailureEvent(
                    env=env,
                    error_name=StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold),
                    event_type=HistoryEventType.MapRunFailed,
                    event_details=EventDetails(
                        mapRunFailedEventDetails=MapRunFailedEventDetails(error=EXCEED_TOLERATED, cause=cause)
                    ),
                )
            )

    def handle_put_object(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
        parameters = env.stack.pop()
        outputs = env.stack.pop()
        record = env.map_run_record_pool_manager.get_all().pop()
        env.stack.append(
            write_results(
                s3_client(resource_runtime_part),
                parameters["Bucket"],
                parameters.get("Prefix", ""),
                record.map_run_arn,
                getattr(record, "bridge_items", []),
                outputs,
                parameters.get(WRITER_CONFIG),
            )
        )

    sfn_normalise_parameters, sfn_normalise_response = botocore_normalisers(
        "stepfunctions", before=original_sfn_normalise
    )

    def list_map_runs(self: Any, execution_arn: str) -> dict[str, Any]:
        worker = getattr(self.describe_execution(execution_arn=execution_arn), "exec_worker", None)
        if worker is None or getattr(worker, "env", None) is None:
            return {"mapRuns": []}
        return dict(original_list_map_runs(self, execution_arn))

    def describe_map_run(self: Any, map_run_arn: str) -> dict[str, Any]:
        """Gap 32: moto reads every execution's worker, and one that another thread is starting has
        none yet (AttributeError on ``None.env``); AWS answers from the map run alone."""
        for execution in self._get_executions():
            env = getattr(getattr(execution, "exec_worker", None), "env", None)
            record = env.map_run_record_pool_manager.get(map_run_arn) if env is not None else None
            if record is not None:
                return dict(record.describe())
        raise ResourceNotFound()

    from moto.stepfunctions.parser.asl.utils import boto_client

    return [
        (boto_client, "boto3", _SerialBoto3()),
        (StepFunctionsParserBackend, "list_map_runs", list_map_runs),
        (StepFunctionsParserBackend, "describe_map_run", describe_map_run),
        (ResourceEvalS3, "_handle_list_objects_v2", staticmethod(handle_list_objects_v2)),
        (result_writer_s3.ResourceEvalS3, "_handle_put_object", staticmethod(handle_put_object)),
        (InputType, "__init__", input_type_init),
        (item_reader_decl, "resource_output_transformer_for", transformer_for),
        (DistributedIterationComponent, "_map_run", map_run),
        (StateTaskServiceSfn, "_normalise_parameters", sfn_normalise_parameters),
        (StateTaskServiceSfn, "_normalise_response", sfn_normalise_response),
    ]
