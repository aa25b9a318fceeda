"""Cost per audio hour, by component, for a 3-minute call and a 3-hour lecture.

Usage: .venv/bin/python benchmarks/cost_model.py [--gpu-price 0.8048] [--spot-fraction 0.45] [--out PATH]

What one file costs is the sum of
- GPU: the seconds the instance is billed for the file (its share of instance start-up and model load,
  download, decode, inference) times the instance price, on-demand or Spot;
- Step Functions: the state transitions of the outcome's path, counted by walking
  statemachine/transcribe.asl.json (benchmarks/asl_walk.py) for that outcome, so a new state or the pool
  branch changes the count by itself;
- Lambda: one request per Lambda task on that path, GB-seconds from each function's MemorySize in
  template.yaml (Globals otherwise) times an assumed duration;
- S3 requests, DynamoDB writes, EventBridge events, SQS messages, CloudWatch Logs ingestion;
- for a cold upload (docs/ARCHIVES.md), its restore: retrieval per GB, the request, and the restored
  copy's storage for RestoreDays (pipeline.restore_prices, the table `parakeet backfill --dry-run` uses),
  per audio hour of a one-hour recording at two common bitrates (table "restore").
Figures come from benchmarks/results/*.json where a benchmark measured them; everything else is a
stated assumption, and the output lists which is which. Prices are parameters (`Prices`).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "benchmarks"), str(ROOT)]

from asl_walk import Step, walk  # noqa: E402
from pipeline import throughput  # noqa: E402
from pipeline.gpu_classes import GPU_CLASSES  # noqa: E402
from pipeline.restore_prices import RESTORE_PRICES, estimate_class  # noqa: E402
from pipeline.types import RestoreArchived  # noqa: E402

from gpu_job.storage import READ_BLOCK_BYTES  # noqa: E402

ASL = ROOT / "statemachine" / "transcribe.asl.json"
TEMPLATE = ROOT / "template.yaml"
RESULTS = ROOT / "benchmarks" / "results"
DEFAULT_OUT = RESULTS / "cost_model.json"
HOUR = 3600.0


@dataclass(frozen=True)
class Prices:
    """us-east-1 list prices, USD. Written 2026-12-02 from the AWS pricing pages as last known to the
    author (the figures below have been stable since the Nov 2024 DynamoDB on-demand cut); they are not
    fetched at run time: check https://aws.amazon.com/<service>/pricing/ before quoting them."""

    gpu_on_demand_per_hour: float = GPU_CLASSES["small"].price_per_hour_usd  # g6.xlarge (contracts)
    spot_fraction: float = 0.45  # ASSUMED: Spot/on-demand for g6.xlarge; Spot prices move by AZ and hour
    sfn_per_transition: float = 0.025 / 1000  # Step Functions Standard
    lambda_per_request: float = 0.20 / 1e6
    lambda_per_gb_second: float = 0.0000166667  # x86_64 (template.yaml Architectures)
    s3_put_per_request: float = 0.005 / 1000  # PUT, COPY, POST, LIST (S3 Standard)
    s3_get_per_request: float = 0.0004 / 1000  # GET, HEAD and others
    dynamodb_per_write_unit: float = 0.625 / 1e6  # on-demand write request unit
    eventbridge_per_custom_event: float = 1.00 / 1e6  # AWS service events (S3 Object Created): free
    sqs_per_request: float = 0.40 / 1e6  # standard queue, after the free tier
    logs_per_gb_ingested: float = 0.50  # CloudWatch Logs, standard class
    transcribe_per_minute: float = 0.024  # Amazon Transcribe batch, standard, first 250k min/month


@dataclass(frozen=True)
class Figure:
    value: float
    measured: bool
    source: str


