"""`parakeet`: the console script (pyproject.toml ``[project.scripts]``).

    parakeet transcribe FILE|DIR... [--mode] [--format json,srt,vtt,txt] [--out DIR]   no AWS
    parakeet (--stack NAME | --local [--endpoint-url URL]) upload|status|get|retry|cost|backfill|search|...

The shell (app, options, output) is parakeet_cli/shell.py; each command is a module of parakeet_cli/commands/.
"""

from __future__ import annotations

import sys
import traceback

import parakeet_cli.commands  # noqa: F401 (registers the commands on the app)
from parakeet_cli import exits
from parakeet_cli.shell import CliState, Output, app, run, state

__all__ = ["CliState", "Output", "app", "main", "run", "state"]


def main() -> None:
    """Console-script entry point: exit codes as documented; an unexpected exception is a bug (70)."""
    try:
        app()
    except SystemExit:
        raise
    except Exception:
        traceback.print_exc()
        sys.exit(exits.INTERNAL)
