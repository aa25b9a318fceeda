"""A burst of short files through the local stack: the per-file path against the worker pool.

Why: the pool exists because a per-file Batch job pays process start, imports and model load (and on
AWS instance start and image pull) for each short file. This measures, side by side in one run, on
the same clips and the same model (the tiny speech model, tests/fixtures/models/tiny_tdt_speech.nemo):
* per-file path: each file its own execution and its own Batch job, the job run as a Batch
  container would run it, in a fresh process (`python -m gpu_job --input ... --output ...`: Python
  start, torch and NeMo import and model load included). The container's S3 reads and writes go
  through this harness (the fresh process cannot reach the in-process moto): the input is copied to
  a local file before the job and transcript.json back to the output prefix after it.
* pool path: each file its own execution, one pool worker (MaxPoolWorkers 1) started by the scaler,
  transcribing every file with one model load. The worker runs in this process (local_emulator.pool),
  so it pays NeMo's import and the model load for real, once; a fresh interpreter's start (measured,
  `python -c pass`) is reported next to it.
Both paths run one GPU job at a time (the per-file jobs one after another, the pool one worker), so
files per minute compare like for like. Not measured here: a real per-file job's instance start and
image pull (tens of seconds on AWS), which would widen the gap further.

Clips: 200, 5 s to 3 min, log-uniform in length (most calls short), wav/mp3/ogg/flac/m4a, cut from
espeak-ng speech with ffmpeg (cached in build/bench_pool_clips). The per-file path runs on a
stratified subset (every k-th clip by length) to keep the run near ten minutes on two shared cores;
its files per minute is measured on that subset and also extrapolated to the full set's mean length
from its measured fixed and per-audio-second costs (both reported).

    python benchmarks/pool_burst.py [--files 200] [--per-file 8]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "functions")]
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
os.environ.setdefault("GPU_JOB_CPU_THREADS", "1")

import boto3  # noqa: E402

from local_emulator import runner  # noqa: E402
from local_emulator.stack import SPEECH_MODEL, local_stack  # noqa: E402
from local_emulator.template import REGION  # noqa: E402

CLIPS = REPO / "build" / "bench_pool_clips"
RESULTS = REPO / "benchmarks" / "results" / "pool_burst.json"
FORMATS = ("wav", "mp3", "ogg", "flac", "m4a")
MIN_S, MAX_S = 5.0, 180.0
SENTENCES = (
    "hello good morning. open the window. the big red car. one two three four five. "
    "the small blue house. six seven eight nine zero. the cat, the dog. open the green door. "
    "stop, go left, go right. good night. yes, no, up, down. the train, the water, the time. "
)
# Both paths: files up to 3 min are "short" for this run. The per-file stack turns the pool off.
COMMON = {
    "PoolMaxSeconds": "180",
    "MaxPoolWorkers": "1",
    "PoolFilesPerWorker": "1000",
    "PoolTaskHeartbeatSeconds": "3600",
    "PoolVisibilitySeconds": "900",
    "PoolIdleExitSeconds": "10",
}
CHILD_ENV = {
    "GPU_JOB_DEVICE": "cpu",
    "GPU_JOB_CPU_THREADS": "1",
    "HF_HUB_OFFLINE": "1",
    "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'functions'}",
}


# ---------------------------------------------------------------- clips
def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-y", "-loglevel", "error", *args], check=True)


def corpus(count: int, seed: int = 7) -> list[tuple[Path, float]]:
    """(path, seconds) of ``count`` clips cut from one long espeak-ng recording."""
    CLIPS.mkdir(parents=True, exist_ok=True)
    speech = CLIPS / "speech.wav"
    if not speech.exists():
        subprocess.run(
            ["espeak-ng", "-v", "en-us", "-s", "150", "-g", "4", "-w", str(speech), SENTENCES * 16],
            check=True,
        )
    rnd = random.Random(seed)
    clips = []
    for i in range(count):
        seconds = round(math.exp(rnd.uniform(math.log(MIN_S), math.log(MAX_S))), 1)
        path = CLIPS / f"call-{i:03d}-{seconds:g}s.{FORMATS[i % len(FORMATS)]}"
        if not path.exists():
            _ffmpeg("-stream_loop", "-1", "-i", str(speech), "-t", str(seconds), "-ac", "1", str(path))
        clips.append((path, seconds))
    return clips


def stratified(clips: list[tuple[Path, float]], count: int) -> list[tuple[Path, float]]:
    ordered = sorted(clips, key=lambda c: c[1])
    step = len(ordered) / count
    return [ordered[int(i * step + step / 2)] for i in range(count)]


# ---------------------------------------------------------------- per-file jobs in fresh processes
class FreshProcessJobs:
    """The bridge's job runner: each Batch attempt is `python -m gpu_job <command>` in a new process."""

    def __init__(self) -> None:
        self.jobs: list[dict[str, float]] = []

    def __call__(self, command: list[str], env: dict[str, str]) -> int:
        from pipeline.contracts import TranscriptionRequest

        s3 = boto3.client("s3", region_name=REGION)
        flag, payload = command  # the plan's command: ["--request", <TranscriptionRequest JSON>]
        assert flag == "--request"
        request = TranscriptionRequest.model_validate_json(payload)
        bucket, key, prefix = request.source.bucket, request.source.key, request.output_prefix
        with tempfile.TemporaryDirectory() as tmp:
            local_in = Path(tmp) / Path(key).name
            s3.download_file(bucket, key, str(local_in))
            # The child cannot reach this process's moto: the same job on a local copy, in the plan's mode
            args = ["--input", str(local_in), "--output", f"{tmp}/out/", "--mode", request.mode]
            child_env = {**os.environ, **env, **CHILD_ENV}
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "gpu_job", *args], env=child_env, capture_output=True, text=True
            )
            wall = time.perf_counter() - started
            out_bucket, _, out_key = prefix.removeprefix("s3://").partition("/")
            for name in ("transcript.json", "error.json"):
                produced = Path(tmp) / "out" / name
                if produced.exists():
                    s3.upload_file(str(produced), out_bucket, out_key + name)
            transcript = Path(tmp) / "out" / "transcript.json"
            if transcript.exists():
                document = json.loads(transcript.read_text())
                timings = document["timings"]
                self.jobs.append(
                    {
                        "wall_s": wall,
                        "load_s": timings["load"],
                        "total_s": timings["total"],
                        "startup_s": wall - timings["total"],
                        "audio_s": document["media"]["duration_s"],
                    }
                )
            else:
                print(done.stderr[-2000:], file=sys.stderr)
        return done.returncode


