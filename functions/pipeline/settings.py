"""Every limit, threshold and default of the pipeline, read from one set of environment names.

The Lambdas and gpu_job read the same names with the same defaults (the Batch job definitions
and the functions get the same variables from template.yaml, whose parameter defaults a test
holds equal to these). Deployment wiring (bucket names, queue ARNs) is not a setting: it has no
default and lives with the code that needs it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.languages import parse_expected_languages
from pipeline.speakers import SpeakersSetting, parse_speakers
from pipeline.types import ChannelMode, Redaction, RestoreArchived
from pipeline.upload_settings import prefix_rules


class Settings(BaseModel):
    """Field aliases are the environment variable names."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    batched_max_s: float = Field(
        86400.0,
        ge=0,
        alias="BATCHED_MAX_S",
        description="Longest audio (s) planned in batched mode (VAD windows, batched encoder; memory does "
        "not grow with length). At or above MAX_DURATION_S: every accepted length. Longer: the rule below.",
    )
    full_max_s: float = Field(
        600.0,
        gt=0,
        alias="FULL_MAX_S",
        description="Longest audio (s) planned in full-attention mode (~10 min fits a 24 GB L4).",
    )
    local_attention_max_s: float = Field(
        9000.0,
        gt=0,
        alias="LOCAL_ATTENTION_MAX_S",
        description="Longest audio (s) planned in local-attention mode; longer is streamed.",
    )
    max_duration_s: float = Field(
        86400.0,
        gt=0,
        alias="MAX_DURATION_S",
        description="Uploads longer than this (s) are rejected as bad input (DurationOutOfRange).",
    )
    chunk_s: float = Field(20.0, gt=0, alias="CHUNK_S", description="Streaming chunk length (s).")
    left_s: float = Field(5.0, ge=0, alias="LEFT_S", description="Streaming left context (s).")
    right_s: float = Field(3.0, ge=0, alias="RIGHT_S", description="Streaming right context (s).")

    # -- the worker pool for short files (gpu_job/pool/worker.py, functions/scale_pool, docs/POOL.md)
    pool_max_s: float = Field(
        600.0,
        ge=0,
        alias="POOL_MAX_S",
        description="Longest audio (s) sent to the warm worker pool instead of its own Batch job; 0 turns "
        "the pool off. Measured (benchmarks/pool_burst.py): a per-file job's start-up outweighs its GPU work "
        "at every length the pool's GPU class can hold in full attention, so the bound is FULL_MAX_S.",
    )
    max_pool_workers: int = Field(
        4, ge=0, alias="MAX_POOL_WORKERS", description="Most pool workers (Batch jobs) running at once."
    )
    pool_files_per_worker: int = Field(
        50,
        ge=1,
        alias="POOL_FILES_PER_WORKER",
        description="Queued files that justify one more worker: below this backlog per worker, a new "
        "worker's start-up (~50 s on AWS) costs more than it saves.",
    )
    pool_task_heartbeat_s: int = Field(
        900,
        ge=1,
        alias="POOL_TASK_HEARTBEAT_S",
        description="Longest a pool worker keeps working on a file whose execution has ended before it "
        "notices: it confirms each held token (SendTaskHeartbeat) four times per period. Not the task's "
        "HeartbeatSeconds (TranscribeInPool has none: that clock would include the queue wait).",
    )
    pool_visibility_s: int = Field(
        120,
        ge=1,
        le=43200,
        alias="POOL_VISIBILITY_S",
        description="SQS visibility a worker holds (and extends) per message: a dead worker's messages are "
        "visible again after at most this, while their tokens are still valid.",
    )
    pool_idle_exit_s: float = Field(
        120.0,
        ge=0,
        alias="POOL_IDLE_EXIT_S",
        description="A worker that receives nothing for this long exits, so the pool scales to zero.",
    )
    pool_batch_size: int = Field(
        10,
        ge=1,
        le=10,
        alias="POOL_BATCH_SIZE",
        description="Messages a worker receives and transcribes together (SQS allows at most 10).",
    )

    # -- ingress (functions/start_execution, docs/INGRESS.md)
    ignore_key_suffixes: str = Field(
        "",
        alias="IGNORE_KEY_SUFFIXES",
        description="Comma-separated key endings (case-insensitive, e.g. '.txt,.json') the starter skips "
        "without starting an execution, for buckets that also hold non-media. Empty: every object is "
        "transcribed or ends as a typed failure (content decides, not the name).",
    )

    def ignored_suffixes(self) -> tuple[str, ...]:
        """IGNORE_KEY_SUFFIXES as lower-case endings, blanks dropped."""
        return tuple(s.strip().lower() for s in self.ignore_key_suffixes.split(",") if s.strip())

    # -- channels (docs/CHANNELS.md; overridable per upload by the S3 object tag `channel-mode`)
    channel_mode: ChannelMode = Field(
        "auto",
        alias="CHANNEL_MODE",
        description="mix: one transcript of the down-mix; split: each channel transcribed on its own, "
        "segments labelled by channel; auto: split two-channel audio whose channels carry different "
        "speech, mix otherwise. A mix that would cancel speech (phase-inverted channels) uses the louder "
        "channel instead, with a warning in the transcript.",
    )

    # -- languages (docs/LANGUAGES.md; per upload: tag `expected-languages` > ..._BY_PREFIX > this)
    expected_languages: str = Field(
        "",
        alias="EXPECTED_LANGUAGES",
        description="ISO 639-1 codes (separated by spaces, commas or '+') that language ID is restricted to; "
        "a segment that reads as another language is named in the transcript's warnings. Empty: any of the "
        "model's 25 languages.",
    )
    expected_languages_by_prefix: str = Field(
        "",
        alias="EXPECTED_LANGUAGES_BY_PREFIX",
        description="Comma-separated key-prefix=languages rules (e.g. 'de/=de,calls/eu/=en+fr'); the longest "
        "matching prefix of an upload's key wins over EXPECTED_LANGUAGES ('any' lifts it).",
    )

    @field_validator("expected_languages")
    @classmethod
    def _known_languages(cls, value: str) -> str:
        return " ".join(parse_expected_languages(value))

    @field_validator("expected_languages_by_prefix")
    @classmethod
    def _known_prefix_languages(cls, value: str) -> str:
        """Every rule's languages checked at start-up, not on the first upload that matches it."""
        for _prefix, codes in prefix_rules(value, "EXPECTED_LANGUAGES_BY_PREFIX"):
            parse_expected_languages(codes)
        return value

    def expected_language_list(self) -> list[str] | None:
        """EXPECTED_LANGUAGES as a list; None when empty (any language)."""
        return list(parse_expected_languages(self.expected_languages)) or None

    # -- cold uploads (docs/ARCHIVES.md; overridable per upload by the S3 object tag `restore-archived`)
    restore_archived: RestoreArchived = Field(
        "off",
        alias="RESTORE_ARCHIVED",
        description="A cold upload (Glacier, Deep Archive, an Intelligent-Tiering archive tier): off ends it "
        "ARCHIVED; bulk | standard | expedited restores it with that retrieval tier (Deep Archive has no "
        "expedited: standard) and S3's restore-completed event transcribes the restored copy.",
    )
    restore_days: int = Field(
        1,
        ge=1,
        le=30,
        alias="RESTORE_DAYS",
        description="Days S3 keeps a restored copy readable (Intelligent-Tiering takes none); each day is "
        "billed as storage of the copy, so the default is the least that leaves time to transcribe it.",
    )

    # -- personal data (docs/REDACTION.md; per upload by pipeline.upload_settings: the S3 object tags
    # `redaction`, `redact-audio`, else the longest key prefix of the *_BY_PREFIX settings)
    redaction: Redaction = Field(
        "off",
        alias="REDACTION",
        description="off: transcripts as spoken; tag: card numbers, phone numbers, e-mails, IBANs, national "
        "IDs, long digit runs (and names where a name model is installed) are listed in transcript.json and "
        "marked on their words; redact: also replaced by [TYPE] in every text output.",
    )
    redaction_by_prefix: str = Field(
        "",
        alias="REDACTION_BY_PREFIX",
        description="Redaction per key prefix: comma-separated key-prefix=value pairs (docs/SETTINGS.md).",
    )
    redact_audio: bool = Field(
        False,
        alias="REDACT_AUDIO",
        description="With redaction redact: also write redacted_audio.flac beside the outputs, the spans "
        "silenced. The upload is never modified.",
    )
    redact_audio_by_prefix: str = Field(
        "",
        alias="REDACT_AUDIO_BY_PREFIX",
        description="RedactAudio per key prefix: comma-separated key-prefix=true|false pairs.",
    )

    # -- custom vocabularies (docs/VOCABULARY.md; overridable per upload by the S3 object tag `vocabulary`)
    vocabulary: str = Field(
        "",
        alias="VOCABULARY",
        description="The stack's default vocabulary name (s3://<OutputBucket>/vocabularies/<name>.txt); "
        "empty: none. An upload's tag `vocabulary` (or `none`) and VOCABULARY_BY_PREFIX win over it.",
    )
    vocabulary_by_prefix: str = Field(
        "",
        alias="VOCABULARY_BY_PREFIX",
        description="Comma-separated `key-prefix=name` pairs (e.g. 'calls/=support,clinic/=drugs'): an "
        "upload whose key starts with a prefix gets that vocabulary (the longest prefix wins; name `none` "
        "opts a prefix out). Its tag `vocabulary` still wins.",
    )
    vocabulary_max_phrases: int = Field(
        1000,
        ge=1,
        alias="VOCABULARY_MAX_PHRASES",
        description="Most phrases in one vocabulary; more is bad input (VocabularyTooLarge).",
    )
    vocabulary_max_phrase_chars: int = Field(
        100,
        ge=1,
        alias="VOCABULARY_MAX_PHRASE_CHARS",
        description="Longest phrase (characters); longer is bad input (VocabularyTooLarge).",
    )
    vocabulary_boost: float = Field(
        1.0,
        gt=0,
        alias="VOCABULARY_BOOST",
        description="Boost per phrase token (NeMo's boosting-tree context_score, its default 1.0), "
        "multiplied by each phrase's own weight.",
    )

    # -- speakers (docs/SPEAKERS.md; per upload: tag `speakers` > SPEAKERS_BY_PREFIX > SPEAKERS)
    speakers: SpeakersSetting = Field(
        "auto",
        alias="SPEAKERS",
        description="off: no speaker labels; auto: diarize one-signal speech of at least SPEAKERS_AUTO_MIN_S "
        "(channels transcribed apart are their own speakers); 1-4: diarize, finding at most that many "
        "speakers (1: every word is Speaker 1).",
    )
    speakers_by_prefix: str = Field(
        "",
        alias="SPEAKERS_BY_PREFIX",
        description="Comma-separated `key-prefix=value` pairs (e.g. 'calls/=2,lectures/=off'): an upload "
        "whose key starts with a prefix gets that Speakers value (the longest prefix wins). Its tag "
        "`speakers` still wins.",
    )
    speakers_auto_min_s: float = Field(
        5.0,
        ge=0,
        alias="SPEAKERS_AUTO_MIN_S",
        description="Speakers auto: speech (s) below which a file is not diarized (one short utterance "
        "is one speaker; the diarizer needs a few seconds to tell voices apart).",
    )

    @field_validator("speakers", mode="before")
    @classmethod
    def _spelled_speakers(cls, value: object) -> str:
        return parse_speakers(str(value))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Unset or blank variables take the default; a malformed one fails loudly, by name."""
        env = os.environ if env is None else env
        given = {}
        for name, field in cls.model_fields.items():
            raw = env.get(field.alias or name, "")
            if raw.strip():
                given[field.alias or name] = raw.strip()
        return cls.model_validate(given)

    @classmethod
    def environment_names(cls) -> dict[str, str]:
        """Field name -> environment variable name."""
        return {name: field.alias or name for name, field in cls.model_fields.items()}
