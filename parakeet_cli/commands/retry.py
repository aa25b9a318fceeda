"""`parakeet retry`: failed uploads re-run from their catalog rows, never re-uploaded."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from parakeet_cli import exits
from parakeet_cli.shell import JsonOption, Output, app, run, state


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
