"""Unzipped size and cold import time of every Lambda package that `make build` writes.

For each AWS::Serverless::Function of template.yaml: the bytes under `.aws-sam/build/<Function>/`
plus those of the layers it names (`.aws-sam/build/<Layer>/`), and the wall time a fresh python3.12
process (`-I`, so nothing from the environment leaks in) spends importing the function's handler
module with the built package, then its layers' `python/` folders, first on `sys.path` - the order
Lambda uses (/var/task, /opt/python). `sam build` ships no .pyc and /var/task is read-only, so every
cold start compiles what it imports: the timing process runs with `-B` and finds no .pyc either.
boto3 and s3transfer are not in the packages: the Lambda
runtime provides them (/var/runtime), so they are copied from this venv into a temporary folder
that goes last on `sys.path`, as /var/runtime does. Median of --runs fresh processes per handler.

    make build && .venv/bin/python benchmarks/lambda_packages.py [--runs 7]

Prints a table and writes benchmarks/results/lambda_packages.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from local_emulator.template import load_template  # noqa: E402

BUILD = ROOT / ".aws-sam" / "build"
PYTHON312 = Path("/root/.pyenv/versions/3.12.1/bin/python3.12")
RESULTS = ROOT / "benchmarks" / "results" / "lambda_packages.json"
RUNTIME_PACKAGES = ("boto3", "s3transfer")  # what /var/runtime adds besides the botocore we ship
TIMER = (
    "import importlib, sys, time\n"
    "sys.path[:0] = sys.argv[2].split(':')\n"
    "sys.path.append(sys.argv[3])\n"
    "t = time.perf_counter()\n"
    "importlib.import_module(sys.argv[1])\n"
    "print(time.perf_counter() - t)\n"
)
# Module-level code reads these (Lambda sets them); no client is created at import time.
LAMBDA_ENV = {"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
              "AWS_LAMBDA_FUNCTION_NAME": "benchmark", "POWERTOOLS_TRACE_DISABLED": "true"}


def tree_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def functions() -> dict[str, dict[str, Any]]:
    """Function logical id -> handler module and layer logical ids, from the template."""
    template = load_template()
    found = {}
    for lid, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        handler = props.get("Handler") or template["Globals"]["Function"]["Handler"]
        layers = [layer["Ref"] for layer in props.get("Layers", [])]
        found[lid] = {"module": handler.rsplit(".", 1)[0], "layers": layers}
    return found


def runtime_folder(target: Path) -> Path:
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise SystemExit(f"{name} is not installed in this venv")
        shutil.copytree(Path(spec.origin).parent, target / name)
    return target


def import_seconds(module: str, paths: list[Path], runtime: Path, runs: int) -> list[float]:
    env = {**LAMBDA_ENV, "PATH": os.environ.get("PATH", "")}
    samples = []
    for _ in range(runs):
        done = subprocess.run(
            [str(PYTHON312), "-I", "-B", "-c", TIMER, module, ":".join(map(str, paths)), str(runtime)],
            capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise SystemExit(f"importing {module} failed:\n{done.stderr}")
        samples.append(float(done.stdout.strip()))
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    if not BUILD.is_dir():
        raise SystemExit(f"{BUILD} is missing: run `make build` first")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        runtime = runtime_folder(Path(tmp))
        for lid, fn in functions().items():
            package = BUILD / lid
            layer_dirs = [BUILD / layer for layer in fn["layers"]]
            size = tree_bytes(package) + sum(tree_bytes(d) for d in layer_dirs)
            paths = [package, *(d / "python" for d in layer_dirs)]
            samples = import_seconds(fn["module"], paths, runtime, args.runs)
            rows.append({
                "function": lid, "handler_module": fn["module"], "layers": fn["layers"],
                "function_mb": round(tree_bytes(package) / 1e6, 1),
                "layers_mb": round(sum(tree_bytes(d) for d in layer_dirs) / 1e6, 1),
                "unzipped_mb": round(size / 1e6, 1),
                "import_ms_median": round(statistics.median(samples) * 1000, 1),
                "import_ms_samples": [round(s * 1000, 1) for s in samples],
            })
    print(f"{'function':<26} {'package MB':>10} {'layers MB':>9} {'total MB':>8} {'import ms':>9}")
    for r in rows:
        print(f"{r['function']:<26} {r['function_mb']:>10} {r['layers_mb']:>9} {r['unzipped_mb']:>8}"
              f" {r['import_ms_median']:>9}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "python": subprocess.run([str(PYTHON312), "--version"], capture_output=True,
                                 text=True).stdout.strip(),
        "machine": platform.machine(), "cpus": os.cpu_count(), "runs": args.runs,
        "note": "import time: median of fresh python3.12 -I -B processes (no .pyc, as on Lambda);"
                " boto3/s3transfer copied from the dev venv stand in for the runtime's",
        "functions": rows,
    }, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
