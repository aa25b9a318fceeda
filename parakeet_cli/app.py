"""`parakeet`: the console script (pyproject.toml ``[project.scripts]``). Typer lives here only.

    parakeet transcribe FILE|DIR... [--mode] [--format json,srt,vtt,txt] [--out DIR]   no AWS
    parakeet (--stack NAME | --local [--endpoint-url URL]) upload|status|get|retry|cost|backfill|stack ...

Every command takes ``--json`` (stdout then holds exactly one JSON document, errors included) and ends
with a documented exit code (parakeet_cli.exits, docs/CLI.md).

Adding a command (`backfill` and `search` are wired this way; their logic is the plain functions of
parakeet_cli/backfill.py and parakeet_cli/search.py)::

    @app.command()
    def backfill(ctx: typer.Context, target: str, dry_run: bool = False, json_out: JsonOption = False):
        def body(out: Output) -> int:
            stack = state(ctx).stack()              # resolved names + clients (tests inject clients)
            result = backfill_lib.start(stack, target, dry_run=dry_run)
            out.emit(result, lambda console: console.print(...))
            return exits.OK                         # or exits.FAILED_ITEMS, or raise exits.NotFound(...)
        run(json_out, body)

Tests drive commands with Typer's ``CliRunner().invoke(app, [...], obj=CliState(client_factory=...))``:
the injected factory makes boto3 clients for moto's in-process AWS (no endpoint needed).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from parakeet_cli import exits
from parakeet_cli.connect import (
    LOCAL_STACK_NAME,
    ClientFactory,
    Stack,
    aws_errors,
    boto3_clients,
    local_endpoint,
    resolve_stack,
)
from parakeet_cli.exits import CliError, UsageError

app = typer.Typer(
    name="parakeet",
    help="Parakeet-TDT speech to text: try the model on local files, or drive a deployed or local stack.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout (for scripts).")]


# ---------------------------------------------------------------- shared state and output
@dataclass
class CliState:
    """The global options, and the stack they resolve to (once per command line)."""

    stack_name: str | None = None
    local: bool = False
    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    client_factory: ClientFactory | None = None  # injected by tests; else boto3 clients from the options
    _stack: Stack | None = field(default=None, repr=False)

    def stack(self) -> Stack:
        if self._stack is not None:
            return self._stack
        if not self.local and not self.stack_name:
            raise UsageError("which stack? pass --stack NAME (or set PARAKEET_STACK), or --local")
        endpoint = local_endpoint(self.endpoint_url) if self.local else self.endpoint_url
        clients = self.client_factory or boto3_clients(self.region, endpoint, self.profile, self.local)
        name = self.stack_name or LOCAL_STACK_NAME
        names = resolve_stack(clients, name, local=self.local, endpoint_url=endpoint if self.local else None)
        self._stack = Stack(names=names, clients=clients)
        return self._stack


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


class Output:
    """Human output (rich, stdout; progress and errors on stderr) or one JSON document on stdout.

    ``stdout`` is the stream the command's answer goes to, taken when the command starts: while its body
    runs, everything else that writes to stdout in this process (the in-process local stack's Powertools
    loggers, NeMo, a library's print) is sent to stderr by :func:`run`, so the answer stays alone."""

    def __init__(self, json_mode: bool, stdout: IO[str] | None = None) -> None:
        self.json = json_mode
        self.stdout = sys.stdout if stdout is None else stdout
        self.console = Console(file=self.stdout, highlight=False, soft_wrap=True)
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)

    def emit(self, payload: Any, human: Callable[[Console], None]) -> None:
        if self.json:
            self._document(payload)
        else:
            human(self.console)

    def error(self, exc: CliError) -> None:
        if self.json:
            self._document(exc.as_dict())
        else:
            self.err.print(f"[red]error[/red]: {exc.message}", markup=True)

    def _document(self, payload: Any) -> None:
        self.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")
        self.stdout.flush()


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[IO[str]]:
    """While the block runs, whatever is written to stdout goes to stderr: Python's ``sys.stdout`` and,
    in a real process, file descriptor 1 (C libraries, subprocesses). Yields the real stdout, which
    only the command's own answer uses."""
    answer = sys.stdout
    saved_fd = None
    try:
        if answer.fileno() == 1:
            answer.flush()
            saved_fd = os.dup(1)
            os.dup2(2, 1)
            answer = os.fdopen(os.dup(saved_fd), "w", encoding="utf-8", closefd=True)
    except (AttributeError, OSError, ValueError):  # an in-memory stdout (tests): Python-level only
        saved_fd = None
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield answer
    finally:
        if saved_fd is not None:
            sys.stdout.flush()
            os.dup2(saved_fd, 1)
            os.close(saved_fd)
            answer.close()


