"""`parakeet backfill`: what a prefix already holds, followed to its end (parakeet_cli/backfill.py,
docs/BACKFILL.md); a dry run prices the restores of cold objects (docs/ARCHIVES.md)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from pipeline.backfill import COUNTED_OUTCOMES
from rich.console import Console
from rich.table import Table

from parakeet_cli import exits
from parakeet_cli.shell import JsonOption, Output, app, run, state


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
                for name in ("started", *COUNTED_OUTCOMES, "restores_requested")
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
