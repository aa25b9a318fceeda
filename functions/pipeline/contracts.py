"""Every shape that crosses a boundary in the pipeline, in the order one upload meets them.

```
S3 "Object Created" (EventBridge)
  Claim        ClaimRequest        -> ClaimResult {claimed, source: UploadedObject}
  Probe        UploadedObject      -> ProbeResult
  Plan         PlanRequest         -> Plan {mode, size_class, path, request: TranscriptionRequest, ...}
  Transcribe   TranscriptionRequest (Batch command or pool message) -> transcript.json (TranscriptDocument)
               and the job's description, kept as JobResult
    pool path: ScalePool PoolScaleRequest -> PoolScaling (workers started; the task's heartbeat)
               TranscribeInPool PoolTask (SQS message, .waitForTaskToken) -> JobResult from the worker
  Postprocess  PostprocessRequest  -> PostprocessResult {outputs: Outputs, summary: TranscriptSummary}
  Index        IndexRequest        -> CatalogItem (status TRANSCRIBED)
               then a CompletionEvent "Transcript Ready" on EventBridge
  on failure   FailureRequest      -> FailureResult (catalog item status FAILED, or SUPERSEDED when the
               key now holds a newer upload), then a CompletionEvent "Transcript Failed" | "Transcript
               Superseded"; the execution ends in Failed (a Fail state) or Superseded (a Succeed state)
```

Exact bytes: every read of the upload is pinned (VersionId, else If-Match on its ETag), and every
write of the key's outputs (transcript.json by gpu_job, the derived files by Postprocess, the
TRANSCRIBED row by Index) is made only while the key still holds this upload (``pipeline.exact_upload``:
a HEAD of the input key, then a conditional PutObject with If-Match / If-None-Match), so the newest
upload of a key owns its outputs whichever job finishes first.

The state machine (statemachine/transcribe.asl.json) builds each request from the results before
it; tests/workflow checks that its Parameters and ResultPaths produce what these models accept.
Field names are snake_case everywhere except where AWS fixes them (the S3 event). Lambda code and
gpu_job both import this module: it depends on pydantic alone.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, NonNegativeInt, model_validator

from pipeline.languages import ExpectedLanguages
from pipeline.outcomes import CatalogStatus, ReasonClass, SettledStatus, UnsuccessfulStatus
from pipeline.speakers import SpeakersSetting
from pipeline.transcript import LOW_CONFIDENCE_THRESHOLD, Confidence, Hardware, ModelInfo, Timings
from pipeline.types import (
    ChannelMode,
    Chunking,
    Contract,
    Mode,
    Redaction,
    RestoreArchived,
    Seconds,
    SizeClass,
    TranscribePath,
)

# UploadedObject.etag when the event carried none: DynamoDB key attributes cannot be empty, and it
# is not a value S3 can match (If-Match is then not sent).
MISSING_ETAG = "no-etag"


# -- the uploaded object ----------------------------------------------------------------------------
class UploadedObject(Contract):
    """One exact upload: the bytes the workflow transcribes are pinned by ``version_id`` when the
    bucket is versioned, else by ``etag`` (If-Match), so an overwrite mid-run is detected instead
    of mixing two uploads. The catalog is keyed by (``uri``, ``etag``)."""

    bucket: str = Field(min_length=1)
    key: str = Field(min_length=1, description="Decoded object key (S3 events carry it URL-encoded).")
    etag: str = Field(min_length=1, description="ETag without quotes; 'no-etag' when the event had none.")
    version_id: str | None = None
    size: NonNegativeInt | None = None
    uri: str = Field(description="s3://bucket/key")
    sequencer: str | None = Field(
        None,
        description="The S3 event's sequencer (orders events of one key; None when the execution "
        "was not started by an S3 event).",
    )

    @model_validator(mode="after")
    def _uri_names_the_object(self) -> UploadedObject:
        if self.uri != f"s3://{self.bucket}/{self.key}":
            raise ValueError(f"uri {self.uri!r} does not name s3://{self.bucket}/{self.key}")
        return self

    @property
    def if_match_etag(self) -> str | None:
        """The ETag to send as If-Match (unquoted), or None when the event carried none."""
        return None if self.etag == MISSING_ETAG else self.etag


# -- Claim ------------------------------------------------------------------------------------------
class ClaimRequest(Contract):
    """Claim's payload: the execution input (the raw EventBridge event) and the execution's ARN.
    The claim handler validates ``event`` with Powertools' S3 EventBridge model; it stays a plain
    mapping here so that this module depends on pydantic alone."""

    event: dict[str, Any] = Field(description="The S3 Object Created event from EventBridge, as delivered.")
    execution_arn: str | None = None


ClaimSkipReason = Literal["already_claimed", "folder_marker", "not_object_created"]


class ClaimResult(Contract):
    claimed: bool
    source: UploadedObject
    reason: ClaimSkipReason | None = Field(
        None, description="Why the upload is not processed (claimed false)."
    )


# -- Vocabulary -------------------------------------------------------------------------------------
class VocabularyRef(Contract):
    """One exact version of a named phrase list (docs/VOCABULARY.md): ``object`` pins it the way an
    upload is pinned (VersionId, else If-Match on its ETag), so gpu_job boosts exactly the phrases the
    Probe validated, and transcript.json can say which version that was."""

    name: str = Field(min_length=1, max_length=64)
    object: UploadedObject = Field(description="s3://<bucket>/vocabularies/<name>.txt, pinned.")
    phrases: NonNegativeInt = Field(description="Phrases the Probe counted (after blanks and comments).")


# -- Probe ------------------------------------------------------------------------------------------
class ProbeResult(Contract):
    """What the ranged reads of the object found; content decides, not the file name."""

    duration_s: NonNegativeFloat | None = Field(description="None when the container declares no length.")
    container: str
    codec: str
    sample_rate: NonNegativeInt
    channels: NonNegativeInt
    bitrate: NonNegativeInt
    size: NonNegativeInt
    has_audio: bool
    duration_is_estimate: bool = Field(
        False,
        description="True when no header states a length the object can hold (live recordings, "
        "streamed WAV, header-less VBR MP3/raw AAC): duration_s is then estimated (an upper bound "
        "from size and bitrate or a tail read where possible), capped at MAX_DURATION_S, never "
        "rejected for length; the job measures the real length and applies the limit to it.",
    )
    channel_mode: ChannelMode | None = Field(
        None,
        description="The upload's S3 object tag `channel-mode` (read on the exact version); None when "
        "the object has no such tag (the CHANNEL_MODE setting then decides).",
    )
    expected_languages: ExpectedLanguages = Field(
        None,
        description="The upload's expected languages (ISO 639-1 codes), resolved by the Probe: its S3 object "
        "tag `expected-languages`, else the longest matching EXPECTED_LANGUAGES_BY_PREFIX rule, else "
        "EXPECTED_LANGUAGES (docs/SETTINGS.md); None: any of the model's languages.",
    )
    redaction: Redaction | None = Field(
        None,
        description="The upload's Redaction by pipeline.upload_settings (tag `redaction`, else "
        "REDACTION_BY_PREFIX, else REDACTION); None: the REDACTION setting decides.",
    )
    redact_audio: bool | None = Field(
        None,
        description="The upload's RedactAudio by the same rule (tag `redact-audio`); None: REDACT_AUDIO "
        "decides.",
    )
    vocabulary: VocabularyRef | None = Field(
        None,
        description="The custom vocabulary this upload is transcribed with, validated and pinned to the "
        "version read (docs/VOCABULARY.md); None: no vocabulary.",
    )
    speakers: SpeakersSetting | None = Field(
        None,
        description="The upload's Speakers setting by pipeline.upload_settings' rule (tag `speakers`, "
        "else SPEAKERS_BY_PREFIX, else SPEAKERS); None: the SPEAKERS setting decides.",
    )


# -- Plan -------------------------------------------------------------------------------------------
class PlanRequest(Contract):
    source: UploadedObject
    probe: ProbeResult


class TranscriptionRequest(Contract):
    """Everything the GPU work needs for one upload, the same for a per-file Batch job (passed as
    ``--request <json>``) and a pool worker (inside its queue message)."""

    source: UploadedObject
    output_prefix: str = Field(description="s3://<OutputBucket>/transcripts/<key>/ (transcript.json).")
    mode: Mode
    chunking: Chunking | None = None
    channel_mode: ChannelMode = Field(
        "auto",
        description="The upload's tag `channel-mode`, else the CHANNEL_MODE setting (docs/CHANNELS.md).",
    )
    expected_languages: ExpectedLanguages = Field(
        None,
        description="Language ID is restricted to these (ProbeResult.expected_languages; docs/LANGUAGES.md); "
        "None: any of the model's languages.",
    )
    redaction: Redaction = Field(
        "off", description="The upload's Redaction (docs/REDACTION.md, docs/SETTINGS.md)."
    )
    redact_audio: bool = Field(
        False, description="With redaction 'redact': also write redacted_audio.flac (docs/REDACTION.md)."
    )
    vocabulary: VocabularyRef | None = Field(
        None, description="The pinned custom vocabulary to boost (docs/VOCABULARY.md); None: none."
    )
    speakers: SpeakersSetting = Field(
        "auto",
        description="The upload's Speakers setting (ProbeResult.speakers, else SPEAKERS; docs/SPEAKERS.md).",
    )


class Plan(Contract):
    mode: Mode
    size_class: SizeClass
    path: TranscribePath = Field(description="pool: a warm worker; job: its own batch:submitJob.sync job.")
    request: TranscriptionRequest
    job_queue: str
    job_definition: str
    job_name: str = Field(max_length=128)
    command: list[str] = Field(description="ContainerOverrides.Command of the per-file job.")
    duration_s: NonNegativeFloat | None
    estimated_gpu_memory_gb: NonNegativeFloat
    gpu: str
    gpu_memory_gb: NonNegativeFloat
    instance_types: list[str]
    price_per_hour_usd: NonNegativeFloat
    throughput_bound: Literal["cpu", "gpu"] | None = Field(
        None,
        description="Which side limits this class's instance: the CPU stage (decode) or the GPU "
        "(pipeline.throughput, docs/CPU_STAGE.md); None for an instance type the model does not know.",
    )
    cpu_workers: int | None = Field(
        None, ge=1, description="CPU workers that keep the GPU fed on that instance (pipeline.throughput)."
    )

    @model_validator(mode="after")
    def _request_follows_plan(self) -> Plan:
        if self.request.mode != self.mode:
            raise ValueError(f"plan mode {self.mode!r} but request mode {self.request.mode!r}")
        return self


# -- Transcribe -------------------------------------------------------------------------------------
class JobResult(Contract):
    """What Transcribe keeps of the Batch job description (ResultSelector), or what a pool worker
    answers with the task token (SendTaskSuccess output). Either way ``job_id`` names the Batch job
    that did the work: a per-file job, or the pool worker that transcribed this file among others."""

    job_id: str
    status: str
    gpu_seconds: NonNegativeFloat | None = Field(
        None,
        description="Pool only: this file's share of the worker's GPU time (its batch's wall time split "
        "by audio duration among the batch's transcribed files). Index prices this instead of "
        "timings.total. None for a per-file job, whose whole job is the file's.",
    )
    batch_files: int | None = Field(
        None, ge=1, description="Pool only: files transcribed together with this one in the worker's batch."
    )


# -- Postprocess ------------------------------------------------------------------------------------
class PostprocessRequest(Contract):
    source: UploadedObject
    plan: Plan


class Outputs(Contract):
    """S3 URIs of what a transcribed upload produced."""

    transcript_json: str
    srt: str
    vtt: str
    txt: str
    segments_jsonl: str


class TranscriptSummary(Contract):
    """What Index needs from transcript.json, so the document is read once per execution."""

    language: str | None
    duration_s: Seconds
    mode: Mode
    model: ModelInfo
    hardware: Hardware
    timings: Timings
    word_count: NonNegativeInt
    channel_mode_used: Literal["mix", "split", "channel"] | None = Field(
        None, description="transcript.json's channel_mode.used (None: one-channel audio)."
    )
    speaker_count: NonNegativeInt | None = Field(
        None, description="transcript.json's speakers.count (None: speakers were not determined)."
    )
    low_confidence_share: Confidence | None = Field(
        None,
        description="Share of the words with confidence below LOW_CONFIDENCE_THRESHOLD (None: no "
        "word carries a confidence).",
    )
    warnings: list[str] = Field(default_factory=list, description="transcript.json's warnings.")
    redacted_entities: dict[str, NonNegativeInt] | None = Field(
        None, description="transcript.json's redaction.entities (None: Redaction off)."
    )


class PostprocessResult(Contract):
    outputs: Outputs
    summary: TranscriptSummary


# -- Index ------------------------------------------------------------------------------------------
class IndexRequest(Contract):
    source: UploadedObject
    plan: Plan
    job: JobResult
    postprocess: PostprocessResult
    execution_arn: str | None = Field(None, description="$$.Execution.Id (for the completion event).")


class SupersededBy(Contract):
    """The upload that replaced this one: what the key held when this execution found out."""

    etag: str | None = Field(None, description="ETag (unquoted) of the key's current object.")
    version_id: str | None = Field(None, description="Its VersionId (versioned buckets).")
    sequencer: str | None = Field(
        None, description="The newer upload's event sequencer, when its catalog row already exists."
    )
    deleted: bool = Field(False, description="True when the key holds no object any more.")


class ArchiveInfo(Contract):
    """What S3 said of a cold upload and what the workflow did about it (docs/ARCHIVES.md)."""

    storage_class: str = Field(description="GLACIER | DEEP_ARCHIVE | INTELLIGENT_TIERING.")
    archive_status: str | None = Field(
        None,
        description="Intelligent-Tiering only: ARCHIVE_ACCESS | DEEP_ARCHIVE_ACCESS (x-amz-archive-status).",
    )
    restore: Literal["none", "in_progress"] = Field(
        description="What HeadObject's Restore header said: no restore, or one in progress."
    )
    requested: RestoreArchived | None = Field(
        None, description="The resolved RestoreArchived setting (None: found cold after the probe)."
    )
    tier: Literal["Expedited", "Standard", "Bulk"] | None = Field(
        None, description="The retrieval tier restoring it; None when restore is off."
    )
    days: NonNegativeInt | None = Field(
        None,
        description="RestoreDays the restored copy is kept (None: Intelligent-Tiering, which takes none).",
    )
    requested_at: str | None = Field(None, description="When this execution asked (ISO-8601 UTC).")
    expected_by: str | None = Field(None, description="requested_at + the tier's documented upper bound.")
    deadline: str | None = Field(
        None, description="Past this, a restore that has not completed ends ARCHIVED (restore_timed_out)."
    )
    note: str | None = Field(None, description="E.g. why another tier than the one asked for was used.")


class CatalogItem(Contract):
    """One catalog row per (source_uri, etag), as the functions write it (DynamoDB numbers as floats)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    source_uri: str
    etag: str
    status: CatalogStatus
    bucket: str | None = None
    key: str | None = None
    size: NonNegativeInt | None = None
    version_id: str | None = None
    execution_arn: str | None = None
    claimed_at: str | None = None
    updated_at: str | None = None
    # TRANSCRIBED
    language: str | None = None
    duration_s: NonNegativeFloat | None = None
    mode: Mode | None = None
    size_class: SizeClass | None = None
    instance_types: list[str] | None = None
    model: ModelInfo | None = None
    hardware: Hardware | None = None
    timings: Timings | None = None
    price_per_hour_usd: NonNegativeFloat | None = None
    cost_estimate_usd: NonNegativeFloat | None = None
    outputs: Outputs | None = None
    batch_job_id: str | None = None
    gpu_seconds: NonNegativeFloat | None = Field(
        None, description="Pool files: the share of the worker's GPU time that cost_estimate_usd prices."
    )
    job_name: str | None = None
    word_count: NonNegativeInt | None = None
    low_confidence_share: Confidence | None = Field(
        None,
        description=f"Share of the words with confidence below {LOW_CONFIDENCE_THRESHOLD} "
        "(LOW_CONFIDENCE_THRESHOLD, docs/CONFIDENCE.md); absent when the words carry no confidence.",
    )
    channel_mode_used: Literal["mix", "split", "channel"] | None = Field(
        None, description="How the channels were transcribed (docs/CHANNELS.md); absent for one channel."
    )
    speaker_count: NonNegativeInt | None = Field(
        None, description="Distinct speakers (docs/SPEAKERS.md); absent when not determined."
    )
    warnings: list[str] | None = Field(
        None, description="The transcript's warnings (e.g. a mix that would cancel speech); absent if none."
    )
    redacted_entities: dict[str, NonNegativeInt] | None = Field(
        None, description="Entities the Redaction setting found, counted by type (never their text)."
    )
    # FAILED
    reason: str | None = None
    reason_class: ReasonClass | None = None
    error: str | None = None
    message: str | None = None
    cause: str | None = None
    # SUPERSEDED
    superseded_by: SupersededBy | None = None
    sequencer: str | None = None
    # ARCHIVED | RESTORING; a TRANSCRIBED (or later FAILED) row whose bytes were restored keeps it
    archive: ArchiveInfo | None = None