@dataclass
class Inputs:
    """Throughput and per-request figures; `figures()` says which were measured."""

    gpu_rtfx: Figure = field(default_factory=lambda: Figure(1000.0, False, _RTFX_NOTE))
    decode_rtfx: Figure = field(default_factory=lambda: Figure(500.0, False, "assumed"))
    probe_get_requests: Figure = field(default_factory=lambda: Figure(2.0, False, "assumed"))
    pool_files_per_minute: Figure = field(default_factory=lambda: Figure(0.0, False, _POOL_FPM_NOTE))
    instance_start_s: Figure = field(default_factory=lambda: Figure(240.0, False, _START_NOTE))
    model_load_s: Figure = field(
        default_factory=lambda: Figure(30.0, False, "assumed: .nemo restore + CUDA init")
    )
    pool_files_per_start: Figure = field(default_factory=lambda: Figure(200.0, False, _POOL_NOTE))
    audio_kbps: Figure = field(default_factory=lambda: Figure(128.0, False, "assumed: 128 kbit/s MP3 upload"))
    s3_read_mb_per_s: Figure = field(default_factory=lambda: Figure(100.0, False, "assumed"))
    # decode and GPU overlapped: what bills the instance per audio second (None: decode + GPU in series)
    engine_rtfx: Figure | None = None

    def figures(self) -> dict[str, Figure]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, Figure)}


_RTFX_NOTE = (
    "assumed: no GPU run of Parakeet-TDT-0.6B-v3 in benchmarks/results yet; the Open ASR Leaderboard "
    "lists RTFx ~3,000+ for parakeet-tdt-0.6b (A100, batched); an L4 is taken as ~1/3 of that"
)
_START_NOTE = "assumed: Batch scale-from-zero, EC2 boot + ECS agent + pulling the image, billed"
_POOL_FPM_NOTE = "not measured yet: a pool file's GPU seconds are computed from gpu_rtfx, decode, download"
_POOL_NOTE = "assumed: files one warm pool worker transcribes per instance start and model load"

# Per-function work besides the invocation itself, keyed by handler module (template.yaml Handler).
# ASSUMED durations (no Lambda timing benchmark exists): seconds, plus seconds per audio hour.
FUNCTION_WORK: dict[str, dict[str, float]] = {
    "claim_source": {"duration_s": 0.15, "ddb_writes": 1},
    "probe_audio": {"duration_s": 0.40},  # its ranged GETs: Inputs.probe_get_requests
    "plan_job": {"duration_s": 0.10},
    "postprocess": {"duration_s": 0.30, "duration_s_per_audio_hour": 0.5, "s3_gets": 1, "s3_puts": 4},
    "index_transcript": {"duration_s": 0.30, "duration_s_per_audio_hour": 0.1, "s3_gets": 1, "ddb_writes": 2},
    "record_failure": {"duration_s": 0.20, "s3_gets": 1, "ddb_writes": 1},
}
DEFAULT_WORK = {"duration_s": 0.20}  # a function this table does not know yet (e.g. a new pool scaler)
LOG_BYTES = {"lambda": 1500.0, "batch_job": 20_000.0, "state_machine_failure": 5000.0}  # ASSUMED


# -- measured figures -------------------------------------------------------------------------------
def measured_inputs(results_dir: Path = RESULTS) -> Inputs:
    """Replace assumptions with what benchmarks/results/*.json measured, where they did."""
    inputs = Inputs()
    for path in sorted(results_dir.glob("*.json")):
        if path.name == DEFAULT_OUT.name:
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        decode = data.get("decode", {}) if isinstance(data, dict) else {}
        if path.name == "gpu_job_memory.json" and decode.get("gpu_job_audio"):
            audio_s = decode["gpu_job_audio"]["samples"] / 16000
            inputs.decode_rtfx = Figure(
                round(audio_s / decode["gpu_job_audio"]["wall_s"], 1),
                True,
                f"{path.name}: decode of {decode.get('media')} (CPU, one thread)",
            )
        if path.name == "probe_bytes.json" and "summary" in data:
            inputs.probe_get_requests = Figure(
                float(data["summary"]["median_requests"]), True, f"{path.name}: median ranged GETs per probe"
            )
        for row in data.get("memory", []) if isinstance(data, dict) else []:
            timings = row.get("timings") or {}
            if row.get("device") == "cuda" and timings.get("inference") and row.get("duration_s"):
                inputs.gpu_rtfx = Figure(
                    round(row["duration_s"] / timings["inference"], 1),
                    True,
                    f"{path.name}: {row.get('mode')}",
                )
        if "pool" in data and isinstance(data["pool"], dict) and data["pool"].get("files_per_minute"):
            inputs.pool_files_per_minute = Figure(float(data["pool"]["files_per_minute"]), True, path.name)
    inputs.engine_rtfx = engine_rtfx()
    return inputs