def interpreter_start_s() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


# ---------------------------------------------------------------- runs
def run_burst(stack: Any, clips: list[tuple[Path, float]], prefix: str) -> tuple[float, list[Any]]:
    s3 = boto3.client("s3", region_name=REGION)
    deployment = stack.deployment
    keys = [f"{prefix}/{path.name}" for path, _ in clips]
    for (path, _), key in zip(clips, keys, strict=True):
        s3.upload_file(str(path), deployment.input_bucket, key)
    events = [runner.event_for_object(deployment.input_bucket, key) for key in keys]
    started = time.perf_counter()
    arns = [runner.start_execution(deployment, event) for event in events]
    reports = [runner.wait_for(arn, timeout_s=3600, poll_s=0.5) for arn in arns]
    wall = time.perf_counter() - started
    failed = [r for r in reports if r.status != "SUCCEEDED"]
    if failed:
        first = failed[0]
        why = {"states": first.states, "task_failures": first.task_failures, "error": first.error}
        detail = json.dumps(why)[:3000]
        raise SystemExit(f"{len(failed)} executions failed, e.g. {first.execution_arn}: {detail}")
    return wall, reports


def per_file_path(clips: list[tuple[Path, float]]) -> dict[str, Any]:
    jobs = FreshProcessJobs()
    with local_stack(
        parameter_overrides={**COMMON, "PoolMaxSeconds": "0"},
        model=str(SPEECH_MODEL),
        pool_schedule_s=None,
        job_runner=jobs,
    ) as stack:
        wall, reports = run_burst(stack, clips, "per-file")
        assert all(r.output and r.output["plan"]["path"] == "job" for r in reports)
        batch_jobs = len(stack.bridge.batch_jobs)
    return {"wall_s": wall, "jobs": jobs.jobs, "batch_jobs": batch_jobs}


