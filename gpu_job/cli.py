"""Command line: the AWS Batch form, the flag form and the workstation form, one exit-code contract.

Batch:   python -m gpu_job --request '<TranscriptionRequest JSON>'   (the Plan's command, verbatim)
Flags:   python -m gpu_job --input s3://in/a/x.mp3 --output s3://out/transcripts/a/x.mp3/ --mode auto
Person:  python -m gpu_job transcribe a.mp3 b.wav --out ./transcripts

The Batch form does what the plan says: it reads exactly ``request.source`` (pinned to its
VersionId or ETag), runs ``request.mode`` and writes under ``request.output_prefix``. The two forms
for people may name local files and ask for ``auto`` (the mode rule applied to the decoded duration),
which a TranscriptionRequest cannot express, so all three build the same `Job` instead.

Exit codes (docs/CONTRACTS.md, gpu_job/outcome.py): 0 transcript written; 65 bad input (one JSON line on
stderr and the same document at `<output_prefix>error.json`); 66 superseded (the key no longer holds the
upload: nothing written); 70 internal error (one JSON line on stderr). `main` returns the
code rather than exiting, so the local emulator can run a job in-process.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from dataclasses import dataclass
from typing import Any

from pipeline.contracts import TranscriptionRequest, UploadedObject
from pipeline.modes import MODES
from pipeline.outcomes import (
    GPU_JOB_EXIT_BAD_INPUT,
    GPU_JOB_EXIT_INTERNAL,
    GPU_JOB_EXIT_OK,
    GPU_JOB_EXIT_SUPERSEDED,
    BadInputError,
    SourceSuperseded,
)
from pipeline.settings import Settings

from gpu_job.outcome import report, write_outcome

log = logging.getLogger("gpu_job")


@dataclass(frozen=True)
class Job:
    """One input to transcribe and where to write; window values None take the settings'."""

    source: UploadedObject | str
    output_prefix: str
    mode: str
    chunk_s: float | None = None
    left_s: float | None = None
    right_s: float | None = None
    channel_mode: str | None = None  # mix | split | auto; None: the CHANNEL_MODE setting
    expected_languages: list[str] | None = None  # language ID restricted to these; None: any
    redaction: str | None = None  # off | tag | redact; None: the REDACTION setting (docs/REDACTION.md)
    redact_audio: bool | None = None  # None: the REDACT_AUDIO setting
    speakers: str | None = None  # off | auto | 1-4; None: the SPEAKERS setting (docs/SPEAKERS.md)
    # The Batch form: the request itself, transcribed as it says (its pinned vocabulary included)
    request: TranscriptionRequest | None = None

    @classmethod
    def from_request(cls, request: TranscriptionRequest) -> Job:
        return cls(
            request.source,
            request.output_prefix,
            request.mode,
            channel_mode=request.channel_mode,
            expected_languages=request.expected_languages,
            redaction=request.redaction,
            redact_audio=request.redact_audio,
            speakers=request.speakers,
            request=request,
        )

    @property
    def input_name(self) -> str:
        return self.source.uri if isinstance(self.source, UploadedObject) else self.source


def _add_model(parser: argparse.ArgumentParser) -> None:
    from gpu_job.config import default_device, default_model

    parser.add_argument("--model", default=default_model(), help="pretrained name or path to a .nemo file")
    parser.add_argument("--device", default=default_device(), help="cuda or cpu (default: cuda if available)")


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mode",
        default=os.environ.get("GPU_JOB_MODE", "auto"),
        choices=["auto", *MODES],
    )
    parser.add_argument("--chunk-s", type=float, help="default: CHUNK_S (pipeline.settings)")
    parser.add_argument("--left-s", type=float, help="default: LEFT_S")
    parser.add_argument("--right-s", type=float, help="default: RIGHT_S")
    parser.add_argument(
        "--channel-mode", choices=["mix", "split", "auto"], help="default: CHANNEL_MODE (docs/CHANNELS.md)"
    )
    parser.add_argument(
        "--speakers",
        type=_speakers,
        help="off, auto or the most speakers (1-4): label who spoke (docs/SPEAKERS.md); default: SPEAKERS",
    )
    parser.add_argument(
        "--languages",
        type=_languages,
        help="expected languages, e.g. 'en de' or 'en+de' (or 'any'): language ID chooses among these only "
        "(docs/LANGUAGES.md); default: EXPECTED_LANGUAGES",
    )
    _add_model(parser)


