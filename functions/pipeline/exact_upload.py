"""Which upload owns a key's outputs, and the only way an execution may write them.

The newest upload of a key owns the key's outputs, whichever job finishes first. "Newest" is what
S3 itself says: the object the input key holds *now* (one unpinned HeadObject). An execution whose
upload is no longer that object is superseded (``pipeline.outcomes.SourceSuperseded``); the newer
upload has its own event and execution. Two uploads with the same ETag are the same bytes, so an
identical re-upload does not supersede the execution already transcribing them.

Every write of an output goes through :func:`put_owned`, which closes the race between "check"
and "write" with an S3 conditional write:

1. HEAD the output object: its ETag ``E`` (or: absent);
2. HEAD the input key: still this upload? else SourceSuperseded;
3. PutObject with ``If-Match: E`` (or ``If-None-Match: *`` when absent); on 412/409 start again.

A newer upload's execution writes an output only after that upload exists, so a write of it
either happened before step 1 (then the newer upload existed before step 2, which catches it) or
after step 1 (then the output's ETag changed and step 3 answers 412). An older upload can
therefore never overwrite a newer one's output, with no lock and no extra table. Outputs carry
their owner in user metadata (``source-etag``, ``source-version-id``, ``source-sequencer``), so
a reader (Postprocess reading transcript.json) can check whose words it holds.

Shared by the Lambdas and gpu_job: no import beyond contracts (the client is any boto3 S3 client;
its errors are recognised by their ``response`` like botocore's ``ClientError``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pipeline.contracts import MISSING_ETAG, UploadedObject
from pipeline.outcomes import SourceSuperseded, TransientError, UnsupportedInput
from pipeline.s3uri import format_s3_uri, join_s3_uri

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client


META_ETAG = "source-etag"
META_VERSION = "source-version-id"
META_SEQUENCER = "source-sequencer"

PRECONDITION_FAILED = frozenset({"PreconditionFailed", "412"})
# S3 answers 409 ConditionalRequestConflict when two conditional writes of one key race; a key
# deleted between the HEAD and the write answers 404 to If-Match. Both: look again.
WRITE_RACES = PRECONDITION_FAILED | {"ConditionalRequestConflict", "409", "NoSuchKey", "404"}
NOT_FOUND = frozenset({"NoSuchKey", "NoSuchVersion", "404", "NotFound"})
# A pinned read of the *input* that answers these: the key no longer holds the upload (overwritten:
# 412; deleted: 404). A deleted key answers 404 only to a role with s3:ListBucket on the input bucket,
# which every input reader has (template.yaml); without it S3 answers 403, which stays an error.
INPUT_GONE = PRECONDITION_FAILED | NOT_FOUND
# HEAD of a missing key without s3:ListBucket answers 403: for an *output* that means "absent"
# (a wrong guess costs one 412 and a retry), never for the input.
OUTPUT_ABSENT = NOT_FOUND | {"403", "AccessDenied", "Forbidden"}
# A GET of a cold object (Glacier, Deep Archive, an Intelligent-Tiering archive tier) not restored,
# or still restoring: 403 InvalidObjectState. Never bad input, never internal (pipeline.archive).
OBJECT_ARCHIVED = frozenset({"InvalidObjectState"})
# RestoreObject while a restore of the object is already running (409): the restore we want exists.
RESTORE_IN_PROGRESS = frozenset({"RestoreAlreadyInProgress"})
# A GET without the customer key of an SSE-C object: 400 InvalidRequest ("The object was stored using a
# form of Server Side Encryption..."); a HEAD: a bare 400. We can never know the key: typed bad input.
SSE_C_REQUIRED = frozenset({"InvalidRequest"})
MAX_WRITE_ATTEMPTS = 6


def error_code(exc: BaseException) -> str:
    """The S3 error code of a botocore ClientError (HEAD errors carry only the HTTP status)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    return str(response.get("Error", {}).get("Code", ""))


