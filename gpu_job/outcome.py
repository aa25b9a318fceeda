"""What one file's transcription came to, written where the workflow looks for it, as one exit code.

The per-file job (gpu_job/cli.py) and the pool worker (gpu_job/pool/worker.py) end every file here, so
they write the same documents under the same rule:

* a transcript: ``transcript.json``, owned (pipeline.exact_upload.put_owned), after the upload's Redaction
  (gpu_job.redaction: the document as written, the silenced audio, the unredacted copy) -> exit 0;
* bad input: the error document ``{error, message, input, etag, version_id}`` on stderr and, owned, at
  ``error.json`` -> exit 65 (RecordFailure reads it);
* the key no longer holds the upload (``SourceSuperseded``, raised by the transcription or by an owned
  write): nothing is written, the prefix is the newer upload's now -> exit 66;
* anything else: the error document on stderr only -> exit 70.
"""

from __future__ import annotations

import json
import sys
import traceback
from dataclasses import dataclass
from typing import Any

from pipeline.contracts import UploadedObject
from pipeline.exact_upload import ERROR_JSON, TRANSCRIPT_JSON
from pipeline.outcomes import (
    GPU_JOB_EXIT_BAD_INPUT,
    GPU_JOB_EXIT_INTERNAL,
    GPU_JOB_EXIT_OK,
    GPU_JOB_EXIT_SUPERSEDED,
    BadInputError,
    SourceSuperseded,
)

from gpu_job import redaction
from gpu_job.storage import join_prefix, write_json


@dataclass(frozen=True)
class Written:
    """The exit code of the file, its output's location, and the error document when it failed."""

    exit_code: int
    location: str | None = None
    error: dict[str, Any] | None = None


def error_document(exc: BaseException, source: UploadedObject | str) -> dict[str, Any]:
    """``{error, message, input}``, plus which upload it is about (the prefix is shared by every upload of
    the key, and RecordFailure ignores an error.json that names another one)."""
    document: dict[str, Any] = {
        "error": type(exc).__name__,
        "message": str(exc),
        "input": source.uri if isinstance(source, UploadedObject) else source,
    }
    if isinstance(source, UploadedObject):
        document.update(etag=source.etag, version_id=source.version_id)
    return document


def report(document: dict[str, Any]) -> dict[str, Any]:
    """One JSON line on stderr: what an operator reads in the job's log."""
    print(json.dumps(document, ensure_ascii=False), file=sys.stderr, flush=True)
    return document


def write_outcome(
    output_prefix: str,
    source: UploadedObject | str,
    outcome: dict[str, Any] | BaseException,
    redaction_mode: str = "off",
    redact_audio: bool = False,
) -> Written:
    """Write ``outcome`` (a transcript, or the exception that ended the file) by the module's rule;
    a transcript as the upload's Redaction (off, tag, redact) and RedactAudio want it."""
    owner = source if isinstance(source, UploadedObject) else None
    try:
        if not isinstance(outcome, BaseException):
            document = redaction.finish(outcome, source, output_prefix, redaction_mode, redact_audio)
            location = join_prefix(output_prefix, TRANSCRIPT_JSON)
            write_json(location, document, owner=owner)  # only while the key still holds this upload
            return Written(GPU_JOB_EXIT_OK, location)
        document = report(error_document(outcome, source))
        if isinstance(outcome, SourceSuperseded):
            return Written(GPU_JOB_EXIT_SUPERSEDED, error=document)
        if not isinstance(outcome, BadInputError):
            return Written(GPU_JOB_EXIT_INTERNAL, error=document)
        location = join_prefix(output_prefix, ERROR_JSON)
        write_json(location, document, owner=owner)  # owned, like transcript.json
        return Written(GPU_JOB_EXIT_BAD_INPUT, location, document)
    except SourceSuperseded as exc:
        return Written(GPU_JOB_EXIT_SUPERSEDED, error=report(error_document(exc, source)))
    except Exception as exc:
        traceback.print_exc()
        return Written(GPU_JOB_EXIT_INTERNAL, error=report(error_document(exc, source)))
