"""`parakeet upload [--wait]`: files into the input bucket, each its own execution
(parakeet_cli/remote.py)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from parakeet_cli import exits
from parakeet_cli.shell import JsonOption, Output, app, run, state


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
