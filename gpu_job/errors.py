"""Typed bad-input errors and exit codes of the Batch container.

A copy of the names and codes in functions/common/errors.py (docs/CONTRACTS.md): the container image
does not ship `functions/`, and the workflow matches on these names and codes, so they must stay
identical. tests/gpu_job/test_errors_contract.py checks that they do.
"""

from __future__ import annotations

EXIT_OK = 0
GPU_JOB_EXIT_BAD_INPUT = 65  # sysexits EX_DATAERR: deterministic, never retried
GPU_JOB_EXIT_INTERNAL = 70  # sysexits EX_SOFTWARE


class BadInputError(Exception):
    """The input itself is unusable; retrying cannot help."""

    reason: str = "bad_input"


class ZeroByteObject(BadInputError):
    reason = "zero_byte_object"


class NotMedia(BadInputError):
    reason = "not_media"


class NoAudioStream(BadInputError):
    reason = "no_audio_stream"


class CorruptMedia(BadInputError):
    reason = "corrupt_media"


class DurationOutOfRange(BadInputError):
    reason = "duration_out_of_range"


class UnsupportedInput(BadInputError):
    reason = "unsupported_input"
