"""The upload's own settings, from its S3 object tags, the key's prefix rules and the stack defaults
(the rule: pipeline.upload_settings): ``channel-mode`` (docs/CHANNELS.md), ``expected-languages``
(docs/LANGUAGES.md) and ``speakers`` (docs/SPEAKERS.md).

Tags are read with GetObjectTagging on the exact version the workflow claimed (``VersionId`` when
the bucket is versioned). An unversioned bucket has no way to pin a tag read to an ETag
(GetObjectTagging takes no If-Match): the tags read are the key's current ones, and the probe's
own reads (pinned by If-Match) fail if the object was replaced meanwhile. A tag value that is not
a channel mode, a RestoreArchived value, a Speakers value or a language the model does not transcribe,
is bad input (``UnsupportedInput``, the message names the tag and the values allowed): retrying cannot
help, and silently ignoring it would transcribe the file other than its uploader asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast, get_args

from pipeline.archive import RESTORE_SETTINGS
from pipeline.contracts import UploadedObject
from pipeline.languages import EXPECTED_LANGUAGES_TAG, parse_expected_languages
from pipeline.settings import Settings
from pipeline.speakers import SPEAKERS
from pipeline.types import (
    CHANNEL_MODE_TAG,
    REDACT_AUDIO_TAG,
    REDACTION_TAG,
    RESTORE_ARCHIVED_TAG,
    ChannelMode,
    Redaction,
    RestoreArchived,
)
from pipeline.upload_settings import UploadSetting, choice, flag, resolve

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client


CHANNEL_MODES: tuple[str, ...] = get_args(ChannelMode)
CHANNEL_MODE = UploadSetting(CHANNEL_MODE_TAG, choice(CHANNEL_MODES, "a channel mode"))
EXPECTED_LANGUAGES = UploadSetting(EXPECTED_LANGUAGES_TAG, parse_expected_languages)
RESTORE_ARCHIVED = UploadSetting(RESTORE_ARCHIVED_TAG, choice(RESTORE_SETTINGS, "a RestoreArchived value"))
REDACTIONS: tuple[str, ...] = get_args(Redaction)
REDACTION = UploadSetting(REDACTION_TAG, choice(REDACTIONS, "a redaction setting"))
REDACT_AUDIO = UploadSetting(REDACT_AUDIO_TAG, flag())


def object_tags(s3: S3Client, source: UploadedObject) -> dict[str, str]:
    """The object's tags (keys as S3 stores them), read on the claimed version."""
    params: dict[str, Any] = {"Bucket": source.bucket, "Key": source.key}
    if source.version_id:
        params["VersionId"] = source.version_id
    response = s3.get_object_tagging(**params)
    return {tag["Key"]: tag["Value"] for tag in response.get("TagSet", [])}


def _tag(tags: dict[str, str], name: str) -> str | None:
    """The value of tag `name` (its key matched case-insensitively, blanks stripped), or None."""
    matching = [value for key, value in tags.items() if key.strip().lower() == name]
    return matching[0] if matching else None


def channel_mode_from_tags(tags: dict[str, str]) -> ChannelMode | None:
    """The ``channel-mode`` tag's value (pipeline.upload_settings' rule), or None: the stack's setting."""
    mode = resolve(CHANNEL_MODE, tags, key="")
    return cast(ChannelMode | None, mode)  # one of CHANNEL_MODES, checked by its parser


def speakers_for(tags: dict[str, str], key: str, settings: Settings) -> str | None:
    """The upload's Speakers value (tag ``speakers``, else the longest SPEAKERS_BY_PREFIX prefix of
    ``key``) as the contract spells it, or None: the stack's SPEAKERS decides. A bad tag value is
    ``UnsupportedInput`` (pipeline.upload_settings)."""
    return resolve(SPEAKERS, tags, key=key, by_prefix=settings.speakers_by_prefix)


def expected_languages_for(tags: dict[str, str], key: str, settings: Settings) -> list[str] | None:
    """The upload's expected languages by pipeline.upload_settings' rule: its ``expected-languages``
    tag, else the longest matching EXPECTED_LANGUAGES_BY_PREFIX prefix, else EXPECTED_LANGUAGES.
    None: any language (nothing set, or ``any`` / an empty tag, which also lift a prefix rule)."""
    codes = resolve(
        EXPECTED_LANGUAGES,
        tags,
        key=key,
        by_prefix=settings.expected_languages_by_prefix,
        default=settings.expected_languages,
    )
    return list(codes) if codes else None


def restore_archived_for(tags: dict[str, str], key: str, default: RestoreArchived) -> RestoreArchived:
    """A cold upload's RestoreArchived (docs/ARCHIVES.md): its ``restore-archived`` tag, else the
    stack's RESTORE_ARCHIVED (pipeline.upload_settings' rule)."""
    value = resolve(RESTORE_ARCHIVED, tags, key=key, default=default)
    return cast(RestoreArchived, value or default)  # one of RESTORE_SETTINGS, checked by its parser


def redaction_from_tags(tags: dict[str, str], key: str, settings: Settings) -> Redaction:
    """The upload's Redaction: tag ``redaction``, else REDACTION_BY_PREFIX, else REDACTION."""
    value = resolve(REDACTION, tags, key, settings.redaction_by_prefix, settings.redaction)
    return cast(Redaction, value or settings.redaction)  # one of REDACTIONS, checked by its parser


def redact_audio_from_tags(tags: dict[str, str], key: str, settings: Settings) -> bool:
    """The upload's RedactAudio: tag ``redact-audio``, else REDACT_AUDIO_BY_PREFIX, else REDACT_AUDIO."""
    value = resolve(
        REDACT_AUDIO, tags, key, settings.redact_audio_by_prefix, str(settings.redact_audio).lower()
    )
    return settings.redact_audio if value is None else value