def engine_rtfx(size_class: str = "small") -> Figure:
    """The batched engine's audio seconds per second on the class's instance, from the planner's own
    throughput model (pipeline.throughput: the lesser of its CPU workers' and its GPU's rate, since
    the engine overlaps them); measured only where both figures were."""
    gpu_class = GPU_CLASSES[size_class]
    t = throughput.evaluate(gpu_class.gpu, throughput.option(gpu_class.gpu, gpu_class.instance_types[0]))
    gpu = f"GPU {'measured' if t.gpu_rtfx_measured else 'assumed'} {t.gpu_rtfx:g}x"
    cpu = f"{t.cpu_workers} CPU workers: {t.cpu_rtfx:g}x"
    note = f"pipeline.throughput: {t.instance}, {t.bound}-bound ({cpu}; {gpu})"
    return Figure(round(t.rtfx, 1), t.gpu_rtfx_measured, note)


# -- template.yaml ----------------------------------------------------------------------------------
class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!GetAtt, !Ref, !Sub ...) as {"!Tag": value}."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {f"!{suffix}": value}


_CfnLoader.add_multi_constructor("!", _tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)  # a SafeLoader subclass


@dataclass(frozen=True)
class Function:
    logical_id: str
    handler_module: str
    memory_mb: int


def lambda_functions(template: Mapping[str, Any]) -> dict[str, Function]:
    """DefinitionSubstitutions name (e.g. ClaimFunctionArn) -> the function it points at."""
    resources = template["Resources"]
    default_memory = int(template.get("Globals", {}).get("Function", {}).get("MemorySize", 128))
    machine = next(r for r in resources.values() if r["Type"] == "AWS::Serverless::StateMachine")
    out: dict[str, Function] = {}
    for name, value in machine["Properties"].get("DefinitionSubstitutions", {}).items():
        target = value.get("!GetAtt", "") if isinstance(value, dict) else ""
        logical = target.split(".")[0]
        props = resources.get(logical, {}).get("Properties", {})
        if resources.get(logical, {}).get("Type") != "AWS::Serverless::Function":
            continue
        out[name] = Function(
            logical, props["Handler"].split(".")[0], int(props.get("MemorySize", default_memory))
        )
    return out


# -- counting one outcome -----------------------------------------------------------------------------
_SUBSTITUTION = re.compile(r"^\$\{(\w+)\}$")


@dataclass
class Usage:
    transitions: int = 0
    lambda_requests: int = 0
    lambda_gb_s: float = 0.0
    s3_gets: float = 0.0
    s3_puts: float = 0.0
    ddb_writes: float = 0.0
    custom_events: int = 0
    sqs_requests: int = 0
    log_bytes: float = 0.0
    gpu_tasks: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    unknown_functions: list[str] = field(default_factory=list)


def _lambda_name(step: Step) -> str | None:
    resource = step.resource or ""
    if resource.startswith("arn:aws:states:::lambda:invoke"):
        resource = str(step.parameters.get("FunctionName", ""))
    match = _SUBSTITUTION.match(resource)
    return match.group(1) if match else None


