"""`parakeet transcribe`: local files through gpu_job, no AWS (parakeet_cli/local.py), with a progress bar
and a summary table."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from parakeet_cli import exits
from parakeet_cli.commands.columns import seconds_text
from parakeet_cli.exits import UsageError
from parakeet_cli.shell import JsonOption, Output, app, run


def _print_transcribe_summary(summary: dict[str, Any], console: Console) -> None:
    table = Table(
        title=f"{summary['model'].get('name') or summary['model']['requested']} "
        f"({summary['model'].get('device', '?')}), mode {summary['mode']}"
    )
    for column in ("file", "audio s", "words", "language", "RTFx", "outputs"):
        table.add_column(column, overflow="fold")
    for item in summary["files"]:
        if item["status"] == "ok":
            outputs = ", ".join(Path(p).name for p in item["outputs"].values())
            table.add_row(
                item["input"],
                seconds_text(item["duration_s"]),
                str(item["words"]),
                item["language"] or "-",
                seconds_text(item["rtfx"]),
                outputs,
            )
        else:
            err = item["error"] or {}
            table.add_row(
                item["input"], "-", "-", "-", "-", f"FAILED {err.get('error')}: {err.get('message')}"
            )
    console.print(table)
    total = summary["total"]
    console.print(
        f"{total['ok']}/{total['files']} files, {total['audio_s']:.1f} s of audio, {total['words']} words, "
        f"RTFx {seconds_text(total['rtfx'])} ({total['processing_s']:.1f} s processing; model load "
        f"{summary['model']['load_s']:.1f} s) -> {summary['out']}"
    )


@app.command()
def transcribe(
    paths: Annotated[list[Path], typer.Argument(help="Audio/video files, or directories of them.")],
    mode: Annotated[
        str,
        typer.Option(
            "--mode",
            help="batched (one batched engine for every file, the production default), auto, full, "
            "local_attention or streaming.",
        ),
    ] = "batched",
    formats: Annotated[
        str, typer.Option("--format", help="Comma-separated: json,srt,vtt,txt.")
    ] = "json,srt,vtt,txt",
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("transcripts"),
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Pretrained name or .nemo path (default $GPU_JOB_MODEL or nvidia/parakeet-tdt-0.6b-v3).",
        ),
    ] = None,
    device: Annotated[
        str | None, typer.Option("--device", help="cpu or cuda (default: cuda if available).")
    ] = None,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bar.")] = False,
    languages: Annotated[
        str | None,
        typer.Option(
            "--languages",
            help="Expected languages, e.g. 'en de' (or 'any'): language ID chooses among them only and names "
            "other-language segments in warnings (default $EXPECTED_LANGUAGES; docs/LANGUAGES.md).",
        ),
    ] = None,
    vocabulary: Annotated[
        Path | None,
        typer.Option(
            "--vocabulary",
            help="Phrase file to boost (one phrase per line, optional `| weight`; docs/VOCABULARY.md).",
        ),
    ] = None,
    speakers: Annotated[
        str | None,
        typer.Option(
            "--speakers",
            help="off, auto or the most speakers (1-4): label who spoke (default $SPEAKERS, auto; "
            "docs/SPEAKERS.md).",
        ),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Transcribe local files with gpu_job (no AWS): writes <out>/<name>.<format> and prints RTFx."""

    def body(output: Output) -> int:
        from parakeet_cli import local, render

        try:
            chosen = render.parse_formats(formats)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if mode not in local.MODES:
            raise UsageError(f"--mode must be one of {', '.join(local.MODES)}")
        if device not in (None, "cpu", "cuda") and not str(device).startswith("cuda:"):
            raise UsageError("--device must be cpu or cuda")
        inputs = local.expand_inputs(paths)
        show = not (json_out or no_progress)
        with contextlib.redirect_stdout(sys.stderr):  # stdout is for the summary (or the --json document)
            summary = _transcribe_with_progress(
                local,
                inputs,
                out,
                chosen,
                mode,
                model,
                device,
                show,
                output.err,
                vocabulary,
                languages,
                speakers,
            )
        output.emit(summary, lambda console: _print_transcribe_summary(summary, console))
        return exits.FAILED_ITEMS if summary["total"]["failed"] else exits.OK

    run(json_out, body)


def _transcribe_with_progress(
    local: Any,
    inputs: list[Any],
    out: Path,
    formats: list[str],
    mode: str,
    model: str | None,
    device: str | None,
    show: bool,
    console: Console,
    vocabulary: Path | None = None,
    languages: str | None = None,
    speakers: str | None = None,
) -> dict[str, Any]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.fields[total_s]} s audio"),
        TextColumn("{task.fields[files]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, disable=not show, transient=False) as progress:
        task = progress.add_task("loading model", total=None, total_s="?", files="")
        done = {"files": 0}

        def on_start(total_s: float | None) -> None:
            progress.update(
                task,
                description="transcribing",
                total=total_s,
                total_s=f"{total_s:.0f}" if total_s else "?",
                files=f"0/{len(inputs)} files",
            )

        def on_progress(seconds: float, name: str) -> None:
            done["files"] += 1
            progress.update(task, advance=seconds, files=f"{done['files']}/{len(inputs)} files")

        summary: dict[str, Any] = local.transcribe_files(
            inputs,
            out,
            formats,
            mode,
            model,
            device,
            on_start=on_start,
            on_progress=on_progress,
            vocabulary=vocabulary,
            languages=languages,
            speakers=speakers,
        )
        progress.update(task, description="done", completed=progress.tasks[0].total or 0)
    return summary
