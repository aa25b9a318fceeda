"""Typed errors and exit codes shared by every function and the Batch container.

The class name is what Lambda reports as ``errorType``, what a pool worker sends as the task
failure's ``error`` and what Step Functions matches in ``ErrorEquals``: names are part of the
contract and must not change. ``BadInputError`` subclasses are deterministic: the workflow records
them and never retries.
"""

from __future__ import annotations

import json


class BadInputError(Exception):
    """The uploaded object itself is unusable; retrying cannot help."""

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


class SourceSuperseded(BadInputError):
    """The key no longer holds the upload this execution claimed (a pinned read answered 412, or
    the key's current object has another ETag/VersionId): the newer upload has its own event and
    execution, so this one stops, and retrying cannot help.

    A subclass of BadInputError only for the mechanics (never retried, gpu_job exit 65); it is
    neither bad input nor internal: RecordFailure writes status SUPERSEDED naming the newer upload
    and the execution ends in its own ``Superseded`` state. ``superseded_by`` is what the raiser saw
    of the key's current object (``{etag, version_id, deleted}``), when it looked.
    """

    reason = "superseded"

    def __init__(self, message: str = "", superseded_by: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.superseded_by = superseded_by


class TransientError(Exception):
    """A failure worth retrying (throttling, a dependency briefly unavailable)."""


class CapacityUnavailable(Exception):
    """No GPU instance could be launched for the work within RunnableTimeoutSeconds: a Batch job queue
    cancelled the job in RUNNABLE (its JobStateTimeLimitActions reason starts with this name, then says
    which quota, instance type and region to check). Neither bad input nor a bug: reason class capacity."""

    reason = "capacity_unavailable"


class ObjectArchived(Exception):
    """The upload is in a cold storage class (Glacier Flexible Retrieval, Deep Archive, an
    Intelligent-Tiering archive tier) and not restored: S3 answers InvalidObjectState to a GET.
    Neither bad input nor internal: RecordFailure writes status ARCHIVED (needs restore) and the
    execution ends in its own ``Archived`` state. ``archive`` is the pipeline.contracts.ArchiveInfo
    (as JSON) when the raiser looked; the message is JSON so that it reaches RecordFailure through a
    Lambda error's ``errorMessage`` (pipeline.archive.archive_error_payload)."""

    reason = "archived"

    def __init__(self, message: str = "", archive: dict[str, object] | None = None) -> None:
        self.text = message
        self.archive = archive
        super().__init__(json.dumps({"message": message, "archive": archive}, sort_keys=True))


class ArchiveRestoring(ObjectArchived):
    """A restore of the cold upload was requested (or already runs): RecordFailure writes status
    RESTORING with the tier and the expected time; S3's Object Restore Completed event starts a
    fresh execution on the restored copy (docs/ARCHIVES.md)."""

    reason = "restoring"


BAD_INPUT_ERRORS: tuple[type[BadInputError], ...] = (
    ZeroByteObject,
    NotMedia,
    NoAudioStream,
    CorruptMedia,
    DurationOutOfRange,
    UnsupportedInput,
    SourceSuperseded,
)
BAD_INPUT_ERROR_NAMES: frozenset[str] = frozenset(e.__name__ for e in BAD_INPUT_ERRORS)

# Exit codes of the gpu_job container (sysexits.h): EX_DATAERR and EX_SOFTWARE.
GPU_JOB_EXIT_OK = 0
GPU_JOB_EXIT_BAD_INPUT = 65
GPU_JOB_EXIT_INTERNAL = 70