def count_usage(
    steps: list[Step], functions: Mapping[str, Function], audio_s: float, failed: bool, probe_gets: float
) -> Usage:
    """What the states on one path use; the GPU job's own S3 reads are added by `cost_of`."""
    usage = Usage(transitions=len(steps))
    for step in steps:
        resource = step.resource or ""
        name = _lambda_name(step)
        if name is not None:
            fn = functions.get(name)
            module = fn.handler_module if fn else name
            work = FUNCTION_WORK.get(module)
            if work is None:
                usage.unknown_functions.append(module)
                work = DEFAULT_WORK
            seconds = work["duration_s"] + work.get("duration_s_per_audio_hour", 0.0) * audio_s / HOUR
            usage.lambda_requests += 1
            usage.lambda_gb_s += (fn.memory_mb if fn else 512) / 1024 * seconds
            usage.s3_gets += work.get("s3_gets", 0)
            usage.s3_puts += work.get("s3_puts", 0)
            usage.ddb_writes += work.get("ddb_writes", 0)
            usage.log_bytes += LOG_BYTES["lambda"]
            usage.functions.append(module)
            if module == "probe_audio":
                usage.s3_gets += probe_gets
        elif resource.startswith("arn:aws:states:::batch:submitJob"):
            usage.gpu_tasks.append("job")
        elif resource.startswith("arn:aws:states:::sqs:sendMessage"):
            usage.gpu_tasks.append("pool")
            usage.sqs_requests += 3  # send, receive, delete
        elif resource.startswith("arn:aws:states:::events:putEvents"):
            usage.custom_events += 1
        elif resource.startswith("arn:aws:states:::dynamodb:"):
            usage.ddb_writes += 1
    if failed:
        usage.log_bytes += LOG_BYTES["state_machine_failure"]  # logging Level ERROR: successes log nothing
    return usage


@dataclass(frozen=True)
class Scenario:
    name: str
    audio_s: float
    path: str  # "job" or "pool": the value of plan.path the Choice states read
    fail_at: str | None = None


SCENARIOS = (
    Scenario("call_3min_own_job", 180.0, "job"),
    Scenario("call_3min_pool", 180.0, "pool"),
    Scenario("lecture_3h_own_job", 3 * HOUR, "job"),
    Scenario("call_3min_bad_input", 180.0, "job", fail_at="Probe"),
)


def sample_state(scenario: Scenario) -> dict[str, Any]:
    return {
        "claim": {"claimed": True},
        "probe": {"duration_s": scenario.audio_s},
        "plan": {"path": scenario.path, "duration_s": scenario.audio_s},
    }


def gpu_seconds(scenario: Scenario, inputs: Inputs, ran_gpu: str | None) -> float:
    """Seconds of instance time billed to this file: an own job pays a whole instance start and model
    load; a file the plan sends to the pool pays its share of one (the orchestration still follows
    whatever path the ASL takes, so before the pool branch exists a pool file is walked as a job)."""
    if ran_gpu is None:
        return 0.0
    size_mb = inputs.audio_kbps.value * scenario.audio_s / 8 / 1000
    if inputs.engine_rtfx is not None:  # the engine overlaps decoding with the GPU (pipeline.throughput)
        work = size_mb / inputs.s3_read_mb_per_s.value + scenario.audio_s / inputs.engine_rtfx.value
    else:
        work = (
            size_mb / inputs.s3_read_mb_per_s.value
            + scenario.audio_s / inputs.decode_rtfx.value
            + scenario.audio_s / inputs.gpu_rtfx.value
        )
    startup = inputs.instance_start_s.value + inputs.model_load_s.value
    if scenario.path == "pool":
        if inputs.pool_files_per_minute.measured and inputs.pool_files_per_minute.value > 0:
            work = 60.0 / inputs.pool_files_per_minute.value  # the measured throughput includes everything
        return startup / inputs.pool_files_per_start.value + work
    return startup + work