# -- RecordFailure ----------------------------------------------------------------------------------
class FailureRequest(Contract):
    """RecordFailure gets the whole state: a failure in Claim itself leaves no ``claim.source``,
    and the raw event (the execution input, at the state's root) still names the file."""

    state: dict[str, Any]
    execution_arn: str | None = None
    outcome: Literal["SUPERSEDED"] | None = Field(
        None,
        description="What the ASL already knows from the error's name: RecordSuperseded catches "
        "SourceSuperseded by name and says so here; RecordFailure classifies every other error.",
    )


class FailureResult(Contract):
    """``status`` SUPERSEDED: the key holds a newer upload (``superseded_by``); neither bad input nor
    internal, so ``reason_class`` is None. The state machine ends in ``Superseded`` then, else ``Failed``."""

    status: UnsuccessfulStatus = "FAILED"
    reason: str
    reason_class: ReasonClass | None
    message: str
    recorded: bool = Field(description="False when the row already said TRANSCRIBED and was left alone.")
    source_uri: str
    etag: str
    superseded_by: SupersededBy | None = None
    archive: ArchiveInfo | None = Field(None, description="ARCHIVED | RESTORING: the cold object's state.")


# -- completion events (EventBridge) ---------------------------------------------------------------
CompletionDetailType = Literal[
    "Transcript Ready",
    "Transcript Failed",
    "Transcript Superseded",
    "Transcript Archived",
    "Transcript Restoring",
]
COMPLETION_EVENT_SOURCE = "parakeet.transcription"


