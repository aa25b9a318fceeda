"""Exit codes of every `parakeet` command (docs/CLI.md), and the errors that end a command with one.

0 is success. A command that ran but could not do all it was asked (a file failed to transcribe, a
retry was skipped, an upload ended FAILED) returns FAILED_ITEMS; the other codes say why nothing could be
done. 2 is what Click already uses for a bad command line, so USAGE keeps it.
"""

from __future__ import annotations

OK = 0
FAILED_ITEMS = 1  # the command ran; some items failed (see the output for which and why)
USAGE = 2  # bad command line or option combination (also Click's own usage errors)
NOT_FOUND = 3  # no such stack, key, catalog row, transcript or local file
AWS_ERROR = 4  # an AWS API call failed (credentials, permissions, throttling, endpoint unreachable)
INTERNAL = 70  # a bug: an unexpected exception (sysexits EX_SOFTWARE, as gpu_job uses)

NAMES = {
    OK: "ok",
    FAILED_ITEMS: "failed_items",
    USAGE: "usage",
    NOT_FOUND: "not_found",
    AWS_ERROR: "aws_error",
    INTERNAL: "internal",
}


class CliError(Exception):
    """Ends the command with `code`; the message is for people, `details` for --json."""

    code = INTERNAL

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def as_dict(self) -> dict[str, object]:
        return {"error": NAMES[self.code], "exit_code": self.code, "message": self.message, **self.details}


class UsageError(CliError):
    code = USAGE


class NotFound(CliError):
    code = NOT_FOUND


class AwsError(CliError):
    code = AWS_ERROR
