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

from pipeline.archive import RESTORE_SETTINGS
from pipeline.outcomes import UnsupportedInput
from pipeline.types import CHANNEL_MODE_TAG, ChannelMode
from pipeline.contracts import RESTORE_ARCHIVED_TAG, RestoreArchived, UploadedObject

CHANNEL_MODES: tuple[str, ...] = get_args(ChannelMode)


def object_tags(s3: Any, source: UploadedObject) -> dict[str, str]:
    """The object's tags (keys as S3 stores them), read on the claimed version."""
    params: dict[str, Any] = {"Bucket": source.bucket, "Key": source.key}
    if source.version_id:
        params["VersionId"] = source.version_id
    response = s3.get_object_tagging(**params)
    return {tag["Key"]: tag["Value"] for tag in response.get("TagSet", [])}


def _tag_setting(tags: dict[str, str], tag: str, allowed: tuple[str, ...], what: str) -> str | None:
    """A setting's tag value (key and value case-insensitive, blanks stripped), or None; a value not
    in ``allowed`` is bad input naming the tag and the values allowed."""
    matching = [value for key, value in tags.items() if key.strip().lower() == tag]
    if not matching:
        return None
    value = matching[0].strip().lower()
    if value not in allowed:
        raise UnsupportedInput(
            f"S3 object tag {tag}={matching[0]!r} is not {what}; "
            f"use one of {', '.join(allowed)} (or remove the tag)"
        )
    return value


def channel_mode_from_tags(tags: dict[str, str]) -> ChannelMode | None:
    """The ``channel-mode`` tag's value, or None."""
    return _tag_setting(tags, CHANNEL_MODE_TAG, CHANNEL_MODES, "a channel mode")  # type: ignore[return-value]


def restore_archived_from_tags(tags: dict[str, str]) -> RestoreArchived | None:
    """The ``restore-archived`` tag's value (docs/ARCHIVES.md), or None."""
    return _tag_setting(
        tags,
        RESTORE_ARCHIVED_TAG,
        RESTORE_SETTINGS,  # type: ignore[return-value]
        "a RestoreArchived value",
    )
