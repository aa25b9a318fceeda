"""Probe state: the claimed UploadedObject in, ProbeResult out (pipeline.contracts).

Bad inputs raise the typed ``pipeline.outcomes`` classes, which the workflow records without
retrying. What the probe cost (bytes and GET requests) is logged and emitted as metrics on every
outcome, because that cost is the point of this function. Reads are pinned to the upload the
claim names (VersionId, else If-Match on its ETag). The upload's ``channel-mode`` tag, if any,
travels on in the ProbeResult (``probe_audio.tags``), and so do its Speakers value (tag ``speakers``,
else SPEAKERS_BY_PREFIX; docs/SPEAKERS.md) and its custom vocabulary (tag
``vocabulary``, else VOCABULARY_BY_PREFIX, else VOCABULARY; docs/VOCABULARY.md): read here, checked
(a missing, empty or oversized one is bad input) and pinned to the version read, in VOCABULARY_BUCKET.
So do its Redaction and RedactAudio (tags ``redaction``, ``redact-audio``, else *_BY_PREFIX, else the
stack's; docs/REDACTION.md), by the same rule (pipeline.upload_settings). A cold upload (Glacier,
Deep Archive, an Intelligent-Tiering archive tier) ends typed, ARCHIVED or RESTORING
(``probe_audio.cold``).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from lambda_runtime.clients import s3_client
from lambda_runtime.observability import logger, metrics, tracer
from pipeline.contracts import ProbeResult, UploadedObject, VocabularyRef
from pipeline.outcomes import ObjectArchived, ZeroByteObject
from pipeline.settings import Settings
from pipeline.types import ChannelMode
from pipeline.vocabulary import read_current, resolve_name

from probe_audio.cold import handle_cold
from probe_audio.probe import probe
from probe_audio.s3_reader import S3RangeReader
from probe_audio.tags import (
    channel_mode_from_tags,
    expected_languages_for,
    object_tags,
    redact_audio_from_tags,
    redaction_from_tags,
    restore_archived_for,
    speakers_for,
)

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client


def to_contract(
    result: Any,
    channel_mode: ChannelMode | None = None,
    vocabulary: VocabularyRef | None = None,
    **upload_settings: Any,
) -> ProbeResult:
    """The probe's own result (it also says which parser answered), the upload's tagged channel
    mode, its pinned vocabulary and its other settings (expected languages, Redaction,
    RedactAudio, Speakers) as the state's ProbeResult."""
    own = set(ProbeResult.model_fields) - {"channel_mode", "vocabulary", *upload_settings}
    fields = {name: getattr(result, name) for name in own}
    return ProbeResult(**fields, channel_mode=channel_mode, vocabulary=vocabulary, **upload_settings)


def upload_vocabulary(
    s3: S3Client, tags: dict[str, str], source: UploadedObject, settings: Settings
) -> VocabularyRef | None:
    """The vocabulary this upload gets, checked and pinned; None when it gets none."""
    name = resolve_name(tags, source.key, settings)
    if name is None:
        return None
    ref, _phrases = read_current(s3, os.environ["VOCABULARY_BUCKET"], name, settings)
    return ref


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=UploadedObject)
def handler(source: UploadedObject, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(source_uri=source.uri, etag=source.etag)
    reader: S3RangeReader | None = None
    outcome = "error"
    try:
        reader = S3RangeReader(
            s3_client(), source.bucket, source.key, etag=source.if_match_etag, version_id=source.version_id
        )
        if source.size == 0:
            raise ZeroByteObject(f"{source.uri} is empty")  # the event says so: no GET needed
        settings = Settings.from_env()
        try:
            result = probe(reader, settings.max_duration_s)
        except ObjectArchived:
            # Cold (docs/ARCHIVES.md): ends ARCHIVED, or RESTORING after one RestoreObject.
            outcome = "archived"
            requested = restore_archived_for(
                object_tags(s3_client(), source), source.key, settings.restore_archived
            )
            handle_cold(s3_client(), source, requested, settings.restore_days, datetime.now(UTC))
            raise
        # After the media checks, so that a file that is not media reports that whatever its tags say.
        tags = object_tags(s3_client(), source)
        channel_mode = channel_mode_from_tags(tags)
        upload_settings = {
            "expected_languages": expected_languages_for(tags, source.key, settings),
            "redaction": redaction_from_tags(tags, source.key, settings),
            "redact_audio": redact_audio_from_tags(tags, source.key, settings),
            "speakers": speakers_for(tags, source.key, settings),
        }
        vocabulary = upload_vocabulary(s3_client(), tags, source, settings)
        outcome = "ok"
    finally:
        bytes_read = reader.bytes_read if reader else 0
        requests = reader.requests if reader else 0
        metrics.add_metric(name="ProbeBytesRead", unit=MetricUnit.Bytes, value=bytes_read)
        metrics.add_metric(name="ProbeRequests", unit=MetricUnit.Count, value=requests)
        logger.info(
            "probe finished", extra={"outcome": outcome, "bytes_read": bytes_read, "requests": requests}
        )
    contract = to_contract(result, channel_mode, vocabulary, **upload_settings)
    logger.info("probe result", extra={"parser": result.parser, **contract.model_dump(mode="json")})
    return contract.model_dump(mode="json")
