"""Who spoke: the Speakers per-upload setting and how outputs name a speaker (docs/SPEAKERS.md).

The setting is ``off`` (no diarization), ``auto`` (diarize one-signal speech of at least
SPEAKERS_AUTO_MIN_S; channels transcribed apart are their own speakers) or the most speakers to find,
1..MAX_SPEAKERS (the production diarizer, Sortformer 4spk, has four speaker slots). An upload overrides
the stack's SPEAKERS by its S3 object tag ``speakers`` or by SPEAKERS_BY_PREFIX, through
``pipeline.upload_settings``' one rule (``SPEAKERS`` below is that setting).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from pipeline.upload_settings import UploadSetting

SPEAKERS_TAG = "speakers"
MAX_SPEAKERS = 4
SPEAKERS_PATTERN = rf"^(off|auto|[1-{MAX_SPEAKERS}])$"
SpeakersSetting = Annotated[str, Field(pattern=SPEAKERS_PATTERN)]


def parse_speakers(value: str) -> str:
    """A Speakers value as the contract spells it ("off", "auto", "1".."4"); ValueError names the values
    allowed. The one parser for the setting, the object tag, the prefix rule and the CLIs."""
    spelled = str(value).strip().lower()
    if spelled in ("off", "auto"):
        return spelled
    if spelled.isdigit() and 1 <= int(spelled) <= MAX_SPEAKERS:
        return str(int(spelled))
    raise ValueError(f"{value!r} is not a speakers setting; use off, auto or a count 1..{MAX_SPEAKERS}")


SPEAKERS: UploadSetting[str] = UploadSetting(SPEAKERS_TAG, parse_speakers)


def speakers_limit(setting: str) -> int | None:
    """The most speakers a setting lets the diarizer find (None: off; auto: MAX_SPEAKERS)."""
    if setting == "off":
        return None
    return MAX_SPEAKERS if setting == "auto" else int(setting)


def speaker_label(speaker: int) -> str:
    """How text and subtitles name a 0-based diarized speaker: "Speaker 1" is the first to speak."""
    return f"Speaker {speaker + 1}"