def cost_of(
    scenario: Scenario,
    definition: Mapping[str, Any],
    functions: Mapping[str, Function],
    inputs: Inputs,
    prices: Prices,
    spot: bool,
) -> dict[str, Any]:
    steps = walk(definition, sample_state(scenario), fail_at=scenario.fail_at)
    failed = steps[-1].type == "Fail"
    usage = count_usage(steps, functions, scenario.audio_s, failed, inputs.probe_get_requests.value)
    # The GPU runs when the path reaches a GPU task: a failure before it (bad input at Probe) costs none.
    ran_gpu = usage.gpu_tasks[0] if usage.gpu_tasks else None
    if ran_gpu is not None:
        size = inputs.audio_kbps.value * 1000 / 8 * scenario.audio_s
        usage.s3_gets += 1 + math.ceil(size / READ_BLOCK_BYTES)  # HEAD + 4 MiB ranged GETs (gpu_job.storage)
        usage.s3_puts += 1  # transcript.json
        usage.log_bytes += LOG_BYTES["batch_job"]
    gpu_s = gpu_seconds(scenario, inputs, ran_gpu)
    price = prices.gpu_on_demand_per_hour * (prices.spot_fraction if spot else 1.0)
    components = {
        "gpu": gpu_s / HOUR * price,
        "step_functions": usage.transitions * prices.sfn_per_transition,
        "lambda": usage.lambda_requests * prices.lambda_per_request
        + usage.lambda_gb_s * prices.lambda_per_gb_second,
        "s3_requests": usage.s3_gets * prices.s3_get_per_request + usage.s3_puts * prices.s3_put_per_request,
        "dynamodb": usage.ddb_writes * prices.dynamodb_per_write_unit,
        "eventbridge": usage.custom_events * prices.eventbridge_per_custom_event,
        "sqs": usage.sqs_requests * prices.sqs_per_request,
        "cloudwatch_logs": usage.log_bytes / 1e9 * prices.logs_per_gb_ingested,
    }
    total = sum(components.values())
    orchestration = total - components["gpu"]
    hours = scenario.audio_s / HOUR
    return {
        "scenario": scenario.name,
        "pricing": "spot" if spot else "on_demand",
        "audio_s": scenario.audio_s,
        "path": [s.name for s in steps],
        "gpu_task_reached": ran_gpu,
        "outcome": "failed" if failed else "succeeded",
        "usage": {k: v for k, v in asdict(usage).items()},
        "gpu_seconds": round(gpu_s, 2),
        "per_file_usd": {k: round(v, 8) for k, v in components.items()},
        "total_per_file_usd": round(total, 8),
        "per_audio_hour_usd": {k: round(v / hours, 6) for k, v in components.items()},
        "total_per_audio_hour_usd": round(total / hours, 6),
        "orchestration_per_audio_hour_usd": round(orchestration / hours, 6),
        "orchestration_exceeds_gpu": orchestration > components["gpu"],
    }


PUBLISHED = {
    "amazon_transcribe_standard": {
        "per_audio_hour_usd": 0.024 * 60,
        "source": "aws.amazon.com/transcribe/pricing: batch, standard, $0.024/min, first 250k min/month",
    },
    "aws_sample_parakeet_batch": {
        "per_audio_hour_usd": [0.00005 * 60, 0.00011 * 60],
        "source": (
            "AWS Machine Learning Blog, 'Cost-effective multilingual audio transcription at scale with "
            "Parakeet-TDT and AWS Batch': 'fractions of a cent per hour of audio'; ~$0.00005 (Spot) to "
            "$0.00011 (on-demand) per audio minute as a summary of the post quotes it (not re-checked here). "
            "GPU inference time only: no instance start-up, model load or orchestration."
        ),
    },
}


