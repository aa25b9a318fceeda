"""`parakeet status`: one key's uploads, the failed or running ones, or an overview, as catalog rows."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from parakeet_cli import exits
from parakeet_cli.commands.columns import seconds_text, when_text
from parakeet_cli.exits import UsageError
from parakeet_cli.shell import JsonOption, Output, app, run, state


def _detail(row: dict[str, Any]) -> str:
    status = row.get("status")
    if status == "FAILED":
        return f"{row.get('reason_class') or '?'}: {row.get('reason') or row.get('error') or '?'}"
    if status == "TRANSCRIBED":
        duration = row.get("duration_s")
        return (
            f"{row.get('mode') or '?'}, {seconds_text(duration)} s, {row.get('language') or 'und'}, "
            f"{row.get('word_count', '?')} words"
        )
    if status == "SUPERSEDED":
        return f"by {row.get('superseded_by')}"
    if status in ("ARCHIVED", "RESTORING"):
        archive = row.get("archive") or {}
        parts = (archive.get("storage_class"), archive.get("archive_status"))
        where = " ".join(str(v) for v in parts if v)
        if status == "RESTORING":
            expected = when_text(archive.get("expected_by"))
            return f"{where}: {archive.get('tier')} restore, expected by {expected}"
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
            when_text(row.get("updated_at")),
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
