"""The small value types every contract is built from (state contracts and the transcript document alike)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Mode = Literal["batched", "full", "local_attention", "streaming"]
SizeClass = str  # a key of pipeline.gpu_classes.GPU_CLASSES ("small", "medium", "large", ...)
TranscribePath = Literal["pool", "job"]
# How a multi-channel upload is transcribed (docs/CHANNELS.md): the CHANNEL_MODE setting, or the
# upload's S3 object tag `channel-mode` (CHANNEL_MODE_TAG).
ChannelMode = Literal["mix", "split", "auto"]
CHANNEL_MODE_TAG = "channel-mode"
# Whether (and how fast) a cold upload is restored before it is transcribed (docs/ARCHIVES.md): the
# RESTORE_ARCHIVED setting, or the upload's S3 object tag `restore-archived` (RESTORE_ARCHIVED_TAG).
RestoreArchived = Literal["off", "bulk", "standard", "expedited"]
RESTORE_ARCHIVED_TAG = "restore-archived"
# Personal data in the transcript (docs/REDACTION.md): the REDACTION setting or the tag `redaction`;
# with redact, REDACT_AUDIO (or the tag `redact-audio`: true/false) also writes a silenced audio copy.
Redaction = Literal["off", "tag", "redact"]
REDACTION_TAG = "redaction"
REDACT_AUDIO_TAG = "redact-audio"


def channel_label(channel: int) -> str:
    """How text and subtitles name a 0-based channel: "Channel 1" is channel 0 (the left one)."""
    return f"Channel {channel + 1}"


Seconds = Annotated[float, Field(ge=0)]


class Contract(BaseModel):
    """Strict by default: a field the producer adds and no consumer declares is a contract change."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Chunking(Contract):
    """Streaming mode's window: each chunk is decoded with left/right context around it."""

    chunk_s: float = Field(gt=0)
    left_s: Seconds
    right_s: Seconds
