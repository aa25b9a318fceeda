"""The outcome vocabulary: how an upload's processing can end, in one place for every state and tool.

* ``CatalogStatus``: the catalog row's ``status`` (and the completion event's, and ``parakeet status``);
* ``ReasonClass``: why a FAILED row failed, in three classes (docs/OUTCOMES.md);
* the typed errors: the class name is what Lambda reports as ``errorType``, what a pool worker sends as
  the task failure's ``error`` and what Step Functions matches in ``ErrorEquals``: names are part of the
  contract and must not change. ``BadInputError`` subclasses are deterministic: the workflow records
  them and never retries. ``SourceSuperseded`` is an outcome of its own (status SUPERSEDED);
* the exit codes of the gpu_job container, which carry the same classes out of a Batch job.
"""

from __future__ import annotations

import json
from typing import Final, Literal, get_args

# How RecordFailure can end an upload, and how any execution can: what its completion event says.
UnsuccessfulStatus = Literal["FAILED", "SUPERSEDED", "ARCHIVED", "RESTORING"]
SettledStatus = Literal["TRANSCRIBED", UnsuccessfulStatus]
CatalogStatus = Literal["CLAIMED", SettledStatus]
STATUSES: Final[tuple[str, ...]] = get_args(CatalogStatus)
STATUS_CLAIMED: Final = "CLAIMED"
STATUS_TRANSCRIBED: Final = "TRANSCRIBED"
STATUS_FAILED: Final = "FAILED"
# The key was overwritten while this upload was being processed: the newer upload owns the key's
# outputs; the row names it (``superseded_by``). Neither bad input nor internal.
STATUS_SUPERSEDED: Final = "SUPERSEDED"
# A cold upload (docs/ARCHIVES.md). ARCHIVED: not restored and RestoreArchived off, or a restore that
# never completed: it needs a restore, which a re-run with RestoreArchived on asks for. RESTORING: a
# restore was requested; S3's Object Restore Completed event starts the execution that claims it again.
STATUS_ARCHIVED: Final = "ARCHIVED"
STATUS_RESTORING: Final = "RESTORING"
# A row in one of these is final for its upload (ARCHIVED until someone asks for a restore).
FINAL_STATUSES: Final = frozenset({STATUS_TRANSCRIBED, STATUS_FAILED, STATUS_SUPERSEDED, STATUS_ARCHIVED})
# The execution that wrote a row in one of these has ended: what a caller waiting for an answer waits
# for. RESTORING is not final for the upload but no execution runs (or pays) while S3 restores it.
SETTLED_STATUSES: Final = FINAL_STATUSES | {STATUS_RESTORING}

# capacity: no GPU instance could be launched in time (CapacityUnavailable, docs/OUTCOMES.md).
ReasonClass = Literal["bad_input", "internal", "capacity"]
REASON_CLASSES: Final[tuple[str, ...]] = get_args(ReasonClass)
BAD_INPUT: Final = "bad_input"
INTERNAL: Final = "internal"
CAPACITY: Final = "capacity"


class BadInputError(Exception):
    """The uploaded object itself is unusable; retrying cannot help."""

    reason: str = BAD_INPUT


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


class SourceSuperseded(Exception):
    """The key no longer holds the upload this execution claimed (a pinned read answered 412, or
    the key's current object has another ETag/VersionId): the newer upload has its own event and
    execution, so this one stops, and retrying cannot help.

    Neither bad input nor internal: every task state catches it by name and records status SUPERSEDED
    naming the newer upload (gpu_job exits ``GPU_JOB_EXIT_SUPERSEDED``); the execution ends in its own
    ``Superseded`` state. ``superseded_by`` is what the raiser saw of the key's current object
    (``{etag, version_id, deleted}``), when it looked.
    """

    reason = "superseded"

    def __init__(self, message: str = "", superseded_by: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.superseded_by = superseded_by


class VocabularyNotFound(BadInputError):
    """The upload asks (by tag, key prefix or the stack default) for a vocabulary that does not exist,
    or the pinned version the Probe validated is gone by the time the job reads it."""

    reason = "vocabulary_not_found"


class VocabularyEmpty(BadInputError):
    """The vocabulary holds no phrase (only blank lines and comments)."""

    reason = "vocabulary_empty"


class VocabularyTooLarge(BadInputError):
    """More phrases than VOCABULARY_MAX_PHRASES, or a phrase longer than VOCABULARY_MAX_PHRASE_CHARS."""

    reason = "vocabulary_too_large"


class VocabularyInvalid(BadInputError):
    """A vocabulary name or line that breaks the syntax (docs/VOCABULARY.md): not UTF-8, a bad weight."""

    reason = "vocabulary_invalid"


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
    VocabularyNotFound,
    VocabularyEmpty,
    VocabularyTooLarge,
    VocabularyInvalid,
)
BAD_INPUT_ERROR_NAMES: frozenset[str] = frozenset(e.__name__ for e in BAD_INPUT_ERRORS)

# Exit codes of the gpu_job container (sysexits.h): EX_DATAERR (bad input), EX_NOINPUT (the key no
# longer holds the upload: superseded) and EX_SOFTWARE (internal).
GPU_JOB_EXIT_OK = 0
GPU_JOB_EXIT_BAD_INPUT = 65
GPU_JOB_EXIT_SUPERSEDED = 66
GPU_JOB_EXIT_INTERNAL = 70
