"""A seekable, block-caching, read-only file object over one S3 object.

Parsers (mutagen, FFmpeg through PyAV) expect a local file: they read a few bytes, seek past large
chunks, and sometimes look at the end of the file. Downloading a 20 GB object to learn its duration
is not an option, so this object turns each read into ranged GETs of whole blocks and keeps the
blocks it fetched: a parser that re-reads a header, or reads it a few bytes at a time, costs nothing
extra. Contiguous missing blocks are fetched in one request, so the request count stays small.

Every GET after the first pins the object (VersionId when known, otherwise If-Match on the ETag
from the event or from the first response), so bytes from two different uploads can never be mixed:
S3 answers 412 instead (or 404 for a deleted version), which surfaces as the typed
``SourceSuperseded``: the execution ends SUPERSEDED, never as an internal failure, never retried.
"""

from __future__ import annotations

import io
import re
from typing import Any

from botocore.exceptions import ClientError
from pipeline.exact_upload import (
    OBJECT_ARCHIVED,
    error_code,
    pin_arguments,
    sse_c_message,
    sse_c_refused,
    superseded_when_gone,
)
from pipeline.outcomes import ObjectArchived, SourceSuperseded, UnsupportedInput

DEFAULT_BLOCK_SIZE = 16 * 1024
# A parser that wants more than this from one file is not probing any more (e.g. a tag with a huge
# embedded picture, or a format that needs a full scan); we stop rather than download the object.
DEFAULT_MAX_BYTES = 32 * 1024 * 1024
MAX_READAHEAD_BLOCKS = 16

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


# The object was overwritten or deleted while we were reading it: the newer upload raises its own
# event, and this run ends SUPERSEDED (the old name, kept for callers that catch it).
ObjectChanged = SourceSuperseded


class ReadBudgetExceeded(Exception):
    """The parser asked for more bytes than a probe may read (see DEFAULT_MAX_BYTES)."""


