"""The `parakeet` command line's shell: the Typer app, the global options and the stack they resolve to,
and the output discipline every command follows.

Every command takes ``--json`` (stdout then holds exactly one JSON document, errors included) and ends
with a documented exit code (parakeet_cli.exits, docs/CLI.md). Commands live one per module in
parakeet_cli/commands/ (orchestration and rendering), their logic in the plain modules of parakeet_cli/
(remote, backfill, search, vocab, doctor, local). Adding a command::

    @app.command()
    def backfill(ctx: typer.Context, target: str, dry_run: bool = False, json_out: JsonOption = False):
        def body(out: Output) -> int:
            stack = state(ctx).stack()              # resolved names + clients (tests inject clients)
            result = backfill_lib.start(stack, target, dry_run=dry_run)
            out.emit(result, lambda console: console.print(...))
            return exits.OK                         # or exits.FAILED_ITEMS, or raise exits.NotFound(...)
        run(json_out, body)

and import its module in parakeet_cli/commands/__init__.py. Tests drive commands with Typer's
``CliRunner().invoke(app, [...], obj=CliState(client_factory=...))`` (parakeet_cli.app): the injected factory
makes boto3 clients for moto's in-process AWS (no endpoint needed).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Annotated, Any

import typer
from rich.console import Console

from parakeet_cli import exits
from parakeet_cli.connect import (
    LOCAL_STACK_NAME,
    ClientFactory,
    Stack,
    aws_errors,
    boto3_clients,
    local_endpoint,
    resolve_stack,
)
from parakeet_cli.exits import CliError, UsageError

app = typer.Typer(
    name="parakeet",
    help="Parakeet-TDT speech to text: try the model on local files, or drive a deployed or local stack.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout (for scripts).")]


# ---------------------------------------------------------------- shared state and output
@dataclass
class CliState:
    """The global options, and the stack they resolve to (once per command line)."""

    stack_name: str | None = None
    local: bool = False
    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    client_factory: ClientFactory | None = None  # injected by tests; else boto3 clients from the options
    _stack: Stack | None = field(default=None, repr=False)

    def stack(self) -> Stack:
        if self._stack is not None:
            return self._stack
        if not self.local and not self.stack_name:
            raise UsageError("which stack? pass --stack NAME (or set PARAKEET_STACK), or --local")
        endpoint = local_endpoint(self.endpoint_url) if self.local else self.endpoint_url
        clients = self.client_factory or boto3_clients(self.region, endpoint, self.profile, self.local)
        name = self.stack_name or LOCAL_STACK_NAME
        names = resolve_stack(clients, name, local=self.local, endpoint_url=endpoint if self.local else None)
        self._stack = Stack(names=names, clients=clients)
        return self._stack


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


class Output:
    """Human output (rich, stdout; progress and errors on stderr) or one JSON document on stdout.

    ``stdout`` is the stream the command's answer goes to, taken when the command starts: while its body
    runs, everything else that writes to stdout in this process (the in-process local stack's Powertools
    loggers, NeMo, a library's print) is sent to stderr by :func:`run`, so the answer stays alone."""

    def __init__(self, json_mode: bool, stdout: IO[str] | None = None) -> None:
        self.json = json_mode
        self.stdout = sys.stdout if stdout is None else stdout
        self.console = Console(file=self.stdout, highlight=False, soft_wrap=True)
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)

    def emit(self, payload: Any, human: Callable[[Console], None]) -> None:
        if self.json:
            self._document(payload)
        else:
            human(self.console)

    def error(self, exc: CliError) -> None:
        if self.json:
            self._document(exc.as_dict())
        else:
            self.err.print(f"[red]error[/red]: {exc.message}", markup=True)

    def _document(self, payload: Any) -> None:
        self.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")
        self.stdout.flush()


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[IO[str]]:
    """While the block runs, whatever is written to stdout goes to stderr: Python's ``sys.stdout`` and,
    in a real process, file descriptor 1 (C libraries, subprocesses). Yields the real stdout, which
    only the command's own answer uses."""
    answer = sys.stdout
    saved_fd = None
    try:
        if answer.fileno() == 1:
            answer.flush()
            saved_fd = os.dup(1)
            os.dup2(2, 1)
            answer = os.fdopen(os.dup(saved_fd), "w", encoding="utf-8", closefd=True)
    except (AttributeError, OSError, ValueError):  # an in-memory stdout (tests): Python-level only
        saved_fd = None
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield answer
    finally:
        if saved_fd is not None:
            sys.stdout.flush()
            os.dup2(saved_fd, 1)
            os.close(saved_fd)
            answer.close()


def run(json_out: bool, body: Callable[[Output], int | None]) -> None:
    """Run a command body; typed errors (and AWS errors) become their exit codes."""
    with stdout_to_stderr() as answer:
        out = Output(json_out, answer)
        try:
            with aws_errors("AWS call failed"):
                code = body(out)
        except CliError as exc:
            out.error(exc)
            raise typer.Exit(exc.code) from None
    raise typer.Exit(exits.OK if code is None else code)


@app.callback()
def _global(
    ctx: typer.Context,
    stack: Annotated[
        str | None,
        typer.Option(
            "--stack",
            envvar="PARAKEET_STACK",
            help="Deployed stack name (its CloudFormation outputs name "
            "the buckets, table and state machine).",
        ),
    ] = None,
    local: Annotated[
        bool, typer.Option("--local", help="The local stack (`make serve`) at --endpoint-url.")
    ] = False,
    endpoint_url: Annotated[
        str | None,
        typer.Option(
            "--endpoint-url",
            help="AWS endpoint; for --local default $PARAKEET_ENDPOINT_URL or http://127.0.0.1:4566.",
        ),
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="AWS region (default: your AWS config).")
    ] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile.")] = None,
) -> None:
    """Parakeet-TDT speech to text on AWS: transcribe local files, or upload, watch, fetch, retry and cost."""
    current = state(ctx)
    current.stack_name, current.local, current.region, current.profile = stack, local, region, profile
    current.endpoint_url = endpoint_url
    current._stack = None
