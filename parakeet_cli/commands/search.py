"""`parakeet search`: a phrase in every transcript's segments (parakeet_cli/search.py, docs/SEARCH.md)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from parakeet_cli import exits
from parakeet_cli.commands.columns import clock
from parakeet_cli.shell import JsonOption, Output, app, run, state


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
                    clock(hit["start_s"]),
                    clock(hit["end_s"]),
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
