"""What the stack commands do, as plain functions over a resolved `Stack` (they return data; app.py
prints it). `parakeet backfill` and `parakeet search` build on the same `Stack` and `catalog` helpers.

Retry re-runs a FAILED upload without re-uploading it: the S3 "Object Created" event the workflow got
is rebuilt from the catalog row (bucket, key, size, ETag, version, and the sequencer when the row has
one) and the state machine is started with it, named ``execution_name(source, suffix="retryN")``
(functions/pipeline/naming.py) so the console says which file and which attempt it is. Claim
lets a FAILED row be claimed again. Bad input is not retried unless asked (the same bytes fail the
same way), and a row whose object is gone or now holds another upload is skipped: the newer upload has
its own execution.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import re
import time
import urllib.parse
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pipeline.contracts import MISSING_ETAG, UploadedObject
from pipeline.cost import CostTotals, GroupBy, summarise_costs
from pipeline.exact_upload import NOT_FOUND, PRECONDITION_FAILED, error_code, pin_arguments
from pipeline.languages import EXPECTED_LANGUAGES_TAG, parse_expected_languages
from pipeline.naming import HASH_LENGTH, execution_name, execution_name_prefix
from pipeline.outcomes import STATUS_FAILED, STATUS_TRANSCRIBED, STATUSES
from pipeline.s3uri import parse_s3_uri
from pipeline.speakers import SPEAKERS_TAG, parse_speakers
from pipeline.uploads import object_created_event as upload_event

from parakeet_cli import catalog
from parakeet_cli.connect import Stack
from parakeet_cli.exits import NotFound, UsageError

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client


MAX_RETRY_ATTEMPTS = 99  # retry1 .. retry99: names already used are skipped
CHANNEL_MODES = ("mix", "split", "auto")
CHANNEL_MODE_TAG = "channel-mode"  # S3 object tag read by Probe (helper "channels")


# ---------------------------------------------------------------- upload
def upload_plan(paths: Sequence[str | Path], prefix: str = "") -> list[tuple[Path, str]]:
    """(local file, key) pairs: a file keeps its name, a directory's files their path below it."""
    prefix = prefix.lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    pairs: list[tuple[Path, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            pairs.extend((p, prefix + p.relative_to(path).as_posix()) for p in files)
        elif path.is_file():
            pairs.append((path, prefix + path.name))
        else:
            raise NotFound(f"no such file or directory: {raw}", path=str(raw))
    return pairs


def source_of(bucket: str, key: str, etag: str, version_id: str | None, size: int | None) -> UploadedObject:
    return UploadedObject(
        bucket=bucket,
        key=key,
        etag=etag or MISSING_ETAG,
        version_id=version_id or None,
        size=size,
        uri=f"s3://{bucket}/{key}",
    )


_PUT_OPERATIONS = ("PutObject", "CompleteMultipartUpload")  # the request whose id S3's event names


@contextlib.contextmanager
def _put_responses(s3: S3Client) -> Iterator[list[dict[str, Any]]]:
    """The parsed responses of the PutObject / CompleteMultipartUpload calls made on ``s3`` inside the
    block. ``upload_file`` (multipart above its threshold, in its own threads) returns nothing, yet the
    request id, ETag and version of the write are what identify *this* upload's S3 event."""
    responses: list[dict[str, Any]] = []

    def keep(parsed: dict[str, Any], **_: Any) -> None:
        responses.append(parsed)

    events = s3.meta.events
    for operation in _PUT_OPERATIONS:
        events.register(f"after-call.s3.{operation}", keep, unique_id=f"parakeet-upload-{operation}")
    try:
        yield responses
    finally:
        for operation in _PUT_OPERATIONS:
            events.unregister(f"after-call.s3.{operation}", unique_id=f"parakeet-upload-{operation}")


def upload(
    stack: Stack,
    paths: Sequence[str | Path],
    prefix: str = "",
    channel_mode: str | None = None,
    languages: str | None = None,
    speakers: str | None = None,
) -> list[dict[str, Any]]:
    """Upload each file to the input bucket; the bucket's event starts its execution (named after it).

    Each entry names its own write: the ETag, version and request id S3 answered *that* PUT with
    (not a later HEAD, which could already see someone else's overwrite). S3's Object Created event
    carries the same request id, which is how `find_executions` tells this upload's execution from an
    identical upload's. `languages` ('en de', 'any') becomes the `expected-languages` tag (codes joined
    by '+': a tag value allows no comma), checked by the Probe's own parser first; `speakers` (off, auto,
    1-4) the `speakers` tag, by the setting's own parser."""
    if channel_mode is not None and channel_mode not in CHANNEL_MODES:
        raise UsageError(f"--channel-mode must be one of {', '.join(CHANNEL_MODES)}")
    tags: dict[str, str] = {CHANNEL_MODE_TAG: channel_mode} if channel_mode else {}
    if languages is not None:
        try:
            codes = parse_expected_languages(languages)
        except ValueError as exc:
            raise UsageError(f"--languages: {exc}") from None
        tags[EXPECTED_LANGUAGES_TAG] = "+".join(codes) or "any"
    if speakers is not None:
        try:
            tags[SPEAKERS_TAG] = parse_speakers(speakers)
        except ValueError as exc:
            raise UsageError(f"--speakers: {exc}") from None
    s3 = stack.client("s3")
    bucket = stack.names.input_bucket
    extra = {"Tagging": urllib.parse.urlencode(tags)} if tags else None
    results = []
    for path, key in upload_plan(paths, prefix):
        entry: dict[str, Any] = {"path": str(path), "key": key, "uri": f"s3://{bucket}/{key}"}
        try:
            with _put_responses(s3) as responses:
                s3.upload_file(str(path), bucket, key, ExtraArgs=extra)
            size = path.stat().st_size
        except (ClientError, OSError) as exc:
            entry["error"] = {"error": type(exc).__name__, "message": str(exc)}
            results.append(entry)
            continue
        put = responses[-1]  # a multipart upload's parts are not writes; its completion is
        version = put.get("VersionId")
        source = source_of(
            bucket,
            key,
            str(put.get("ETag", "")).strip('"'),
            None if version in (None, "null") else version,
            size,
        )
        # Versioned: the exact name. Unversioned: the name also hashes the event's sequencer, which
        # PutObject does not return; `find_executions` resolves it by the request id once it started.
        name = execution_name(source) if source.version_id else None
        arn = stack.execution_arn(name) if name else None
        entry.update(
            etag=source.etag,
            version_id=source.version_id,
            size=source.size,
            request_id=put.get("ResponseMetadata", {}).get("RequestId"),
            execution_name=name,
            execution_name_prefix=execution_name_prefix(source),
            execution_arn=arn,
            console_url=stack.console_url(arn) if arn else None,
        )
        results.append(entry)
    return results


def event_request_id(execution_input: str) -> str | None:
    """The ``request-id`` of the S3 event an execution was started with (None: not an S3 event)."""
    try:
        event = json.loads(execution_input)
    except ValueError:
        return None
    detail = event.get("detail") if isinstance(event, dict) else None
    request_id = detail.get("request-id") if isinstance(detail, dict) else None
    return request_id if isinstance(request_id, str) else None


# How far before the upload an execution's start may lie and still be looked at: clocks differ. Only
# bounds the listing; which execution is the upload's is decided by the request id, never by time.
START_SKEW = datetime.timedelta(minutes=10)


UploadKey = tuple[str, str]  # (execution name prefix, the PUT's request id)


def find_executions(
    stack: Stack,
    uploads: Sequence[UploadKey],
    after: datetime.datetime,
    timeout_s: float = 120.0,
    poll_s: float = 1.0,
) -> dict[UploadKey, str | None]:
    """The execution each (name prefix, request id) upload started: among the state machine's
    executions with that name prefix (uploads' names, not retries), the one whose input is the S3 event
    of that very request. None where none appeared in time (the event is still queued, was ignored, or
    EventBridge is off on the bucket): such an upload cannot be attributed, and nothing is guessed.

    Identical bytes uploaded to one key twice give two executions with the same prefix and the same
    ETag; only the request id tells them apart, so each upload gets exactly its own."""
    sfn = stack.client("stepfunctions")
    found: dict[UploadKey, str | None] = {u: None for u in uploads}
    described: dict[str, str | None] = {}  # execution ARN -> its event's request id
    deadline = time.monotonic() + timeout_s
    while True:
        wanted = {u for u, arn in found.items() if arn is None}
        pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=stack.names.state_machine_arn)
        for page in pages:
            executions = page.get("executions", [])
            for execution in executions:
                name, arn = execution["name"], execution["executionArn"]
                matching = [
                    u for u in wanted if name.startswith(u[0]) and len(name) == len(u[0]) + HASH_LENGTH
                ]
                if not matching:
                    continue
                if arn not in described:
                    execution_input = sfn.describe_execution(executionArn=arn).get("input", "")
                    described[arn] = event_request_id(execution_input)
                for upload_key in matching:
                    if described[arn] == upload_key[1]:
                        found[upload_key] = arn
                        wanted.discard(upload_key)
            # Newest first: a page that ends before the uploads holds nothing later.
            if not wanted or (executions and executions[-1]["startDate"] < after - START_SKEW):
                break
        if all(found.values()) or time.monotonic() >= deadline:
            return found
        time.sleep(poll_s)


UNATTRIBUTED = "UNATTRIBUTED"  # an upload whose own execution was not found: no outcome is claimed for it


def wait_for_uploads(
    stack: Stack, results: list[dict[str, Any]], started_at: datetime.datetime, timeout_s: float
) -> None:
    """Follow each upload's own execution to its end, then read the row of its bytes (an identical
    re-upload's execution ends at AlreadyClaimed: the row is the one that already holds those bytes).
    Sets ``status`` on each uploaded entry (and ``execution_status``, ``row``); an upload whose execution
    cannot be found is UNATTRIBUTED with the reason, never given another upload's outcome."""
    deadline = time.monotonic() + timeout_s
    uploaded = [r for r in results if "error" not in r]
    unnamed = [r for r in uploaded if not r.get("execution_arn") and r.get("request_id")]
    found = find_executions(
        stack,
        [(r["execution_name_prefix"], r["request_id"]) for r in unnamed],
        started_at,
        timeout_s=min(timeout_s, 300.0),
    )
    for r in unnamed:
        arn = found.get((r["execution_name_prefix"], r["request_id"]))
        if arn:
            r.update(
                execution_arn=arn, execution_name=arn.rsplit(":", 1)[-1], console_url=stack.console_url(arn)
            )
    followed = [r for r in uploaded if r.get("execution_arn")]
    statuses = wait_for_executions(
        stack, [r["execution_arn"] for r in followed], timeout_s=max(0.0, deadline - time.monotonic())
    )
    started = [r for r in followed if statuses[r["execution_arn"]] != NOT_STARTED]
    rows = wait_for_rows(
        stack, [(r["uri"], r["etag"]) for r in started], timeout_s=max(5.0, deadline - time.monotonic())
    )
    for r in uploaded:
        arn = r.get("execution_arn")
        if not arn or statuses[arn] == NOT_STARTED:
            r["status"] = UNATTRIBUTED
            r["message"] = (
                f"no execution of this upload's S3 event (request id {r.get('request_id')}) "
                "started in time: is EventBridge enabled on the input bucket, or is the "
                "event still queued? `parakeet status` shows the key later"
            )
            continue
        r["execution_status"] = statuses[arn]
        row = rows.get((r["uri"], r["etag"]))
        r["status"] = (row or {}).get("status", "PENDING")
        if row is not None:
            r["row"] = row


def wait_for_rows(
    stack: Stack, targets: Sequence[tuple[str, str]], timeout_s: float = 900.0, poll_s: float = 2.0
) -> dict[tuple[str, str], dict[str, Any] | None]:
    """Poll the catalog until every (source_uri, etag) row is final (TRANSCRIBED, FAILED, SUPERSEDED) or
    the timeout passes; the rows as last seen (None: no row yet, e.g. the event is still queued)."""
    seen: dict[tuple[str, str], dict[str, Any] | None] = {t: None for t in targets}
    pending = set(targets)
    deadline = time.monotonic() + timeout_s
    while pending:
        for target in sorted(pending):
            row = catalog.get_row(stack, *target)
            seen[target] = row
            if row is not None and row.get("status") in catalog.DONE:
                pending.discard(target)
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(poll_s)
    return seen


# ---------------------------------------------------------------- status / get
def status_of_key(stack: Stack, key: str) -> dict[str, Any]:
    uri = catalog.source_uri(stack, key)
    rows = catalog.rows_for(stack, uri)
    if not rows:
        raise NotFound(
            f"no catalog row for {uri} (not uploaded, or its event not processed yet)", source_uri=uri
        )
    described = [catalog.describe(stack, rows[0])] + [catalog.describe(stack, r, False) for r in rows[1:]]
    return {"source_uri": uri, "latest": described[0], "uploads": described}


def status_list(stack: Stack, status: str, limit: int = 50, since: str | None = None) -> dict[str, Any]:
    rows = catalog.rows_by_status(stack, status, since=since, limit=limit)
    return {
        "status": status,
        "count": len(rows),
        "limit": limit,
        "rows": [catalog.describe(stack, r) for r in rows],
    }


def status_overview(stack: Stack, limit: int = 10) -> dict[str, Any]:
    counts = catalog.count_by_status(stack)
    recent: list[dict[str, Any]] = []
    for status in STATUSES:
        recent.extend(catalog.rows_by_status(stack, status, limit=limit))
    recent = catalog.newest_first(recent)[:limit]
    return {
        "stack": stack.names.as_dict(),
        "counts": counts,
        "recent": [catalog.describe(stack, r, with_execution=False) for r in recent],
    }


OUTPUT_FIELDS = {"json": "transcript_json", "srt": "srt", "vtt": "vtt", "txt": "txt"}


def transcript_file(stack: Stack, key: str, fmt: str) -> tuple[dict[str, Any], str, bytes]:
    """(row, URI, bytes) of the newest TRANSCRIBED upload of a key in one format."""
    if fmt not in OUTPUT_FIELDS:
        raise UsageError(f"--format must be one of {', '.join(OUTPUT_FIELDS)}")
    uri = catalog.source_uri(stack, key)
    rows = catalog.rows_for(stack, uri)
    if not rows:
        raise NotFound(f"no catalog row for {uri}", source_uri=uri)
    done = [r for r in rows if r.get("status") == STATUS_TRANSCRIBED]
    if not done:
        latest = rows[0]
        why = f": {latest.get('reason') or latest.get('error')}" if latest.get("status") == "FAILED" else ""
        raise NotFound(
            f"{uri} has no transcript (status {latest.get('status')}{why})",
            source_uri=uri,
            status=latest.get("status"),
        )
    row = done[0]
    output = (row.get("outputs") or {}).get(OUTPUT_FIELDS[fmt])
    if not output:
        raise NotFound(f"{uri}: the catalog row names no {fmt} output", source_uri=uri)
    location = parse_s3_uri(output)
    try:
        body = stack.client("s3").get_object(Bucket=location.bucket, Key=location.key)["Body"].read()
    except ClientError as exc:
        if error_code(exc) in NOT_FOUND:
            raise NotFound(f"{output} is gone (deleted from the output bucket?)", uri=output) from exc
        raise
    return row, output, body


# ---------------------------------------------------------------- retry
def object_created_event(stack: Stack, row: dict[str, Any]) -> dict[str, Any]:
    """The EventBridge event S3 sends for this row's upload (the state machine's input), key URL-encoded."""
    arn = stack.names.state_machine_arn.split(":")
    source = source_of(row["bucket"], row["key"], row["etag"], row.get("version_id"), row.get("size"))
    return upload_event(
        source.model_copy(update={"sequencer": row.get("sequencer") or None}),
        account=arn[4],
        region=arn[3],
        time=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        event_id=str(uuid.uuid4()),
        request_id="parakeet-cli-retry",
        reason="PutObject",
    )


def _still_there(stack: Stack, row: dict[str, Any]) -> str | None:
    """Why the row's exact upload can no longer be read (None: it can)."""
    pin = pin_arguments(row.get("version_id"), row.get("etag"))
    try:
        stack.client("s3").head_object(Bucket=row["bucket"], Key=row["key"], **pin)
    except ClientError as exc:
        code = error_code(exc)
        if code in NOT_FOUND:
            return "the object (this version) is gone"
        if code in PRECONDITION_FAILED:
            return "the key now holds another upload (it has its own execution)"
        raise
    return None


def retry_row(stack: Stack, row: dict[str, Any], include_bad_input: bool = False) -> dict[str, Any]:
    """Start one retry execution for a FAILED row; the result says what was done or why not."""
    entry: dict[str, Any] = {name: row.get(name) for name in ("source_uri", "key", "etag", "version_id")}
    entry["previous_reason"] = row.get("reason")
    if row.get("status") != STATUS_FAILED:
        return {**entry, "retried": False, "skipped": f"status is {row.get('status')}, not FAILED"}
    if row.get("reason_class") == "bad_input" and not include_bad_input:
        return {
            **entry,
            "retried": False,
            "skipped": f"bad input ({row.get('reason')}): the same bytes fail the same way; "
            "upload a fixed file, or pass --include-bad-input (e.g. after raising a limit)",
        }
    if not row.get("bucket") or not row.get("key"):
        return {**entry, "retried": False, "skipped": "the row names no bucket/key"}
    gone = _still_there(stack, row)
    if gone:
        return {**entry, "retried": False, "skipped": gone}
    source = source_of(row["bucket"], row["key"], row["etag"], row.get("version_id"), row.get("size"))
    event = json.dumps(object_created_event(stack, row))
    sfn = stack.client("stepfunctions")
    for attempt in range(1, MAX_RETRY_ATTEMPTS + 1):
        name = execution_name(source, suffix=f"retry{attempt}")
        try:
            arn = sfn.start_execution(stateMachineArn=stack.names.state_machine_arn, name=name, input=event)[
                "executionArn"
            ]
        except ClientError as exc:
            if error_code(exc) == "ExecutionAlreadyExists":
                continue
            raise
        return {
            **entry,
            "retried": True,
            "attempt": attempt,
            "execution_name": name,
            "execution_arn": arn,
            "console_url": stack.console_url(arn),
        }
    return {**entry, "retried": False, "skipped": f"{MAX_RETRY_ATTEMPTS} retries already started"}


def retry_targets(stack: Stack, key: str | None, failed: bool, limit: int) -> list[dict[str, Any]]:
    if bool(key) == failed:
        raise UsageError("say which: `retry KEY` or `retry --failed`")
    if key:
        rows = catalog.rows_for(stack, catalog.source_uri(stack, key))
        if not rows:
            raise NotFound(f"no catalog row for {catalog.source_uri(stack, key)}")
        return rows[:1]  # the newest upload of the key: an older one has been replaced
    return catalog.rows_by_status(stack, STATUS_FAILED, limit=limit)


# ---------------------------------------------------------------- cost
_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str | None, now: datetime.datetime | None = None) -> str | None:
    """``7d``, ``24h``, ``30m``, ``2w``, a date or an ISO time -> the catalog's ``updated_at`` format."""
    if not value:
        return None
    now = now or datetime.datetime.now(datetime.UTC)
    match = _RELATIVE.match(value.strip().lower())
    if match:
        moment = now - datetime.timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
    else:
        try:
            moment = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise UsageError(f"--since {value!r}: use 7d, 24h, 30m, 2w, a date or an ISO-8601 time") from exc
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _totals_dict(totals: CostTotals) -> dict[str, Any]:
    return {
        "files": totals.files,
        "audio_hours": round(totals.audio_hours, 6),
        "gpu_seconds": round(totals.gpu_seconds, 3),
        "cost_usd": round(totals.cost_usd, 6),
        "usd_per_audio_hour": (
            round(totals.usd_per_audio_hour, 6) if totals.usd_per_audio_hour is not None else None
        ),
        "unpriced_files": totals.unpriced_files,
        "restore_usd": round(totals.restore_usd, 6),
        "restored_files": totals.restored_files,
    }