class CompletionEvent(Contract):
    """The ``detail`` of the event Index (``Transcript Ready``) and RecordFailure (``Transcript Failed``,
    ``Transcript Superseded``) put on the EVENT_BUS_NAME bus, source ``parakeet.transcription``, after
    the catalog write (docs/EVENTS.md). Delivery is at least once: a retried state may repeat it."""

    status: SettledStatus
    upload: UploadedObject
    execution_arn: str | None = None
    outputs: Outputs | None = None
    duration_s: NonNegativeFloat | None = None
    mode: Mode | None = None
    language: str | None = None
    word_count: NonNegativeInt | None = None
    speaker_count: NonNegativeInt | None = Field(
        None, description="Ready only: distinct speakers, when determined (docs/SPEAKERS.md)."
    )
    cost_estimate_usd: NonNegativeFloat | None = None
    warnings: list[str] | None = Field(None, description="Ready only: the transcript's warnings, if any.")
    reason: str | None = Field(None, description="Failed/Superseded: the typed reason (e.g. CorruptMedia).")
    reason_class: ReasonClass | None = Field(
        None, description="Failed only: bad_input | internal | capacity."
    )
    message: str | None = None
    superseded_by: SupersededBy | None = Field(None, description="Superseded only: the newer upload.")
    archive: ArchiveInfo | None = Field(None, description="Archived/Restoring only: the cold object's state.")


