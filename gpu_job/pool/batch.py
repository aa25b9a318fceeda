"""Transcribe one batch of pool requests with one loaded model: the worker's only call into inference.

Requests in `batched` mode (the planner's default) go through the batched engine together
(`api.transcribe_many`: windows of every file sorted and packed into shared encoder batches);
a request for another mode runs alone through `api.transcribe_request`. Every source is the
request's exact upload (pinned to its VersionId, else If-Match on its ETag), as in a per-file job.
One outcome per request, in order: the transcript document, or the exception that request raised
(a `BadInputError` subclass for bad input), so one bad file never fails its batch-mates.
Each request's vocabulary is read at the version its Probe pinned (gpu_job.boosting); batch-mates with
different vocabularies still share encoder and decoder batches (NeMo's per-stream biasing), and a
vocabulary that is gone fails only its own request (VocabularyNotFound).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pipeline.contracts import TranscriptionRequest
from pipeline.settings import Settings

from gpu_job import api
from gpu_job.boosting import Vocabulary
from gpu_job.engine.engine import ItemError

Outcome = dict[str, Any] | BaseException
BatchTranscriber = Callable[[Sequence[TranscriptionRequest], Any, Settings | None], list[Outcome]]


def transcribe_batch(
    requests: Sequence[TranscriptionRequest], model: Any, limits: Settings | None = None
) -> list[Outcome]:
    outcomes: list[Outcome | None] = [None] * len(requests)
    settings = limits or Settings.from_env()
    vocabularies: dict[int, Vocabulary] = {}
    for i, request in enumerate(requests):
        if request.mode == "batched" and request.vocabulary is not None:
            try:
                vocabularies[i] = Vocabulary.from_ref(request.vocabulary, settings)
            except Exception as exc:  # this request's failure only (VocabularyNotFound, a read error)
                outcomes[i] = exc
    batched = [i for i, request in enumerate(requests) if request.mode == "batched" and outcomes[i] is None]
    if batched:
        results = api.transcribe_many(
            [requests[i].source for i in batched],
            model,
            limits=settings,
            channel_modes=[requests[i].channel_mode for i in batched],
            expected_languages=[requests[i].expected_languages for i in batched],
            vocabularies=[vocabularies.get(i) for i in batched],
            speakers=[requests[i].speakers for i in batched],
        )
        for i, result in zip(batched, results, strict=True):
            outcomes[i] = result.exception if isinstance(result, ItemError) else result
    for i, request in enumerate(requests):
        if request.mode == "batched":
            continue
        try:
            outcomes[i] = api.transcribe_request(request, model, limits)
        except Exception as exc:  # the per-file job reports any exception of one file as that file's failure
            outcomes[i] = exc
    assert all(o is not None for o in outcomes)
    return outcomes  # type: ignore[return-value]