def cost_report(
    stack: Stack, since: str | None = None, by: GroupBy = "prefix", prefix_depth: int = 1
) -> dict[str, Any]:
    if by not in ("prefix", "mode", "language"):
        raise UsageError("--by must be prefix, mode or language")
    since_iso = parse_since(since)
    rows = catalog.rows_by_status(stack, STATUS_TRANSCRIBED, since=since_iso)
    groups = summarise_costs(rows, by=by, prefix_depth=prefix_depth)
    total = CostTotals()
    for group in groups.values():
        total = total.merged(group)
    return {
        "since": since_iso,
        "by": by,
        "prefix_depth": prefix_depth,
        "groups": {name: _totals_dict(t) for name, t in groups.items()},
        "total": _totals_dict(total),
        "note": "TRANSCRIBED rows only; GPU dollars are each row's cost_estimate_usd (GPU time x the "
        "size class's hourly price), restore dollars the list price of the archive restores the workflow "
        "made (pipeline.restore_prices); without orchestration, storage or other requests",
    }


NOT_STARTED = "NOT_STARTED"  # an execution name that no execution has (yet)


def wait_for_executions(
    stack: Stack, arns: Sequence[str], timeout_s: float = 900.0, poll_s: float = 2.0
) -> dict[str, str]:
    """Poll until each execution has stopped (or the timeout passes); its status as last seen
    (NOT_STARTED: no execution has that name yet)."""
    sfn = stack.client("stepfunctions")
    seen = {arn: "UNKNOWN" for arn in arns}
    pending = set(arns)
    deadline = time.monotonic() + timeout_s
    while pending:
        for arn in sorted(pending):
            try:
                seen[arn] = sfn.describe_execution(executionArn=arn)["status"]
            except ClientError as exc:
                if error_code(exc) != "ExecutionDoesNotExist":
                    raise
                seen[arn] = NOT_STARTED  # a versioned upload's name, before (or without) its event
            if seen[arn] in catalog.EXECUTION_DONE:
                pending.discard(arn)
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(poll_s)
    return seen
