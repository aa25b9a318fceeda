"""The upload's own settings, from its S3 object tags (the rule: pipeline.upload_settings).

Tags are read with GetObjectTagging on the exact version the workflow claimed (``VersionId`` when
the bucket is versioned). An unversioned bucket has no way to pin a tag read to an ETag
(GetObjectTagging takes no If-Match): the tags read are the key's current ones, and the probe's
own reads (pinned by If-Match) fail if the object was replaced meanwhile. A tag value that is not
a channel mode (or a RestoreArchived value) is bad input (``UnsupportedInput``, the message names the
tag and the values allowed): retrying cannot help, and silently ignoring it would transcribe the file
other than its uploader asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast, get_args

from pipeline.archive import RESTORE_SETTINGS
from pipeline.contracts import UploadedObject
from pipeline.types import CHANNEL_MODE_TAG, RESTORE_ARCHIVED_TAG, ChannelMode, RestoreArchived
from pipeline.upload_settings import UploadSetting, choice, resolve

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client


CHANNEL_MODES: tuple[str, ...] = get_args(ChannelMode)
CHANNEL_MODE = UploadSetting(CHANNEL_MODE_TAG, choice(CHANNEL_MODES, "a channel mode"))
RESTORE_ARCHIVED = UploadSetting(RESTORE_ARCHIVED_TAG, choice(RESTORE_SETTINGS, "a RestoreArchived value"))


def object_tags(s3: S3Client, source: UploadedObject) -> dict[str, str]:
    """The object's tags (keys as S3 stores them), read on the claimed version."""
    params: dict[str, Any] = {"Bucket": source.bucket, "Key": source.key}
    if source.version_id:
        params["VersionId"] = source.version_id
    response = s3.get_object_tagging(**params)
    return {tag["Key"]: tag["Value"] for tag in response.get("TagSet", [])}


def channel_mode_from_tags(tags: dict[str, str]) -> ChannelMode | None:
    """The ``channel-mode`` tag's value (pipeline.upload_settings' rule), or None: the stack's setting."""
    mode = resolve(CHANNEL_MODE, tags, key="")
    return cast(ChannelMode | None, mode)  # one of CHANNEL_MODES, checked by its parser


def restore_archived_for(tags: dict[str, str], key: str, default: RestoreArchived) -> RestoreArchived:
    """A cold upload's RestoreArchived (docs/ARCHIVES.md): its ``restore-archived`` tag, else the
    stack's RESTORE_ARCHIVED (pipeline.upload_settings' rule)."""
    value = resolve(RESTORE_ARCHIVED, tags, key=key, default=default)
    return cast(RestoreArchived, value or default)  # one of RESTORE_SETTINGS, checked by its parser