def pool_path(clips: list[tuple[Path, float]]) -> dict[str, Any]:
    with local_stack(parameter_overrides=COMMON, model=str(SPEECH_MODEL), pool_schedule_s=None) as stack:
        wall, reports = run_burst(stack, clips, "pool")
        assert all(r.output and r.output["plan"]["path"] == "pool" for r in reports)
        workers = {r.output["job"]["job_id"] for r in reports if r.output}
        worker_reports = [stack.pool.reports[w] for w in workers]
        per_file_jobs = [j for j in stack.bridge.batch_jobs if j.command[:1] != ["pool"]]
    return {"wall_s": wall, "workers": worker_reports, "per_file_jobs": len(per_file_jobs)}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--per-file", type=int, default=20, help="size of the per-file subset")
    args = parser.parse_args()

    clips = corpus(args.files)
    subset = stratified(clips, min(args.per_file, len(clips)))
    print(
        f"{len(clips)} clips, {sum(s for _, s in clips) / 60:.0f} min of audio;"
        f" per-file subset {len(subset)} clips",
        flush=True,
    )
    interpreter_s = interpreter_start_s()
    per_file = per_file_path(subset)
    print(f"per-file: {len(subset)} files in {per_file['wall_s']:.1f} s", flush=True)
    pool = pool_path(clips)
    print(f"pool: {len(clips)} files in {pool['wall_s']:.1f} s", flush=True)

    jobs = per_file["jobs"]
    mean_audio_all = statistics.fmean(s for _, s in clips)
    mean_audio_subset = statistics.fmean(j["audio_s"] for j in jobs)
    fixed_s = statistics.fmean(j["startup_s"] + j["load_s"] for j in jobs)  # per job, whatever its length
    # What a job spends per second of audio beyond its fixed start-up (decode + inference + writes)
    variable_per_audio_s = statistics.fmean(
        (j["wall_s"] - j["startup_s"] - j["load_s"]) / j["audio_s"] for j in jobs
    )
    job_wall_mean = statistics.fmean(j["wall_s"] for j in jobs)
    workflow_s_per_file = max(0.0, per_file["wall_s"] / len(jobs) - job_wall_mean)
    per_file_fpm = len(jobs) / per_file["wall_s"] * 60
    per_file_fpm_full_set = 60 / (fixed_s + variable_per_audio_s * mean_audio_all + workflow_s_per_file)
    pool_fpm = len(clips) / pool["wall_s"] * 60
    [worker] = pool["workers"]
    result = {
        "files": len(clips),
        "audio_minutes": round(sum(s for _, s in clips) / 60, 1),
        "clip_seconds": {
            "min": min(s for _, s in clips),
            "max": max(s for _, s in clips),
            "mean": round(mean_audio_all, 1),
            "distribution": "log-uniform 5-180 s",
        },
        "formats": list(FORMATS),
        "model": str(SPEECH_MODEL.relative_to(REPO)),
        "device": "cpu (2 shared cores, 1 torch thread)",
        "per_file_files": len(jobs),
        "per_file_subset": f"stratified by length: one in {len(clips) / len(jobs):.0f}"
        f" of the {len(clips)} clips",
        "per_file_subset_mean_audio_s": round(mean_audio_subset, 1),
        "per_file_wall_s": round(per_file["wall_s"], 1),
        "per_file_files_per_min": round(per_file_fpm, 2),
        "per_file_files_per_min_full_set_estimate": round(per_file_fpm_full_set, 2),
        "per_file_estimate_note": "extrapolated to the full set's mean clip length from the subset's "
        "measured fixed cost per job, per-audio-second cost and workflow "
        "overhead per file",
        "per_file_model_loads": len(jobs),
        "per_file_job_startup_s": round(statistics.median(j["startup_s"] for j in jobs), 2),
        "per_file_job_model_load_s": round(statistics.median(j["load_s"] for j in jobs), 2),
        "per_file_job_wall_s": round(statistics.median(j["wall_s"] for j in jobs), 2),
        "per_file_job_fixed_s_mean": round(fixed_s, 2),
        "per_file_job_seconds_per_audio_second": round(variable_per_audio_s, 4),
        "startup_definitions": "startup_s = process wall - transcript timings.total (interpreter start, "
        "torch and gpu_job imports); model_load_s = timings.load (NeMo import + "
        "restore_from)",
        "unmeasured": "a real per-file job's instance start and image pull (AWS Batch on a cold GPU "
        "instance); they add to every per-file job and to each pool worker once",
        "pool_wall_s": round(pool["wall_s"], 1),
        "pool_files_per_min": round(pool_fpm, 2),
        "pool_workers": len(pool["workers"]),
        "pool_model_loads": sum(w.model_loads for w in pool["workers"]),
        "pool_model_load_s": round(worker.model_load_s, 2),
        "pool_worker_batches": worker.batches,
        "pool_worker_transcribe_s": round(worker.gpu_seconds, 1),
        "pool_per_file_batch_jobs": pool["per_file_jobs"],
        "pool_worker_note": "the worker runs in the benchmark's process: it pays NeMo import and model "
        "load once; a fresh interpreter would add interpreter_start_s once per worker",
        "interpreter_start_s": round(interpreter_s, 2),
        "speedup_files_per_min": round(pool_fpm / per_file_fpm, 1),
        "speedup_vs_full_set_estimate": round(pool_fpm / per_file_fpm_full_set, 1),
        # Threshold reasoning (docs/POOL.md#which-files-take-the-pool): a per-file job's start-up is
        # under 10 % of its time only for files longer than 9 x fixed cost / cost per audio second.
        "startup_under_10pct_from_audio_s": round(9 * fixed_s / variable_per_audio_s),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    return 0 if result["pool_model_loads"] == 1 and result["speedup_files_per_min"] >= 5 else 1


if __name__ == "__main__":
    sys.exit(main())