def error_message(exc: BaseException) -> str:
    """The message of a botocore ClientError ("" when it carries none)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    return str(response.get("Error", {}).get("Message", ""))


def pin_arguments(version_id: str | None, etag: str | None) -> dict[str, str]:
    """S3 request arguments that select exactly one upload: its version when the bucket is versioned,
    else ``If-Match`` its ETag; none when the event named neither (nothing tells uploads apart then)."""
    if version_id:
        return {"VersionId": version_id}
    return {"IfMatch": f'"{etag}"'} if etag and etag != MISSING_ETAG else {}


def pin(source: UploadedObject) -> dict[str, str]:
    """The pinning arguments of ``source`` (every read of an upload's bytes passes them)."""
    return pin_arguments(source.version_id, source.if_match_etag)


@contextlib.contextmanager
def superseded_when_gone(uri: str, what: str) -> Iterator[None]:
    """A pinned read that answers INPUT_GONE means the key no longer holds the upload: SourceSuperseded
    (a typed outcome, never a crash or a retry); every other error passes through."""
    try:
        yield
    except Exception as exc:
        code = error_code(exc)
        if code in INPUT_GONE:
            raise SourceSuperseded(f"{uri} {what} ({code})") from exc
        raise


def sse_c_refused(exc: BaseException) -> bool:
    """A read of the input refused because it is encrypted with a customer-provided key (SSE-C)."""
    code = error_code(exc)
    return code == "400" or (code in SSE_C_REQUIRED and "Server Side Encryption" in str(exc))


def sse_c_message(uri: str) -> str:
    """Why an SSE-C upload cannot be read: S3 needs the uploader's key on every read, never ours."""
    return (
        f"{uri} is encrypted with a customer-provided key (SSE-C), which this pipeline cannot know: "
        "re-upload it with SSE-S3 or SSE-KMS (InputKmsKeyArns) encryption"
    )


def _unquote(etag: Any) -> str | None:
    return str(etag).strip('"') or None if etag else None


def current_object(s3: S3Client, bucket: str, key: str) -> dict[str, Any]:
    """What the key holds now: ``{etag, version_id, deleted}`` (one unpinned HeadObject)."""
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except Exception as exc:
        if error_code(exc) in NOT_FOUND:
            return {"etag": None, "version_id": None, "deleted": True}
        if sse_c_refused(exc):
            raise UnsupportedInput(sse_c_message(format_s3_uri(bucket, key))) from exc
        raise
    version = head.get("VersionId")
    return {
        "etag": _unquote(head.get("ETag")),
        "version_id": None if version in (None, "null") else version,
        "deleted": False,
    }


def holds(source: UploadedObject, current: dict[str, Any]) -> bool:
    """Whether the key's current object is ``source``'s bytes (same VersionId, or same ETag)."""
    if current.get("deleted"):
        return False
    if source.version_id and current.get("version_id") == source.version_id:
        return True
    etag = source.if_match_etag
    if etag is None:
        # An event without ETag can only be pinned by version; without either, nothing tells
        # uploads apart and the execution keeps the key.
        return not source.version_id
    return current.get("etag") == etag


def describe(current: dict[str, Any]) -> str:
    if current.get("deleted"):
        return "no object (deleted)"
    version = f", version {current['version_id']}" if current.get("version_id") else ""
    return f"ETag {current.get('etag')}{version}"


def ensure_current(s3: S3Client, source: UploadedObject) -> None:
    """Raise SourceSuperseded (naming what the key holds now) unless the key still holds ``source``."""
    current = current_object(s3, source.bucket, source.key)
    if not holds(source, current):
        raise SourceSuperseded(
            f"{source.uri} now holds {describe(current)}, not this upload (ETag {source.etag})",
            superseded_by=current,
        )


def owner_metadata(source: UploadedObject) -> dict[str, str]:
    """User metadata naming the upload an output belongs to (S3 metadata values are ASCII)."""
    metadata = {META_ETAG: source.etag}
    if source.version_id:
        metadata[META_VERSION] = source.version_id
    if source.sequencer:
        metadata[META_SEQUENCER] = source.sequencer
    return metadata


def owned_by(metadata: dict[str, str] | None, source: UploadedObject) -> bool | None:
    """Whether an output's metadata names ``source`` (None: the output names no owner)."""
    metadata = {k.lower(): v for k, v in (metadata or {}).items()}
    if META_ETAG not in metadata:
        return None
    if source.version_id and metadata.get(META_VERSION):
        return metadata[META_VERSION] == source.version_id
    return metadata[META_ETAG] == source.etag and source.etag != MISSING_ETAG


def _output_etag(s3: S3Client, bucket: str, key: str) -> str | None:
    try:
        return str(s3.head_object(Bucket=bucket, Key=key)["ETag"])
    except Exception as exc:
        if error_code(exc) in OUTPUT_ABSENT:
            return None
        raise


def put_owned(
    s3: S3Client,
    source: UploadedObject,
    bucket: str,
    key: str,
    body: bytes,
    content_type: str,
    attempts: int = MAX_WRITE_ATTEMPTS,
    encryption: dict[str, str] | None = None,
) -> None:
    """Write ``s3://bucket/key`` only while the input key still holds ``source`` (module doc).
    ``encryption``: extra PutObject arguments (SSE-KMS with its own key for the unredacted copy).

    Raises SourceSuperseded when it does not, TransientError when the output kept changing under
    us for ``attempts`` rounds (the state's Retry repeats it).
    """
    for _ in range(attempts):
        existing = _output_etag(s3, bucket, key)
        ensure_current(s3, source)
        # One request whatever the condition (dict[str, Any]: boto3-stubs types each condition apart).
        request: dict[str, Any] = {
            "Bucket": bucket,
            "Key": key,
            "Body": body,
            "ContentType": content_type,
            "Metadata": owner_metadata(source),
        }
        request.update({"IfMatch": existing} if existing else {"IfNoneMatch": "*"})
        request.update(encryption or {})
        try:
            s3.put_object(**request)
            return
        except Exception as exc:
            if error_code(exc) not in WRITE_RACES:
                raise
    raise TransientError(f"s3://{bucket}/{key} kept changing during {attempts} conditional writes")


# -- Where outputs live in the output bucket (docs/CONTRACTS.md) -----------------------------------
TRANSCRIPT_JSON = "transcript.json"
TRANSCRIPT_SRT = "transcript.srt"
TRANSCRIPT_VTT = "transcript.vtt"
TRANSCRIPT_TXT = "transcript.txt"
ERROR_JSON = "error.json"


def output_prefix(output_bucket: str, key: str) -> str:
    """``s3://<bucket>/transcripts/<source key>/``: the key keeps its folders, so outputs mirror inputs."""
    return format_s3_uri(output_bucket, f"transcripts/{key}/")


SEGMENTS_PREFIX = "segments/"
PARTITION_COLUMN = "dt"  # the segments table's partition (template.yaml SegmentsTable projection)


def segments_uri(output_bucket: str, key: str, transcribed_at: str) -> str:
    """Rows of the Athena/Glue segments table for one source file:
    ``segments/dt=<UTC date of transcribed_at>/<source key>.jsonl``.

    The date folder is the table's partition (Athena partition projection), so a search ``--since`` a
    date reads only the files of the days after it (docs/SEARCH.md)."""
    partition = f"{PARTITION_COLUMN}={transcribed_at[:10]}"
    return format_s3_uri(output_bucket, f"{SEGMENTS_PREFIX}{partition}/{key}.jsonl")


def output_file(prefix: str, name: str) -> str:
    return join_s3_uri(prefix, name)