def run(json_out: bool, body: Callable[[Output], int | None]) -> None:
    """Run a command body; typed errors (and AWS errors) become their exit codes."""
    with stdout_to_stderr() as answer:
        out = Output(json_out, answer)
        try:
            with aws_errors("AWS call failed"):
                code = body(out)
        except CliError as exc:
            out.error(exc)
            raise typer.Exit(exc.code) from None
    raise typer.Exit(exits.OK if code is None else code)


@app.callback()
def _global(
    ctx: typer.Context,
    stack: Annotated[
        str | None,
        typer.Option(
            "--stack",
            envvar="PARAKEET_STACK",
            help="Deployed stack name (its CloudFormation outputs name "
            "the buckets, table and state machine).",
        ),
    ] = None,
    local: Annotated[
        bool, typer.Option("--local", help="The local stack (`make serve`) at --endpoint-url.")
    ] = False,
    endpoint_url: Annotated[
        str | None,
        typer.Option(
            "--endpoint-url",
            help="AWS endpoint; for --local default $PARAKEET_ENDPOINT_URL or http://127.0.0.1:4566.",
        ),
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="AWS region (default: your AWS config).")
    ] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile.")] = None,
) -> None:
    """Parakeet-TDT speech to text on AWS: transcribe local files, or upload, watch, fetch, retry and cost."""
    current = state(ctx)
    current.stack_name, current.local, current.region, current.profile = stack, local, region, profile
    current.endpoint_url = endpoint_url
    current._stack = None


# ---------------------------------------------------------------- transcribe (no AWS)
def _fmt_s(seconds: Any) -> str:
    return "-" if seconds is None else f"{float(seconds):.1f}"


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
                _fmt_s(item["duration_s"]),
                str(item["words"]),
                item["language"] or "-",
                _fmt_s(item["rtfx"]),
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
        f"RTFx {_fmt_s(total['rtfx'])} ({total['processing_s']:.1f} s processing; model load "
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


# ---------------------------------------------------------------- stack commands
def _when(value: Any) -> str:
    return str(value or "-").replace("T", " ").removesuffix("Z")[:19]


def _detail(row: dict[str, Any]) -> str:
    status = row.get("status")
    if status == "FAILED":
        return f"{row.get('reason_class') or '?'}: {row.get('reason') or row.get('error') or '?'}"
    if status == "TRANSCRIBED":
        duration = row.get("duration_s")
        return (
            f"{row.get('mode') or '?'}, {_fmt_s(duration)} s, {row.get('language') or 'und'}, "
            f"{row.get('word_count', '?')} words"
        )
    if status == "SUPERSEDED":
        return f"by {row.get('superseded_by')}"
    if status in ("ARCHIVED", "RESTORING"):
        archive = row.get("archive") or {}
        where = " ".join(str(v) for v in (archive.get("storage_class"), archive.get("archive_status")) if v)
        if status == "RESTORING":
            return f"{where}: {archive.get('tier')} restore, expected by {_when(archive.get('expected_by'))}"
        return f"{where or '?'}: {row.get('reason')}, needs a restore (docs/ARCHIVES.md)"
    return ""


def _rows_table(rows: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title)
    for column in ("key", "status", "updated (UTC)", "detail", "execution"):
        table.add_column(column, overflow="fold")
    for row in rows:
        execution = row.get("execution") or {}
        table.add_row(
            str(row.get("key") or row.get("source_uri")),
            str(row.get("status")),
            _when(row.get("updated_at")),
            _detail(row),
            str(execution.get("status") or "-"),
        )
    return table


