"""Where bytes come from and where documents go: local paths or S3, behind one small interface.

S3 objects are read with ranged GETs through a seekable file object, so FFmpeg can probe containers
whose index sits at the end (mp4 `moov`) without a temporary copy, and streaming mode never holds the
whole object. boto3 clients are created lazily, inside functions, so an AWS endpoint or mock
set up after import (the local emulator, tests) is honoured.

An S3 source is an `UploadedObject`: the exact upload the workflow claimed. Every request (the HEAD
and each range) is pinned to its VersionId, else If-Match on its ETag, so a job never reads another
upload's bytes: when the key was overwritten, S3 answers 412 (404 for a deleted version) and the job
fails with the typed `SourceSuperseded` (the newer upload has its own event and job). A person's
`s3://` URI is first described by a HEAD (`describe_s3_object`) and pinned to what that HEAD saw.

The job's own output (transcript.json) is written with `write_json(uri, document, owner=source)`:
a conditional PutObject made only while the input key still holds that upload
(`pipeline.exact_upload.put_owned`), so an older upload's job that finishes last cannot overwrite the
newer upload's transcript; it fails with `SourceSuperseded` instead.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from pipeline.contracts import MISSING_ETAG, UploadedObject
from pipeline.exact_upload import pin, put_owned, superseded_when_gone

READ_BLOCK_BYTES = 4 << 20


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


def split_s3(uri: str) -> tuple[str, str]:
    """`s3://bucket/key/with/slashes` -> (bucket, key)."""
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def s3_client() -> Any:
    import boto3

    return boto3.client("s3")


@dataclass
class SourceInfo:
    uri: str
    etag: str | None
    size: int | None


class _S3RangeReader(io.RawIOBase):
    """Seekable, read-only view of an S3 object; each raw read is one ranged GET.

    Wrapped in `io.BufferedReader` so FFmpeg's many small reads become a few large GETs. Time spent
    waiting on S3 is accumulated in `seconds` (the document's `timings.download`).
    """

    def __init__(self, client: Any, source: UploadedObject, size: int):
        super().__init__()
        self._client, self._source, self._size = client, source, size
        self._pin = pin(source)
        self._pos = 0
        self.seconds = 0.0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        if self._pos >= self._size:
            return 0
        end = min(self._pos + len(buffer), self._size) - 1
        started = time.perf_counter()
        with superseded_on_412(self._source):
            body = self._client.get_object(
                Bucket=self._source.bucket,
                Key=self._source.key,
                Range=f"bytes={self._pos}-{end}",
                **self._pin,
            )["Body"]
        data = body.read()
        self.seconds += time.perf_counter() - started
        n = len(data)
        buffer[:n] = data
        self._pos += n
        return n


class _TimedFile(io.RawIOBase):
    """Local file with the same `seconds` counter, so timings are reported the same way."""

    def __init__(self, path: str):
        super().__init__()
        self._f = open(path, "rb", buffering=0)  # noqa: SIM115 - closed in close()
        self.seconds = 0.0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._f.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._f.seek(offset, whence)

    def readinto(self, buffer: Any) -> int:
        started = time.perf_counter()
        n = self._f.readinto(buffer)
        self.seconds += time.perf_counter() - started
        return n or 0

    def close(self) -> None:
        self._f.close()
        super().close()


class OpenedSource:
    """A readable, seekable byte stream plus what we know about the object."""

    def __init__(self, raw: _S3RangeReader | _TimedFile, info: SourceInfo):
        self.raw = raw
        self.info = info
        self.stream: BinaryIO = io.BufferedReader(raw, buffer_size=READ_BLOCK_BYTES)

    @property
    def read_seconds(self) -> float:
        return self.raw.seconds

    def close(self) -> None:
        self.stream.close()

    def __enter__(self) -> OpenedSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def superseded_on_412(source: UploadedObject) -> contextlib.AbstractContextManager[None]:
    """A failed precondition means the key now holds another upload: a typed failure, not a crash."""
    return superseded_when_gone(source.uri, f"no longer holds the upload {pin(source)}")


def describe_s3_object(uri: str) -> UploadedObject:
    """A person's `s3://` URI as the upload it names now (HEAD), so the job pins what it reads."""
    bucket, key = split_s3(uri)
    head = s3_client().head_object(Bucket=bucket, Key=key)
    return UploadedObject(
        bucket=bucket,
        key=key,
        uri=uri,
        etag=str(head.get("ETag", "")).strip('"') or MISSING_ETAG,
        version_id=head.get("VersionId") or None,
        size=int(head["ContentLength"]),
    )


def open_source(source: UploadedObject | str) -> OpenedSource:
    """Open an upload (pinned, see the module doc) or a local path for streaming reads."""
    if isinstance(source, UploadedObject):
        client = s3_client()
        with superseded_on_412(source):
            head = client.head_object(Bucket=source.bucket, Key=source.key, **pin(source))
        size = int(head["ContentLength"])
        etag = str(head.get("ETag", "")).strip('"') or None
        raw: _S3RangeReader | _TimedFile = _S3RangeReader(client, source, size)
        return OpenedSource(raw, SourceInfo(uri=source.uri, etag=etag, size=size))
    if is_s3(source):
        return open_source(describe_s3_object(source))
    path = Path(source)
    size = path.stat().st_size
    return OpenedSource(_TimedFile(str(path)), SourceInfo(uri=str(path), etag=None, size=size))


def join_prefix(prefix: str, name: str) -> str:
    """Join an output prefix (s3 URI or local directory) and a file name."""
    if is_s3(prefix):
        return prefix.rstrip("/") + "/" + name
    return str(Path(prefix) / name)


def derived_prefix(out_root: str, source_uri: str) -> str:
    """Output prefix under `out_root` that keeps the *full* input key, so `a/x.mp3` and `b/x.mp3`
    never collide: `s3://in/a/x.mp3` -> `<out_root>/in/a/x.mp3/`,
    `/data/a/x.mp3` -> `<out_root>/data/a/x.mp3/`.
    """
    if is_s3(source_uri):
        bucket, key = split_s3(source_uri)
        relative = PurePosixPath(bucket, key)
    else:
        relative = PurePosixPath(Path(source_uri).as_posix().lstrip("/"))
    parts = [p for p in relative.parts if p not in ("", ".", "..")]
    return join_prefix(out_root, "/".join(parts)) + "/"


def write_json(uri: str, document: dict[str, Any], owner: UploadedObject | str | None = None) -> None:
    """Write atomically: one S3 PutObject (readers see all or nothing), or temp file + rename locally.

    ``owner`` (the upload the document belongs to) makes the S3 write conditional on the input key
    still holding that upload (module doc); SourceSuperseded otherwise. A local path or a plain
    string owner (a person's file) writes unconditionally.
    """
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if is_s3(uri):
        bucket, key = split_s3(uri)
        if isinstance(owner, UploadedObject):
            put_owned(s3_client(), owner, bucket, key, body, "application/json")
            return
        s3_client().put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
        return
    path = Path(uri)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(body)
    os.replace(tmp, path)
