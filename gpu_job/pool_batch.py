"""Transcribe one batch of pool requests with one loaded model: the worker's only call into inference.

Today it loops over the per-file `api.transcribe`; the batched engine (`api.transcribe_many`, one
model, many items, per-item results) replaces the loop with one call and nothing else in the worker
changes. One outcome per request, in order: the transcript document, or the exception that request
raised (a `BadInputError` subclass for bad input), so one bad file never fails its batch-mates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from contracts.models import TranscriptionRequest

from gpu_job import api
from gpu_job.config import Limits

Outcome = dict[str, Any] | Exception
BatchTranscriber = Callable[[Sequence[TranscriptionRequest], Any, Limits | None], list[Outcome]]


def transcribe_batch(
    requests: Sequence[TranscriptionRequest], model: Any, limits: Limits | None = None
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for request in requests:
        chunking = request.chunking
        windows = {} if chunking is None else {
            "chunk_s": chunking.chunk_s, "left_s": chunking.left_s, "right_s": chunking.right_s}
        try:
            document = api.transcribe(request.source.uri, model, mode=request.mode, limits=limits, **windows)
            outcomes.append(document)
        except Exception as exc:  # the per-file job reports any exception of one file as that file's failure
            outcomes.append(exc)
    return outcomes
