"""`parakeet cost`: audio hours, GPU seconds and dollars from the catalog, grouped."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from parakeet_cli import exits
from parakeet_cli.shell import JsonOption, Output, app, run, state


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
            for column in (
                by,
                "files",
                "audio h",
                "GPU s",
                "GPU USD",
                "restored",
                "restore USD",
                "USD / audio h",
            ):
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
                    str(t["restored_files"]),
                    f"{t['restore_usd']:.4f}",
                    "-" if per_hour is None else f"{per_hour:.4f}",
                )
            console.print(table)
            if report["total"]["unpriced_files"]:
                console.print(f"{report['total']['unpriced_files']} file(s) without a cost estimate")
            console.print(report["note"])

        out.emit(report, human)
        return exits.OK

    run(json_out, body)