# Bytes of one audio hour as commonly archived: MP3 at 128 kbit/s, and 16 kHz 16-bit mono WAV.
ARCHIVE_BYTES_PER_AUDIO_HOUR = {"mp3_128k": 128_000 // 8 * 3600, "wav_16k_mono": 16_000 * 2 * 3600}
RESTORE_DAYS = 1  # the RestoreDays default


def restore_rows() -> list[dict[str, Any]]:
    """USD per audio hour to restore a one-hour cold recording, per class, retrieval tier and format."""
    rows = []
    for storage_class, status, tier in RESTORE_PRICES:
        for fmt, size in ARCHIVE_BYTES_PER_AUDIO_HOUR.items():
            setting = cast(RestoreArchived, tier.lower())  # the table's tiers are RestoreArchived values
            est = estimate_class(storage_class, status, 1, size, setting, RESTORE_DAYS)
            rows.append(
                {
                    "storage_class": storage_class if status is None else f"{storage_class}/{status}",
                    "tier": est.tier,
                    "format": fmt,
                    "per_audio_hour_usd": round(est.usd, 6),
                    "hours_at_most": est.hours,
                }
            )
    return rows


def run(prices: Prices, out: Path) -> dict[str, Any]:
    definition = json.loads(ASL.read_text(encoding="utf-8"))
    functions = lambda_functions(load_template())
    inputs = measured_inputs()
    rows = [
        cost_of(s, definition, functions, inputs, prices, spot) for s in SCENARIOS for spot in (False, True)
    ]
    result = {
        "prices": asdict(prices),
        "figures": {k: asdict(v) for k, v in inputs.figures().items()},
        "assumed_function_work": FUNCTION_WORK,
        "assumed_log_bytes": LOG_BYTES,
        "lambda_memory_mb": {f.handler_module: f.memory_mb for f in functions.values()},
        "rows": rows,
        "restore": restore_rows(),
        "published": PUBLISHED,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


COLUMNS = (
    "gpu",
    "step_functions",
    "lambda",
    "s3_requests",
    "dynamodb",
    "eventbridge",
    "sqs",
    "cloudwatch_logs",
)


def print_table(result: dict[str, Any]) -> None:
    print("USD per audio hour, by component")
    head = " ".join(f"{c[:10]:>10}" for c in COLUMNS)
    print(f"{'scenario':22} {'pricing':9} {head} {'total':>9} {'orch>gpu':>8} {'transitions':>11}")
    for row in result["rows"]:
        cells = " ".join(f"{row['per_audio_hour_usd'][c]:>10.5f}" for c in COLUMNS)
        flag = "yes" if row["orchestration_exceeds_gpu"] else "no"
        print(
            f"{row['scenario']:22} {row['pricing']:9} {cells} {row['total_per_audio_hour_usd']:>9.4f} "
            f"{flag:>8} {row['usage']['transitions']:>11}"
        )
    print("\nrestore of a cold one-hour recording, USD per audio hour (list prices, restore_prices):")
    for r in result["restore"]:
        print(
            f"  {r['storage_class']:38} {r['tier']:10} {r['format']:13} {r['per_audio_hour_usd']:>10.6f}"
            f"  <= {r['hours_at_most']:g} h"
        )
    print("\nfigures (measured = from benchmarks/results):")
    for name, fig in result["figures"].items():
        kind = "measured" if fig["measured"] else "ASSUMED"
        print(f"  {name:22} {fig['value']:>10} {kind:9} {fig['source']}")
    transcribe = PUBLISHED["amazon_transcribe_standard"]["per_audio_hour_usd"]
    low, high = PUBLISHED["aws_sample_parakeet_batch"]["per_audio_hour_usd"]
    print(f"\npublished: Amazon Transcribe ${transcribe:.2f}/audio h;", end=" ")
    print(f"AWS sample ${low:.4f}-${high:.4f}/audio h (GPU inference only)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--gpu-price", type=float, default=Prices.gpu_on_demand_per_hour, help="on-demand USD/h"
    )
    parser.add_argument("--spot-fraction", type=float, default=Prices.spot_fraction)
    args = parser.parse_args(argv)
    prices = replace(Prices(), gpu_on_demand_per_hour=args.gpu_price, spot_fraction=args.spot_fraction)
    print_table(run(prices, args.out))


if __name__ == "__main__":
    main()