class S3RangeReader(io.RawIOBase):
    """Read-only, seekable view of ``s3://bucket/key`` fetched block by block with ranged GETs."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        key: str,
        *,
        etag: str | None = None,
        version_id: str | None = None,
        block_size: int = DEFAULT_BLOCK_SIZE,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        super().__init__()
        if block_size <= 0:
            raise ValueError("block_size must be positive")
        self._client = client
        self.bucket = bucket
        self.key = key
        self.etag = etag.strip('"') if etag else None
        self.version_id = version_id or None
        # Learned from the first response's Content-Range, not from the event: the pin guarantees
        # it describes the bytes we read.
        self._size: int | None = None
        self.block_size = block_size
        self.max_bytes = max_bytes
        self._blocks: dict[int, bytes] = {}
        self._pos = 0
        self._next_sequential = -1
        self._readahead = 1
        self.bytes_read = 0
        self.requests = 0
        self.ranges: list[tuple[int, int]] = []

    # -- io.RawIOBase -----------------------------------------------------------------------------
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self.size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            raise OSError(f"negative seek position {pos}")
        self._pos = pos
        return pos

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = max(0, self.size - self._pos)
        data = self.pread(self._pos, size)
        self._pos += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    # -- block cache ------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        """Total object size in bytes, learned from the first response."""
        if self._size is None:
            self._fetch(0, 0)
        assert self._size is not None
        return self._size

    def pread(self, offset: int, size: int) -> bytes:
        """Bytes [offset, offset+size) clipped to the object, fetching missing blocks first."""
        if size <= 0:
            return b""
        if self._size is None:
            if offset < self.block_size:
                self._fetch(0, (offset + size - 1) // self.block_size)
            else:
                self._fetch(0, 0)
        end = min(offset + size, self.size)
        if offset >= end:
            return b""
        first, last = offset // self.block_size, (end - 1) // self.block_size
        self._fetch_missing(first, last)
        data = b"".join(self._blocks[i] for i in range(first, last + 1))
        start = offset - first * self.block_size
        return data[start : start + (end - offset)]

    def prefetch(self, offset: int, size: int) -> None:
        """Warm the cache for a range a parser is known to need, in one request if possible."""
        self.pread(offset, size)

    def _fetch_missing(self, first: int, last: int) -> None:
        run_start: int | None = None
        for index in range(first, last + 2):
            missing = index <= last and index not in self._blocks
            if missing and run_start is None:
                run_start = index
            elif not missing and run_start is not None:
                self._fetch_run(run_start, index - 1)
                run_start = None

    def _fetch_run(self, first: int, last: int) -> None:
        """Fetch blocks first..last, reading ahead when the caller is streaming.

        Header parsers jump around and each jump lands in one block, so by default we fetch exactly
        what was asked. A miss right behind the previous fetch means the caller reads sequentially
        (FFmpeg demuxers filling their buffer, mutagen walking ADTS frames): then each further
        sequential fetch doubles in size, up to MAX_READAHEAD_BLOCKS, to keep the request count
        logarithmic instead of linear in the bytes read.
        """
        if first == self._next_sequential:
            self._readahead = min(self._readahead * 2, MAX_READAHEAD_BLOCKS)
            limit = min(first + self._readahead - 1, (self.size - 1) // self.block_size)
            while last < limit and (last + 1) not in self._blocks:
                last += 1
        else:
            self._readahead = 1
        self._fetch(first, last)

    def _fetch(self, first_block: int, last_block: int) -> None:
        start = first_block * self.block_size
        end = (last_block + 1) * self.block_size - 1
        if self._size is not None:
            end = min(end, self._size - 1)
        if self.bytes_read + (end - start + 1) > self.max_bytes:
            raise ReadBudgetExceeded(
                f"probe would read more than {self.max_bytes} bytes of s3://{self.bucket}/{self.key}"
            )
        body, total = self._get_range(start, end)
        self._next_sequential = last_block + 1
        if self._size is None:
            self._size = total
        for offset in range(0, len(body), self.block_size):
            self._blocks[first_block + offset // self.block_size] = body[offset : offset + self.block_size]
        # Blocks past the end of a short object are known to be empty; remember that too.
        for index in range(first_block, last_block + 1):
            self._blocks.setdefault(index, b"")

    def _get_range(self, start: int, end: int) -> tuple[bytes, int]:
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self.key,
            "Range": f"bytes={start}-{end}",
            **pin_arguments(self.version_id, self.etag),
        }
        self.requests += 1
        try:
            with superseded_when_gone(f"s3://{self.bucket}/{self.key}", "changed or vanished while probing"):
                response = self._client.get_object(**params)
        except ClientError as exc:
            if error_code(exc) == "InvalidRange" and self._size is None:
                # S3 rejects any range on a zero-byte object; that is how an empty object looks here.
                return b"", 0
            code = error_code(exc)
            if code in OBJECT_ARCHIVED:
                # Cold: the probe's handler asks HeadObject why and what to do (probe_audio.cold).
                raise ObjectArchived(f"s3://{self.bucket}/{self.key} is archived: {code}") from exc
            if sse_c_refused(exc):
                raise UnsupportedInput(sse_c_message(f"s3://{self.bucket}/{self.key}")) from exc
            raise
        body = response["Body"].read()
        self.bytes_read += len(body)
        self.ranges.append((start, start + len(body)))
        if self.etag is None and response.get("ETag"):
            self.etag = str(response["ETag"]).strip('"')
        return body, _total_size(response, start, len(body))


def _total_size(response: dict[str, Any], start: int, length: int) -> int:
    match = _CONTENT_RANGE.match(str(response.get("ContentRange") or ""))
    if match and match.group(3) != "*":
        return int(match.group(3))
    if start == 0:
        # A 200 answer (range ignored) carries the whole object.
        return int(response.get("ContentLength", length))
    raise SourceSuperseded("ranged GET answered without a usable Content-Range")