def _print_links(rows: list[dict[str, Any]], console: Console) -> None:
    for row in rows:
        execution = row.get("execution") or {}
        link = execution.get("console_url") or execution.get("arn")
        if link:
            console.print(f"{row.get('key')}: {link}")


@app.command()
def upload(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files, or directories (their files keep their path).")],
    prefix: Annotated[str, typer.Option("--prefix", help="Key prefix in the input bucket.")] = "",
    channel_mode: Annotated[
        str | None,
        typer.Option(
            "--channel-mode", help="mix, split or auto: the channel-mode object tag the Probe reads."
        ),
    ] = None,
    languages: Annotated[
        str | None,
        typer.Option(
            "--languages",
            help="Expected languages, e.g. 'en de' (or 'any'): the expected-languages object tag "
            "(docs/LANGUAGES.md).",
        ),
    ] = None,
    speakers: Annotated[
        str | None,
        typer.Option(
            "--speakers", help="off, auto or 1-4: the speakers object tag the Probe reads (docs/SPEAKERS.md)."
        ),
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until each upload is transcribed or failed.")
    ] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds --wait waits at most.")] = 1800.0,
    json_out: JsonOption = False,
) -> None:
    """Upload files to the stack's input bucket; each upload starts its own execution."""

    def body(out: Output) -> int:
        from parakeet_cli import remote

        stack = state(ctx).stack()
        started_at = datetime.datetime.now(datetime.UTC)
        results = remote.upload(stack, paths, prefix, channel_mode, languages, speakers)
        if wait:
            remote.wait_for_uploads(stack, results, started_at, timeout)
        failed = any("error" in r or (wait and r.get("status") != "TRANSCRIBED") for r in results)
        code = exits.FAILED_ITEMS if failed else exits.OK

        def human(console: Console) -> None:
            for r in results:
                if "error" in r:
                    console.print(f"FAILED {r['path']}: {r['error']['message']}")
                    continue
                state_text = f" {r['status']}" if "status" in r else ""
                console.print(f"{r['path']} -> {r['uri']}{state_text}")
                if r.get("message"):
                    console.print(f"  {r['message']}")
                name = r.get("execution_name") or f"{r['execution_name_prefix']}... (named on its event)"
                console.print(
                    f"  execution {name}" + (f"\n  {r['console_url']}" if r.get("console_url") else "")
                )

        out.emit({"stack": stack.names.stack_name, "uploads": results}, human)
        return code

    run(json_out, body)


