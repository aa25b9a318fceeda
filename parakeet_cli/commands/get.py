"""`parakeet get`: a key's newest transcript, to stdout or a file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from parakeet_cli import exits
from parakeet_cli.shell import JsonOption, Output, app, run, state


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
