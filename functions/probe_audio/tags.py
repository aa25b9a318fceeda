"""The upload's own settings, from its S3 object tags: ``channel-mode`` (docs/CHANNELS.md) and
``languages`` (docs/LANGUAGES.md).

Tags are read with GetObjectTagging on the exact version the workflow claimed (``VersionId`` when
the bucket is versioned). An unversioned bucket has no way to pin a tag read to an ETag
(GetObjectTagging takes no If-Match): the tags read are the key's current ones, and the probe's
own reads (pinned by If-Match) fail if the object was replaced meanwhile. A tag value that is not
a channel mode, or a language the model does not transcribe, is bad input (``UnsupportedInput``,
the message names the tag and the values allowed): retrying cannot help, and silently ignoring it
would transcribe the file other than its uploader asked.
"""

from __future__ import annotations

from typing import Any, get_args

from pipeline.outcomes import UnsupportedInput
from pipeline.languages import EXPECTED_LANGUAGES_TAG, parse_expected_languages
from pipeline.types import CHANNEL_MODE_TAG, ChannelMode
from pipeline.contracts import UploadedObject

CHANNEL_MODES: tuple[str, ...] = get_args(ChannelMode)


def object_tags(s3: Any, source: UploadedObject) -> dict[str, str]:
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
    """The ``channel-mode`` tag's value (key and value case-insensitive, blanks stripped), or None."""
    given = _tag(tags, CHANNEL_MODE_TAG)
    if given is None:
        return None
    value = given.strip().lower()
    if value not in CHANNEL_MODES:
        raise UnsupportedInput(
            f"S3 object tag {CHANNEL_MODE_TAG}={given!r} is not a channel mode; "
            f"use one of {', '.join(CHANNEL_MODES)} (or remove the tag)"
        )
    return value  # type: ignore[return-value]  # checked against ChannelMode's values above


def expected_languages_from_tags(tags: dict[str, str]) -> list[str] | None:
    """The ``languages`` tag as a list of codes ("en de", "en+de"), or None without the tag (or with an
    empty one): the EXPECTED_LANGUAGES setting then decides."""
    value = _tag(tags, EXPECTED_LANGUAGES_TAG)
    if value is None:
        return None
    try:
        return list(parse_expected_languages(value)) or None
    except ValueError as exc:
        raise UnsupportedInput(
            f"S3 object tag {EXPECTED_LANGUAGES_TAG}={value!r}: {exc} (or remove the tag)"
        ) from exc
