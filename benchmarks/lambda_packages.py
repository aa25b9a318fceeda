"""Unzipped size and cold import time of every Lambda package that `make build` writes.

For each AWS::Serverless::Function of template.yaml: the bytes under `.aws-sam/build/<Function>/`
plus those of the layers it names (`.aws-sam/build/<Layer>/`), and the wall time a fresh python3.12
process (`-I`, so nothing from the environment leaks in) spends importing the function's handler
module with the built package, then its layers' `python/` folders, first on `sys.path` - the order
Lambda uses (/var/task, /opt/python). `sam build` ships no .pyc and /var/task is read-only, so every
cold start compiles what it imports: the timing process runs with `-B` and finds no .pyc either.
What the functions leave to the Lambda runtime (`scripts/lambda_lock.py`'s RUNTIME_PROVIDED; empty since
issue 22 bundles boto3 and botocore, so the check below has nothing to find) is not in the packages: it
is copied from this venv into a temporary folder that goes last on `sys.path`, as /var/runtime does. The
script fails if a package carries one of those modules or if the handler imported one from anywhere but
that folder.
Median of --runs fresh processes per handler.

    make build && .venv/bin/python benchmarks/lambda_packages.py [--runs 7]

Prints a table and writes benchmarks/results/lambda_packages.json.
"""

from __future__ import annotations

import argparse
import importlib.metadata
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

sys.path.insert(0, str(ROOT / "scripts"))
from lambda_lock import RUNTIME_PROVIDED  # noqa: E402

from local_emulator.template import load_template  # noqa: E402

BUILD = ROOT / ".aws-sam" / "build"
PYTHON312 = Path("/root/.pyenv/versions/3.12.1/bin/python3.12")
RESULTS = ROOT / "benchmarks" / "results" / "lambda_packages.json"
# Prints the import time and where every top-level module that the runtime provides came from.
TIMER = (
    "import importlib, json, sys, time\n"
    "sys.path[:0] = sys.argv[2].split(':')\n"
    "sys.path.append(sys.argv[3])\n"
    "t = time.perf_counter()\n"
    "importlib.import_module(sys.argv[1])\n"
    "seconds = time.perf_counter() - t\n"
    "loaded = [m for m in sys.argv[4].split(',') if m in sys.modules]\n"
    "origins = {m: getattr(sys.modules[m], '__file__', None) for m in loaded}\n"
    "print(json.dumps({'seconds': seconds, 'origins': origins}))\n"
)
# Module-level code reads these (Lambda sets them); no client is created at import time.
LAMBDA_ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_LAMBDA_FUNCTION_NAME": "benchmark",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


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


def runtime_modules() -> list[str]:
    """Top-level module names of the distributions the Lambda runtime provides (boto3, six, ...)."""
    names = set()
    for dist_name in RUNTIME_PROVIDED:
        files = importlib.metadata.distribution(dist_name).files or []
        tops = {f.parts[0] for f in files if len(f.parts) > 1 or f.suffix == ".py"}
        names |= {
            top.removesuffix(".py")
            for top in tops
            if not top.endswith((".dist-info", ".data")) and top not in {"..", "__pycache__"}
        }
    return sorted(names)


def runtime_folder(target: Path, modules: list[str]) -> Path:
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise SystemExit(f"{name} is not installed in this venv")
        if spec.submodule_search_locations:
            shutil.copytree(Path(spec.origin).parent, target / name)
        else:
            shutil.copy2(spec.origin, target)
    return target


def import_seconds(
    module: str, paths: list[Path], runtime: Path, modules: list[str], runs: int
) -> tuple[list[float], list[str]]:
    """Import times, and the runtime modules the handler loaded (each from the runtime folder)."""
    env = {**LAMBDA_ENV, "PATH": os.environ.get("PATH", "")}
    samples, loaded = [], []
    for _ in range(runs):
        done = subprocess.run(
            [
                str(PYTHON312),
                "-I",
                "-B",
                "-c",
                TIMER,
                module,
                ":".join(map(str, paths)),
                str(runtime),
                ",".join(modules),
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"importing {module} failed:\n{done.stderr}")
        result = json.loads(done.stdout)
        stray = {m: f for m, f in result["origins"].items() if not str(f).startswith(str(runtime))}
        if stray:
            raise SystemExit(f"{module} imported runtime modules from outside the runtime folder: {stray}")
        samples.append(result["seconds"])
        loaded = sorted(result["origins"])
    return samples, loaded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    if not BUILD.is_dir():
        raise SystemExit(f"{BUILD} is missing: run `make build` first")
    rows = []
    modules = runtime_modules()
    with tempfile.TemporaryDirectory() as tmp:
        runtime = runtime_folder(Path(tmp), modules)
        for lid, fn in functions().items():
            package = BUILD / lid
            layer_dirs = [BUILD / layer for layer in fn["layers"]]
            size = tree_bytes(package) + sum(tree_bytes(d) for d in layer_dirs)
            paths = [package, *(d / "python" for d in layer_dirs)]
            shipped = [m for m in modules for p in paths if (p / m).exists() or (p / f"{m}.py").exists()]
            if shipped:
                raise SystemExit(f"{lid} ships what the runtime provides: {shipped}")
            samples, loaded = import_seconds(fn["module"], paths, runtime, modules, args.runs)
            rows.append(
                {
                    "function": lid,
                    "handler_module": fn["module"],
                    "layers": fn["layers"],
                    "function_mb": round(tree_bytes(package) / 1e6, 1),
                    "layers_mb": round(sum(tree_bytes(d) for d in layer_dirs) / 1e6, 1),
                    "unzipped_mb": round(size / 1e6, 1),
                    "import_ms_median": round(statistics.median(samples) * 1000, 1),
                    "import_ms_samples": [round(s * 1000, 1) for s in samples],
                    "runtime_modules_imported": loaded,
                }
            )
    print(f"{'function':<26} {'package MB':>10} {'layers MB':>9} {'total MB':>8} {'import ms':>9}")
    for r in rows:
        print(
            f"{r['function']:<26} {r['function_mb']:>10} {r['layers_mb']:>9} {r['unzipped_mb']:>8}"
            f" {r['import_ms_median']:>9}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "python": subprocess.run(
                    [str(PYTHON312), "--version"], capture_output=True, text=True
                ).stdout.strip(),
                "machine": platform.machine(),
                "cpus": os.cpu_count(),
                "runs": args.runs,
                "note": "import time: median of fresh python3.12 -I -B processes (no .pyc, as on Lambda);"
                f" {', '.join(modules)} copied from the dev venv stand in for the runtime's (last on"
                " sys.path; none shipped in a package, every one imported from there)",
                "functions": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