@app.command()
def status(
    ctx: typer.Context,
    key: Annotated[str | None, typer.Argument(help="Object key in the input bucket (or s3:// URI).")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Uploads whose latest run FAILED.")] = False,
    running: Annotated[bool, typer.Option("--running", help="Uploads claimed and not finished.")] = False,
    limit: Annotated[int, typer.Option("--limit", help="Rows at most (lists).")] = 50,
    json_out: JsonOption = False,
) -> None:
    """Catalog state and execution of one key, of the failed or running uploads, or an overview."""

    def body(out: Output) -> int:
        from parakeet_cli import remote

        if sum(bool(x) for x in (key, failed, running)) > 1:
            raise UsageError("give one of KEY, --failed, --running")
        stack = state(ctx).stack()
        if key:
            result = remote.status_of_key(stack, key)

            def human(console: Console) -> None:
                console.print(_rows_table(result["uploads"], result["source_uri"]))
                latest = result["latest"]
                if latest.get("status") == "FAILED" and latest.get("message"):
                    console.print(f"message: {latest['message']}")
                if latest.get("outputs"):
                    console.print(f"outputs: {', '.join(sorted(latest['outputs'].values()))}")
                _print_links([latest], console)

            out.emit(result, human)
            return exits.OK
        if failed or running:
            result = remote.status_list(stack, "FAILED" if failed else "CLAIMED", limit=limit)

            def human_list(console: Console) -> None:
                console.print(_rows_table(result["rows"], f"{result['count']} {result['status']}"))
                _print_links(result["rows"], console)

            out.emit(result, human_list)
            return exits.OK
        overview = remote.status_overview(stack, limit=min(limit, 20))

        def human_overview(console: Console) -> None:
            counts = ", ".join(f"{n} {s}" for s, n in overview["counts"].items())
            console.print(f"stack {stack.names.stack_name} ({stack.names.region}): {counts}")
            console.print(_rows_table(overview["recent"], "most recently updated"))

        out.emit(overview, human_overview)
        return exits.OK

    run(json_out, body)


@app.command()
def get(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Object key in the input bucket (or s3:// URI).")],
    fmt: Annotated[str, typer.Option("--format", help="srt, vtt, txt or json.")] = "srt",
    out_path: Annotated[
        Path | None,
        typer.Option("--out", help="File, or existing folder (<name>.<format>); default: stdout."),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Fetch the transcript of a key's newest transcribed upload."""

    def body(out: Output) -> int:
        from parakeet_cli import remote

        stack = state(ctx).stack()
        row, uri, content = remote.transcript_file(stack, key, fmt)
        target: Path | None = None
        if out_path is not None:
            target = out_path
            if out_path.is_dir() or str(out_path).endswith("/"):
                target = out_path / f"{Path(str(row.get('key') or key)).stem}.{fmt}"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        text = content.decode("utf-8", errors="replace")
        payload = {
            "source_uri": row.get("source_uri"),
            "etag": row.get("etag"),
            "format": fmt,
            "uri": uri,
            "path": str(target) if target else None,
            "content": None if target else text,
        }

        def human(console: Console) -> None:
            if target is not None:
                console.print(f"{uri} -> {target}")
            else:
                console.file.write(text)

        out.emit(payload, human)
        return exits.OK

    run(json_out, body)


@app.command()
def retry(
    ctx: typer.Context,
    key: Annotated[str | None, typer.Argument(help="Object key whose newest upload FAILED.")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Every FAILED upload (up to --limit).")] = False,
    include_bad_input: Annotated[
        bool,
        typer.Option(
            "--include-bad-input", help="Also retry bad-input failures (e.g. after raising a limit)."
        ),
    ] = False,
    limit: Annotated[int, typer.Option("--limit", help="Rows at most with --failed.")] = 100,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for the retried executions to finish.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds --wait waits at most.")] = 1800.0,
    json_out: JsonOption = False,
) -> None:
    """Re-run failed uploads without re-uploading them (the S3 event is rebuilt from the catalog)."""

    def body(out: Output) -> int:
        from parakeet_cli import catalog, remote

        stack = state(ctx).stack()
        rows = remote.retry_targets(stack, key, failed, limit)
        results = [remote.retry_row(stack, row, include_bad_input) for row in rows]
        started = [r for r in results if r["retried"]]
        if wait and started:
            statuses = remote.wait_for_executions(stack, [r["execution_arn"] for r in started], timeout)
            for r in started:
                r["execution_status"] = statuses[r["execution_arn"]]
                row = catalog.get_row(stack, r["source_uri"], r["etag"])
                r["status"] = (row or {}).get("status")
        ok = all(r["retried"] for r in results) and all(
            r.get("status", "TRANSCRIBED") == "TRANSCRIBED" for r in started
        )

        def human(console: Console) -> None:
            if not results:
                console.print("nothing to retry")
            for r in results:
                if r["retried"]:
                    done = f" -> {r['status']}" if "status" in r else ""
                    console.print(f"{r['key']}: started {r['execution_name']}{done}")
                    if r.get("console_url"):
                        console.print(f"  {r['console_url']}")
                else:
                    console.print(f"{r['key']}: skipped, {r['skipped']}")

        out.emit({"retries": results, "started": len(started), "skipped": len(results) - len(started)}, human)
        return exits.OK if ok else exits.FAILED_ITEMS

    run(json_out, body)


@app.command()
def cost(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option("--since", help="7d, 24h, 30m, 2w, a date or an ISO time (rows updated since then)."),
    ] = None,
    by: Annotated[str, typer.Option("--by", help="prefix, mode or language.")] = "prefix",
    prefix_depth: Annotated[int, typer.Option("--prefix-depth", help="Folders in a prefix group.")] = 1,
    json_out: JsonOption = False,
) -> None:
    """Audio hours, GPU seconds and estimated dollars of transcribed uploads, from the catalog."""

    def body(out: Output) -> int:
        from parakeet_cli import remote

        report = remote.cost_report(state(ctx).stack(), since=since, by=by, prefix_depth=prefix_depth)  # type: ignore[arg-type]

        def human(console: Console) -> None:
            table = Table(title=f"cost by {by}" + (f" since {report['since']}" if report["since"] else ""))
            for column in (by, "files", "audio h", "GPU s", "USD", "USD / audio h"):
                table.add_column(column, overflow="fold")
            rows = [*report["groups"].items(), ("total", report["total"])]
            for name, t in rows:
                per_hour = t["usd_per_audio_hour"]
                table.add_row(
                    name or "(root)",
                    str(t["files"]),
                    f"{t['audio_hours']:.3f}",
                    f"{t['gpu_seconds']:.1f}",
                    f"{t['cost_usd']:.4f}",
                    "-" if per_hour is None else f"{per_hour:.4f}",
                )
            console.print(table)
            if report["total"]["unpriced_files"]:
                console.print(f"{report['total']['unpriced_files']} file(s) without a cost estimate")
            console.print(report["note"])

        out.emit(report, human)
        return exits.OK

    run(json_out, body)


@app.command("stack")
def stack_info(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """The resolved stack: buckets, catalog table, state machine (from its CloudFormation outputs)."""

    def body(out: Output) -> int:
        names = state(ctx).stack().names

        def human(console: Console) -> None:
            for k, v in names.as_dict().items():
                console.print(f"{k}: {v}")

        out.emit(names.as_dict(), human)
        return exits.OK

    run(json_out, body)


@app.command()
def doctor(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Read-only checks that the stack can transcribe: quotas, Batch, the image and its model, S3 events."""

    def body(out: Output) -> int:
        from parakeet_cli import doctor as doctor_lib

        report = doctor_lib.diagnose(state(ctx).stack())
        out.emit(report.as_dict(), lambda console: doctor_lib.render(report, console))
        return report.exit_code

    run(json_out, body)


@app.command("search")
def search_command(
    ctx: typer.Context,
    phrase: Annotated[str, typer.Argument(help="Words to find (any case) in the transcripts' segments.")],
    language: Annotated[
        str | None, typer.Option("--language", help="Only transcripts in this language (e.g. en, de).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only files transcribed on or after this UTC date (YYYY-MM-DD, or 7d)."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Hits at most.")] = 20,
    speaker: Annotated[
        int | None,
        typer.Option("--speaker", min=1, help="Only what this speaker said (1: 'Speaker 1')."),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Find a phrase in every transcript (newest upload of each file): file, time range, text, and the
    `get` command for its subtitles. Athena on a deployed stack, DuckDB on the local one (docs/SEARCH.md)."""

    def body(out: Output) -> int:
        from parakeet_cli import search as search_lib

        result = search_lib.search(
            state(ctx).stack(),
            phrase,
            language=language,
            since=since,
            limit=limit,
            speaker=None if speaker is None else speaker - 1,
        )

        def human(console: Console) -> None:
            table = Table(title=f"{result['count']} hit(s) for {result['phrase']!r} ({result['engine']})")
            for column in ("file", "from", "to", "lang", "speaker", "text"):
                table.add_column(column, overflow="fold")
            for hit in result["hits"]:
                who = "-" if hit["speaker"] is None else str(hit["speaker"] + 1)
                table.add_row(
                    hit["key"],
                    _clock(hit["start_s"]),
                    _clock(hit["end_s"]),
                    hit["language"] or "-",
                    who,
                    hit["text"],
                )
            console.print(table)
            # one line per file, never folded, so it can be copied as it is
            for command in dict.fromkeys(hit["get_command"] for hit in result["hits"]):
                console.print(command, markup=False)

        out.emit(result, human)
        return exits.OK

    run(json_out, body)


# ---------------------------------------------------------------- backfill (docs/BACKFILL.md)
def _print_backfill(result: dict[str, Any], console: Console) -> None:
    console.print(f"backfill {result['execution_name']}: {result.get('status', 'STARTED')}")
    if result.get("console_url"):
        console.print(f"  {result['console_url']}")
    summary = result.get("summary")
    if summary:
        table = Table(title="dry run: nothing started" if summary["dry_run"] else "backfill summary")
        table.add_column("outcome")
        table.add_column("objects", justify="right")
        rows = [("total", summary["total"])]
        if summary["dry_run"]:
            rows += [("would start", summary["would_start"]), ("  of which retries", summary["would_retry"])]
        else:
            rows += [
                (name.replace("_", " "), summary[name])
                for name in (
                    "started",
                    "transcribed",
                    "failed",
                    "already_started",
                    "already_claimed",
                    "superseded",
                    "archived",
                    "restoring",
                    "restores_requested",
                )
            ]
        rows += [(f"skipped: {reason.replace('_', ' ')}", n) for reason, n in summary["skipped"].items()]
        if summary.get("item_errors"):
            rows.append(("backfill errors (tolerated)", summary["item_errors"]))
        for name, count in rows:
            table.add_row(name, str(count))
        console.print(table)
        _print_storage_classes(summary, result.get("restore_estimate"), console)
    elif result.get("error"):
        console.print(f"  {result['error']}: {result.get('cause') or ''}")


def _print_storage_classes(summary: dict[str, Any], priced: dict[str, Any] | None, console: Console) -> None:
    """Objects per storage class, then the restore estimate of the cold ones (docs/ARCHIVES.md)."""
    classes = summary.get("storage_classes") or {}
    if not classes:
        return
    table = Table(
        title="would start, by storage class" if summary["dry_run"] else "started, by storage class"
    )
    for column in ("storage class", "objects", "GB"):
        table.add_column(column, justify="left" if column == "storage class" else "right")
    for label, count in classes.items():
        table.add_row(label, str(count["objects"]), f"{count['bytes'] / 1024**3:.3f}")
    console.print(table)
    if priced is None:
        return
    table = Table(title=f"restore estimate ({priced['tier']}, copies kept {priced['days']} day(s))")
    for column in ("archive", "objects", "GB", "tier", "USD", "hours at most"):
        table.add_column(column, justify="left" if column in ("archive", "tier") else "right")
    for c in priced["classes"]:
        where = c["storage_class"] + (f"/{c['archive_status']}" if c["archive_status"] else "")
        table.add_row(
            where,
            str(c["objects"]),
            f"{c['gb']:.3f}",
            c["tier"],
            f"{c['usd']:.4f}",
            f"{c['hours_at_most']:g}",
        )
    table.add_row(
        "total", str(priced["objects"]), "", "", f"{priced['usd']:.4f}", f"{priced['hours_at_most']:g}"
    )
    console.print(table)
    for c in priced["classes"]:
        if c["note"]:
            console.print(f"{c['storage_class']}: {c['note']}")
    console.print(priced["note"])


@app.command()
def backfill(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="s3://<input bucket>/<prefix>: every object under it.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count what would be started.")] = False,
    max_concurrency: Annotated[
        int | None,
        typer.Option("--max-concurrency", help="Objects at once (default: BackfillMaxConcurrency)."),
    ] = None,
    manifest: Annotated[
        str | None,
        typer.Option("--manifest", help="s3://bucket/key of an S3 Inventory manifest.json to read instead."),
    ] = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Follow it to its end (default).")] = True,
    restore: Annotated[
        str | None,
        typer.Option(
            "--restore",
            help="bulk, standard or expedited: restore the cold objects (Glacier, Deep Archive, Intelligent-"
            "Tiering archive tiers) before transcribing them (default: each upload's RestoreArchived).",
        ),
    ] = None,
    restore_days: Annotated[int, typer.Option("--restore-days", help="Days a restored copy is kept.")] = 1,
    max_restores: Annotated[
        int | None, typer.Option("--max-restores", help="Restores this run asks for, at most.")
    ] = None,
    max_restores_per_hour: Annotated[
        int | None,
        typer.Option("--max-restores-per-hour", help="Restores per clock hour, at most; the rest wait."),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Transcribe what a prefix already holds: every object without an answer for its exact bytes, once.
    A dry run also counts the objects per storage class and prices restoring the cold ones."""

    def body(out: Output) -> int:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from parakeet_cli import backfill as backfill_lib

        stack = state(ctx).stack()
        result = backfill_lib.start(
            stack,
            target,
            dry_run=dry_run,
            max_concurrency=max_concurrency,
            manifest=manifest,
            restore=restore,
            restore_days=restore_days,
            max_restores=max_restores,
            max_restores_per_hour=max_restores_per_hour,
        )
        if wait:
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("failed {task.fields[failed]}, remaining {task.fields[remaining]}"),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=out.err, disable=out.json, transient=False) as bar:
                task = bar.add_task("backfill", total=None, failed=0, remaining="?")

                def on_progress(seen: Any) -> None:
                    bar.update(
                        task,
                        total=seen.total or None,
                        completed=seen.done + seen.failed,
                        failed=seen.failed,
                        remaining=seen.remaining,
                        description=f"backfill {seen.status.lower()}",
                    )

                result.update(backfill_lib.wait(stack, result["execution_arn"], on_progress))
            if result.get("summary"):
                result["restore_estimate"] = backfill_lib.restore_estimate(
                    result["summary"], restore, restore_days
                )
        out.emit(result, lambda console: _print_backfill(result, console))
        if not wait:
            return exits.OK
        summary = result.get("summary")
        return exits.OK if summary is not None and not summary["failed"] else exits.FAILED_ITEMS

    run(json_out, body)


def _clock(seconds: float) -> str:
    """12.5 -> 0:00:12.5 (a position in the recording)."""
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}.{int(seconds * 10) % 10}"


def main() -> None:
    """Console-script entry point: exit codes as documented; an unexpected exception is a bug (70)."""
    try:
        app()
    except SystemExit:
        raise
    except Exception:
        traceback.print_exc()
        sys.exit(exits.INTERNAL)


# ---------------------------------------------------------------- custom vocabularies (docs/VOCABULARY.md)
vocab_app = typer.Typer(
    help="The stack's custom vocabularies (phrase boosting): put, list, show.", no_args_is_help=True
)
app.add_typer(vocab_app, name="vocab")


def _print_phrases(result: dict[str, Any], console: Console) -> None:
    table = Table(
        title=f"vocabulary {result['name']} ({result['uri']}, version "
        f"{result.get('version_id') or result['etag']})"
    )
    table.add_column("phrase", overflow="fold")
    table.add_column("weight", justify="right")
    for phrase in result["phrases"]:
        table.add_row(phrase["text"], f"{phrase['weight']:g}")
    console.print(table)


@vocab_app.command("put")
def vocab_put(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Vocabulary name (letters, digits, . _ -).")],
    path: Annotated[Path, typer.Argument(help="Phrase file: one phrase per line, optional `| weight`.")],
    json_out: JsonOption = False,
) -> None:
    """Check a phrase file and store it as the named vocabulary (uploads probed after this use it)."""

    def body(out: Output) -> int:
        from parakeet_cli import vocab as vocab_lib

        result = vocab_lib.put(state(ctx).stack(), name, path)
        out.emit(
            result,
            lambda console: console.print(
                f"{result['name']}: {result['phrases']} phrase(s) -> {result['uri']} "
                f"(version {result['version_id'] or result['etag']})"
            ),
        )
        return exits.OK

    run(json_out, body)


@vocab_app.command("list")
def vocab_list(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Every vocabulary of the stack."""

    def body(out: Output) -> int:
        from parakeet_cli import vocab as vocab_lib

        result = vocab_lib.list_all(state(ctx).stack())

        def human(console: Console) -> None:
            table = Table(title=f"{len(result['vocabularies'])} vocabularie(s) in s3://{result['bucket']}")
            for column in ("name", "bytes", "last modified"):
                table.add_column(column)
            for item in result["vocabularies"]:
                table.add_row(item["name"], str(item["size"]), item["last_modified"])
            console.print(table)

        out.emit(result, human)
        return exits.OK

    run(json_out, body)


@vocab_app.command("show")
def vocab_show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Vocabulary name.")],
    version_id: Annotated[
        str | None, typer.Option("--version-id", help="An older version (versioned output bucket).")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """A vocabulary's phrases and weights, as the Probe reads them."""

    def body(out: Output) -> int:
        from parakeet_cli import vocab as vocab_lib

        result = vocab_lib.show(state(ctx).stack(), name, version_id)
        out.emit(result, lambda console: _print_phrases(result, console))
        return exits.OK

    run(json_out, body)
