"""The upload's own settings, from its S3 object tags: today ``channel-mode`` (docs/CHANNELS.md).

Tags are read with GetObjectTagging on the exact version the workflow claimed (``VersionId`` when
the bucket is versioned). An unversioned bucket has no way to pin a tag read to an ETag
(GetObjectTagging takes no If-Match): the tags read are the key's current ones, and the probe's
own reads (pinned by If-Match) fail if the object was replaced meanwhile. A tag value that is not
a channel mode is bad input (``UnsupportedInput``, the message names the tag and the values
allowed): retrying cannot help, and silently ignoring it would transcribe the file other than its
uploader asked.
"""

from __future__ import annotations

from typing import Any, get_args

from pipeline.outcomes import UnsupportedInput
from pipeline.types import CHANNEL_MODE_TAG, ChannelMode
from pipeline.contracts import REDACT_AUDIO_TAG, REDACTION_TAG, Redaction, UploadedObject

CHANNEL_MODES: tuple[str, ...] = get_args(ChannelMode)
REDACTIONS: tuple[str, ...] = get_args(Redaction)
BOOLEANS = {"true": True, "false": False}


def object_tags(s3: Any, source: UploadedObject) -> dict[str, str]:
    """The object's tags (keys as S3 stores them), read on the claimed version."""
    params: dict[str, Any] = {"Bucket": source.bucket, "Key": source.key}
    if source.version_id:
        params["VersionId"] = source.version_id
    response = s3.get_object_tagging(**params)
    return {tag["Key"]: tag["Value"] for tag in response.get("TagSet", [])}


def setting_from_tags(tags: dict[str, str], name: str, allowed: tuple[str, ...], what: str) -> str | None:
    """Tag ``name``'s value (key and value case-insensitive, blanks stripped), or None; a value not
    in ``allowed`` is bad input naming the tag and the values allowed."""
    matching = [value for key, value in tags.items() if key.strip().lower() == name]
    if not matching:
        return None
    value = matching[0].strip().lower()
    if value not in allowed:
        raise UnsupportedInput(
            f"S3 object tag {name}={matching[0]!r} is not {what}; "
            f"use one of {', '.join(allowed)} (or remove the tag)"
        )
    return value


def channel_mode_from_tags(tags: dict[str, str]) -> ChannelMode | None:
    """The ``channel-mode`` tag's value, or None."""
    return setting_from_tags(tags, CHANNEL_MODE_TAG, CHANNEL_MODES, "a channel mode")  # type: ignore[return-value]


def redaction_from_tags(tags: dict[str, str]) -> Redaction | None:
    """The ``redaction`` tag's value (off, tag, redact; docs/REDACTION.md), or None."""
    return setting_from_tags(tags, REDACTION_TAG, REDACTIONS, "a redaction setting")  # type: ignore[return-value]


def redact_audio_from_tags(tags: dict[str, str]) -> bool | None:
    """The ``redact-audio`` tag's value (true, false), or None."""
    value = setting_from_tags(tags, REDACT_AUDIO_TAG, tuple(BOOLEANS), "true or false")
    return None if value is None else BOOLEANS[value]
