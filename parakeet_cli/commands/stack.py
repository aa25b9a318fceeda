"""`parakeet stack`: the names the stack's CloudFormation outputs resolve to."""

from __future__ import annotations

import typer
from rich.console import Console

from parakeet_cli import exits
from parakeet_cli.shell import JsonOption, Output, app, run, state


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
