"""One module per `parakeet` command: its options, orchestration and rendering. Importing this package
registers every command on parakeet_cli.shell.app."""

from parakeet_cli.commands import (  # noqa: F401 (imported to register the commands)
    backfill,
    cost,
    doctor,
    get,
    retry,
    search,
    stack,
    status,
    transcribe,
    upload,
    vocab,
)