# -- the worker pool (short files) -------------------------------------------------------------------
class PoolScaleRequest(Contract):
    """ScalePool's payload. The state machine calls the scaler right before it enqueues one file
    (``incoming`` 1, not yet in the queue depth); the one-minute schedule calls it with 0."""

    incoming: NonNegativeInt = 0


class PoolScaling(Contract):
    """What the scaler saw and did. It never raises for an AWS API error (a file must not fail
    because a worker could not be started now: the schedule tries again); ``error`` says why."""

    waiting: NonNegativeInt = Field(description="Visible messages (ApproximateNumberOfMessages).")
    in_flight: NonNegativeInt = Field(
        description="Messages held by workers (ApproximateNumberOfMessagesNotVisible)."
    )
    active_workers: NonNegativeInt = Field(description="Pool jobs SUBMITTED..RUNNING on the pool job queue.")
    wanted_workers: NonNegativeInt
    started: list[str] = Field(description="Batch job ids of the workers this call submitted.")
    skipped: bool = Field(
        False,
        description=(
            "Another call held the scaler lease: this one changed nothing (the holder, or the one-minute"
            " schedule, scales for the backlog)."
        ),
    )
    error: str | None = None


class PoolTask(Contract):
    """One SQS message of the pool: the file to transcribe and the token to answer with.

    A worker answers ``SendTaskSuccess(task_token, JobResult)`` or ``SendTaskFailure(task_token,
    <typed error name>)`` and deletes the message only after answering. A token is current only while
    its execution's TranscribeInPool waits; once the execution ended (timed out, stopped, answered), a
    redelivered message is recognised by its token (SendTaskHeartbeat answers TaskTimedOut) and is
    deleted without writing anything.
    """

    task_token: str = Field(min_length=1, max_length=1024)
    request: TranscriptionRequest
    execution_arn: str = Field(description="The execution that waits for this file ($$.Execution.Id).")
    enqueued_at: str = Field(
        description="When the execution entered TranscribeInPool ($$.State.EnteredTime, the first attempt)."
    )
    attempt: NonNegativeInt = Field(
        0, description="$$.State.RetryCount (0: TranscribeInPool is not retried)."
    )


# Every model a state consumes or produces, by the state's name: docs/CONTRACTS.md is generated from
# this table (scripts/generate_contracts_doc.py) and tests/workflow checks the ASL against it.
STATE_CONTRACTS: dict[str, tuple[type[BaseModel] | None, type[BaseModel] | None]] = {
    "Claim": (ClaimRequest, ClaimResult),
    "Probe": (UploadedObject, ProbeResult),
    "Plan": (PlanRequest, Plan),
    "Transcribe": (TranscriptionRequest, JobResult),
    "ScalePool": (PoolScaleRequest, PoolScaling),
    "TranscribeInPool": (PoolTask, JobResult),
    "Postprocess": (PostprocessRequest, PostprocessResult),
    "Index": (IndexRequest, CatalogItem),
    "RecordFailure": (FailureRequest, FailureResult),
    "RecordSuperseded": (FailureRequest, FailureResult),
}
# Shapes the pipeline publishes outside the state machine (documented with the state contracts).
PUBLISHED_CONTRACTS: tuple[type[BaseModel], ...] = (CompletionEvent,)