def _languages(text: str) -> list[str]:
    """--languages: the one parser (pipeline.languages); an unknown code is a usage error naming it."""
    from pipeline.languages import parse_expected_languages

    try:
        return list(parse_expected_languages(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _speakers(text: str) -> str:
    """--speakers: the setting's one parser (pipeline.speakers); a bad value is a usage error."""
    from pipeline.speakers import parse_speakers

    try:
        return parse_speakers(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _expected(args: argparse.Namespace) -> list[str] | None:
    """The flag, else EXPECTED_LANGUAGES (the forms for people have no Probe to resolve it); None: any."""
    if args.languages is not None:
        return args.languages or None
    from pipeline.settings import Settings

    return Settings.from_env().expected_language_list()


def _request_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gpu_job", description="Transcribe what a TranscriptionRequest says (AWS Batch form)."
    )
    parser.add_argument("--request", required=True, help="TranscriptionRequest JSON (pipeline.contracts)")
    _add_model(parser)
    return parser


def _flags_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gpu_job", description="Transcribe one input.")
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
    return report({"error": error, "message": message, "input": source})


def _run_one(job: Job, model: Any) -> int:
    from gpu_job import api

    try:
        outcome: dict[str, Any] | BaseException = (
            api.transcribe_request(job.request, model)
            if job.request is not None
            else api.transcribe(
                job.source,
                model,
                mode=job.mode,
                chunk_s=job.chunk_s,
                left_s=job.left_s,
                right_s=job.right_s,
                channel_mode=job.channel_mode,
                expected_languages=job.expected_languages,
                speakers=job.speakers,
            )
        )
    except Exception as exc:
        if not isinstance(exc, BadInputError | SourceSuperseded):
            traceback.print_exc()
        outcome = exc
    settings = Settings.from_env()
    redaction = job.redaction or settings.redaction
    redact_audio = settings.redact_audio if job.redact_audio is None else job.redact_audio
    written = write_outcome(job.output_prefix, job.source, outcome, redaction, redact_audio)
    if written.exit_code == GPU_JOB_EXIT_OK:
        print(written.location, flush=True)
    return written.exit_code


def _quiet_nemo() -> None:
    """NeMo logs a lot at INFO; keep stderr readable so the error JSON line stands out.

    Only NeMo's own logger is raised to WARNING: NeMo's ``logging.setLevel`` also re-levels every handler it
    can reach, which silenced other code's INFO records when jobs run in-process (the local emulator, tests).
    """
    logging.getLogger("nemo_logger").setLevel(logging.WARNING)


def _jobs(argv: list[str]) -> tuple[list[Job], argparse.Namespace]:
    """The jobs the command line asks for; a malformed request is a ValueError (our Plan's bug)."""
    from gpu_job.storage import derived_prefix

    if argv and argv[0] == "transcribe":
        args = _person_parser().parse_args(argv[1:])
        window = (args.chunk_s, args.left_s, args.right_s, args.channel_mode, _expected(args))
        return [
            Job(s, derived_prefix(args.out, s), args.mode, *window, speakers=args.speakers)
            for s in args.inputs
        ], args
    if "--request" in argv or any(a.startswith("--request=") for a in argv):
        args = _request_parser().parse_args(argv)
        return [Job.from_request(TranscriptionRequest.model_validate_json(args.request))], args
    args = _flags_parser().parse_args(argv)
    window = (args.chunk_s, args.left_s, args.right_s, args.channel_mode, _expected(args))
    return [Job(args.input, args.output, args.mode, *window, speakers=args.speakers)], args


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "pool":  # a long-running pool worker (gpu_job/pool/cli.py)
        from gpu_job.pool.cli import main as pool_main

        return pool_main(argv[1:])
    try:
        jobs, args = _jobs(argv)
    except ValueError as exc:  # pydantic's ValidationError is one: the plan broke the contract
        _report(type(exc).__name__, f"malformed --request: {exc}", "")
        return GPU_JOB_EXIT_INTERNAL

    try:
        _quiet_nemo()
        from gpu_job import api

        model = api.load_model(args.model, args.device)
    except Exception as exc:
        traceback.print_exc()
        _report(type(exc).__name__, f"model load failed: {exc}", jobs[0].input_name)
        return GPU_JOB_EXIT_INTERNAL

    codes = [_run_one(job, model) for job in jobs]
    # Worst outcome wins: any internal error -> 70, else any bad input -> 65, else any superseded -> 66.
    for code in (GPU_JOB_EXIT_INTERNAL, GPU_JOB_EXIT_BAD_INPUT, GPU_JOB_EXIT_SUPERSEDED):
        if code in codes:
            return code
    return GPU_JOB_EXIT_OK
