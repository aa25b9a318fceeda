"""Command line: the AWS Batch form and the workstation form, one exit-code contract.

Batch:   python -m gpu_job --input s3://in/a/x.mp3 --output s3://out/transcripts/a/x.mp3/ --mode auto
Person:  python -m gpu_job transcribe a.mp3 b.wav --out ./transcripts
Pool:    python -m gpu_job pool [--queue-url URL]   (a worker of the short-file pool, gpu_job/pool_cli.py)

Exit codes (docs/CONTRACTS.md): 0 transcript written; 65 bad input (one JSON line on stderr and the same
document at `<output_prefix>error.json`); 70 internal error (one JSON line on stderr). `main` returns the
code rather than exiting, so the local emulator can run a job in-process under moto.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import traceback
from typing import Any

from gpu_job.errors import EXIT_OK, GPU_JOB_EXIT_BAD_INPUT, GPU_JOB_EXIT_INTERNAL, BadInputError

log = logging.getLogger("gpu_job")


def _add_common(parser: argparse.ArgumentParser) -> None:
    from gpu_job.config import default_device, default_model

    parser.add_argument(
        "--mode",
        default=os.environ.get("GPU_JOB_MODE", "auto"),
        choices=["auto", "full", "local_attention", "streaming"],
    )
    parser.add_argument("--chunk-s", type=float, default=float(os.environ.get("CHUNK_S", 20.0)))
    parser.add_argument("--left-s", type=float, default=float(os.environ.get("LEFT_S", 5.0)))
    parser.add_argument("--right-s", type=float, default=float(os.environ.get("RIGHT_S", 3.0)))
    parser.add_argument("--model", default=default_model(), help="pretrained name or path to a .nemo file")
    parser.add_argument("--device", default=default_device(), help="cuda or cpu (default: cuda if available)")


def _batch_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gpu_job", description="Transcribe one input (AWS Batch form)."
    )
    parser.add_argument("--input", required=True, help="s3:// URI or local path")
    parser.add_argument("--output", required=True, help="output prefix (s3:// or local directory)")
    _add_common(parser)
    return parser


def _person_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gpu_job transcribe", description="Transcribe files.")
    parser.add_argument("inputs", nargs="+", help="local paths or s3:// URIs")
    parser.add_argument(
        "--out", default="./transcripts", help="output root (local directory or s3:// prefix)"
    )
    _add_common(parser)
    return parser


def _report(error: str, message: str, source: str) -> dict[str, Any]:
    document = {"error": error, "message": message, "input": source}
    print(json.dumps(document, ensure_ascii=False), file=sys.stderr, flush=True)
    return document


def _run_one(source: str, prefix: str, model: Any, args: argparse.Namespace) -> int:
    from gpu_job import api
    from gpu_job.storage import join_prefix, write_json

    try:
        document = api.transcribe(
            source, model, mode=args.mode, chunk_s=args.chunk_s, left_s=args.left_s, right_s=args.right_s
        )
        target = join_prefix(prefix, "transcript.json")
        write_json(target, document)
        print(target, flush=True)
        return EXIT_OK
    except BadInputError as exc:
        error = _report(type(exc).__name__, str(exc), source)
        try:
            write_json(join_prefix(prefix, "error.json"), error)
        except Exception:
            traceback.print_exc()
            _report("InternalError", "could not write error.json", source)
            return GPU_JOB_EXIT_INTERNAL
        return GPU_JOB_EXIT_BAD_INPUT
    except Exception as exc:
        traceback.print_exc()
        _report(type(exc).__name__, str(exc), source)
        return GPU_JOB_EXIT_INTERNAL


def _quiet_nemo() -> None:
    """NeMo logs a lot at INFO; keep stderr readable so the error JSON line stands out.

    Only NeMo's own logger is raised to WARNING: NeMo's ``logging.setLevel`` also re-levels every handler it
    can reach, which silenced other code's INFO records when jobs run in-process (the local emulator, tests).
    """
    logging.getLogger("nemo_logger").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "pool":  # a long-running pool worker (gpu_job/pool_cli.py)
        from gpu_job.pool_cli import main as pool_main

        return pool_main(argv[1:])
    person = bool(argv) and argv[0] == "transcribe"
    args = _person_parser().parse_args(argv[1:]) if person else _batch_parser().parse_args(argv)
    sources = args.inputs if person else [args.input]

    try:
        _quiet_nemo()
        from gpu_job import api

        model = api.load_model(args.model, args.device)
    except Exception as exc:
        traceback.print_exc()
        _report(type(exc).__name__, f"model load failed: {exc}", sources[0])
        return GPU_JOB_EXIT_INTERNAL

    from gpu_job.storage import derived_prefix

    codes = []
    for source in sources:
        prefix = derived_prefix(args.out, source) if person else args.output
        codes.append(_run_one(source, prefix, model, args))
    # Worst outcome wins: any internal error -> 70, else any bad input -> 65.
    if GPU_JOB_EXIT_INTERNAL in codes:
        return GPU_JOB_EXIT_INTERNAL
    return GPU_JOB_EXIT_BAD_INPUT if GPU_JOB_EXIT_BAD_INPUT in codes else EXIT_OK
