"""`parakeet vocab put|list|show`: the stack's custom vocabularies (parakeet_cli/vocab.py,
docs/VOCABULARY.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from parakeet_cli import exits
from parakeet_cli.shell import JsonOption, Output, app, run, state

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
