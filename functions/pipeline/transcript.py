"""transcript.json: the document gpu_job writes and every later state reads (docs/CONTRACTS.md).

The one definition of the document: gpu_job builds and validates it, Postprocess and Index read it
(pipeline.transcript_reader), and ``transcript.schema.json`` beside this file is generated from it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, NonNegativeInt

from pipeline.speakers import SpeakersSetting
from pipeline.types import ChannelMode, Chunking, Contract, Mode, Seconds

SCHEMA_VERSION: Literal["1.1"] = "1.1"

# A word whose confidence is below this is "low confidence" in the catalog row's low_confidence_share
# (docs/CONFIDENCE.md): on the held-out noisy set of benchmarks/confidence.py the words at or above it
# were 95 % right and those below it 55 % (a word below is about 9 times as likely to be wrong): the
# words worth a second look, not a verdict that they are wrong.
LOW_CONFIDENCE_THRESHOLD = 0.5

Confidence = Annotated[float, Field(ge=0, le=1)]


def low_confidence_share(confidences: list[float | None]) -> float | None:
    """The share of words below LOW_CONFIDENCE_THRESHOLD, over the words that carry a confidence
    (None when none does: a transcript made with confidence off, or without words)."""
    known = [c for c in confidences if c is not None]
    if not known:
        return None
    return round(sum(c < LOW_CONFIDENCE_THRESHOLD for c in known) / len(known), 4)


class Word(Contract):
    model_config = ConfigDict(extra="allow", frozen=True)  # producers may add e.g. a confidence
    start: Seconds
    end: Seconds
    word: str
    pii: str | None = Field(
        None,
        description="Redaction tag/redact: the entity type this word belongs to (with redact the word "
        "is the placeholder `[TYPE]` spanning the entity's words).",
    )
    channel: NonNegativeInt | None = Field(
        None, description="Split transcripts: the 0-based channel that spoke the word (absent when mixed)."
    )
    speaker: NonNegativeInt | None = Field(
        None,
        description="0-based speaker (numbered by first appearance; the channel of a split transcript); "
        "absent when speakers were not determined (docs/SPEAKERS.md).",
    )
    overlap: bool | None = Field(
        None,
        description="True when another speaker talks over this word (it keeps the speaker that "
        "covers it longest); absent otherwise.",
    )
    confidence: Confidence | None = Field(
        None,
        description="How sure the decoder was of this word, in [0, 1]: NeMo's entropy-based token confidence "
        "(Tsallis, alpha 1/3, exp-normalised), the minimum over the word's tokens (docs/CONFIDENCE.md). "
        "Absent when the job ran with word confidence off.",
    )


class Segment(Contract):
    model_config = ConfigDict(extra="allow", frozen=True)
    id: NonNegativeInt
    start: Seconds
    end: Seconds
    text: str
    words: list[Word]
    language: str | None = Field(None, description="This segment's language; None when undetermined.")
    language_confidence: float | None = Field(None, ge=0, le=1)
    channel: NonNegativeInt | None = Field(
        None,
        description="0-based channel (0 = left) that spoke this segment when the channels were transcribed "
        "separately (channel_mode.used 'split'); None when one signal was transcribed.",
    )
    speaker: NonNegativeInt | None = Field(
        None, description="The speaker of every word of this segment (segments break at speaker turns)."
    )
    confidence: Confidence | None = Field(
        None, description="The mean of its words' confidence; absent when the words carry none."
    )


class TranscriptSourceInfo(Contract):
    model_config = ConfigDict(extra="allow", frozen=True)
    uri: str
    etag: str | None
    size: NonNegativeInt | None


class TranscriptChunking(Chunking):
    """The streaming window a transcript was made with; the job may add how many chunks it ran."""

    model_config = ConfigDict(extra="allow", frozen=True)
    chunks: NonNegativeInt | None = None


class MediaInfo(Contract):
    model_config = ConfigDict(extra="allow", frozen=True)
    duration_s: Seconds
    codec: str | None
    sample_rate: int | None
    channels: int | None


class ModelInfo(Contract):
    model_config = ConfigDict(extra="allow", frozen=True)
    name: str
    revision: str | None


class Hardware(Contract):
    model_config = ConfigDict(extra="allow", frozen=True)
    device: str
    gpu: str | None = None
    dtype: str | None = None


class Timings(Contract):
    """Seconds spent per phase of the job; ``total`` is what the job held the GPU for."""

    model_config = ConfigDict(extra="allow", frozen=True)
    download: Seconds
    decode: Seconds
    load: Seconds
    inference: Seconds
    total: Seconds


class LanguageShare(Contract):
    language: str
    share: float = Field(ge=0, le=1)


class WindowsInfo(Contract):
    model_config = ConfigDict(extra="allow", frozen=True)
    max_window_s: float = Field(gt=0)
    count: NonNegativeInt


class TrackInfo(Contract):
    """One audio track (stream) of the upload; ``index`` is the container stream index (ffprobe's)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    index: NonNegativeInt
    codec: str | None
    channels: int | None
    sample_rate: int | None = None
    language: str | None = Field(None, description="The track's language tag, when the container has one.")
    default: bool = Field(description="Marked default in the container (the track that is transcribed).")


class ChannelDecision(Contract):
    """How the channels were transcribed (docs/CHANNELS.md), and the measurements behind ``auto``."""

    model_config = ConfigDict(extra="allow", frozen=True)
    requested: ChannelMode
    used: Literal["mix", "split", "channel"] = Field(
        description="mix: the down-mix; split: each channel on its own (segments carry `channel`); "
        "channel: one channel alone (``channel``), because the mix would cancel speech."
    )
    reason: str
    channel: NonNegativeInt | None = Field(None, description="used 'channel': the channel transcribed.")
    channels: list[NonNegativeInt] | None = Field(None, description="used 'split': the channels transcribed.")
    measurements: dict[str, Any] | None = Field(
        None, description="What the channel analysis measured on the first minutes (docs/CHANNELS.md)."
    )


class RedactedSpan(Contract):
    """One entity found (Redaction tag) or removed (redact): its audio span."""

    type: str = Field(
        description="CREDIT_CARD, PHONE_NUMBER, EMAIL_ADDRESS, IBAN_CODE, NATIONAL_ID, "
        "DIGIT_SEQUENCE or PERSON (docs/REDACTION.md)."
    )
    start: Seconds
    end: Seconds
    score: float = Field(ge=0, le=1)
    channel: NonNegativeInt | None = None


class RedactionInfo(Contract):
    mode: Literal["tag", "redact"]
    entities: dict[str, NonNegativeInt] = Field(description="Entities found, by type.")
    names_detected: bool = Field(description="False: no name model was installed (PERSON not looked for).")
    audio: str | None = Field(None, description="URI of the silenced audio copy (redact + RedactAudio).")


class VocabularyUsed(Contract):
    """Which vocabulary, at which exact version, boosted this transcript's decoding."""

    name: str
    uri: str
    version_id: str | None = Field(None, description="The S3 VersionId read (versioned buckets).")
    etag: str = Field(description="The ETag of the bytes read (unquoted).")
    phrases: NonNegativeInt


class SpeakersInfo(Contract):
    """How the speakers were determined (docs/SPEAKERS.md)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    requested: SpeakersSetting
    used: Literal["off", "channel", "diarization"] = Field(
        description="off: no speakers (setting off, or auto on audio too short); channel: a split "
        "transcript's channels are its speakers; diarization: a diarizer's turns."
    )
    count: NonNegativeInt = Field(description="Distinct speakers among the words.")
    model: str | None = Field(None, description="The diarizer (used 'diarization').")
    reason: str | None = None


class TranscriptDocument(Contract):
    """transcript.json: the contract between gpu_job and everything after it (schema_version 1.1;
    1.0 documents, written before, still read). Times are seconds, monotonic, within
    [0, media.duration_s]."""

    model_config = ConfigDict(extra="allow", frozen=True)
    schema_version: Literal["1.0", "1.1"] = Field(
        description="1.1 (SCHEMA_VERSION) added optional fields (word and segment `confidence` and "
        "`speaker`, `expected_languages`, `vocabulary`, `redaction`, `speakers`); a 1.0 document is a "
        "valid 1.1 document without them, so readers accept both."
    )
    source: TranscriptSourceInfo
    media: MediaInfo
    model: ModelInfo
    mode: Mode
    chunking: TranscriptChunking | None
    language: str | None
    text: str
    segments: list[Segment]
    words: list[Word]
    timings: Timings
    hardware: Hardware
    language_confidence: float | None = Field(None, ge=0, le=1)
    languages: list[LanguageShare] | None = Field(
        None, description="Languages of the segments, by share of their letters, largest first."
    )
    mixed_language: bool | None = Field(None, description="True when a second language holds a real share.")
    expected_languages: list[str] | None = Field(
        None,
        description="The languages language ID was restricted to (docs/LANGUAGES.md); absent: any. A "
        "segment that reads as another language keeps that language and is named in `warnings`.",
    )
    speech_seconds: Seconds | None = Field(
        None, description="Audio the VAD kept (batched mode); 0 for a silence- or noise-only file."
    )
    windows: WindowsInfo | None = Field(None, description="How batched mode cut the audio.")
    track: TrackInfo | None = Field(
        None, description="The audio track transcribed: the one marked default, else the first."
    )
    other_tracks: list[TrackInfo] = Field(
        default_factory=list, description="The upload's other audio tracks (not transcribed)."
    )
    channel_mode: ChannelDecision | None = None
    vocabulary: VocabularyUsed | None = Field(
        None,
        description="The custom vocabulary the words were decoded with (docs/VOCABULARY.md); "
        "None: no vocabulary.",
    )
    speakers: SpeakersInfo | None = Field(
        None, description="Who spoke: how speakers were determined and how many (docs/SPEAKERS.md)."
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="Human-readable notes on anything that changed what was transcribed "
        "(e.g. channels that cancel when mixed).",
    )
    redaction: RedactionInfo | None = Field(None, description="Absent when Redaction was off.")
    redactions: list[RedactedSpan] = Field(
        default_factory=list, description="Entities found or removed (docs/REDACTION.md), by start time."
    )
