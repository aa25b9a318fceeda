"""`parakeet doctor`: read-only checks that the stack can transcribe (parakeet_cli/doctor.py)."""

from __future__ import annotations

import typer

from parakeet_cli.shell import JsonOption, Output, app, run, state


@app.command()
def doctor(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Read-only checks that the stack can transcribe: quotas, Batch, the image and its model, S3 events."""

    def body(out: Output) -> int:
        from parakeet_cli import doctor as doctor_lib

        report = doctor_lib.diagnose(state(ctx).stack())
        out.emit(report.as_dict(), lambda console: doctor_lib.render(report, console))
        return report.exit_code

    run(json_out, body)
