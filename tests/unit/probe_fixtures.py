"""Test support for the probe: ffprobe as the reference, S3 clients that count what they serve.

The counting wrapper sits between the reader and moto, so the tests check the reader's own
bytes/requests accounting against an independent count instead of trusting it.
"""

from __future__ import annotations

import io
import json
import re
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError


@dataclass(frozen=True)
class Reference:
    """What ffprobe says about a file: the numbers our probe must agree with."""

    duration_s: float
    format_name: str
    codec: str | None
    sample_rate: int | None
    channels: int | None


def ffprobe(path: Path) -> Reference:
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "format=duration,format_name:stream=codec_type,codec_name,sample_rate,channels",
            "-of",
            "json",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    data = json.loads(out)
    audio = [s for s in data.get("streams", []) if s.get("codec_type") == "audio"]
    first = audio[0] if audio else {}
    return Reference(
        duration_s=float(data["format"]["duration"]),
        format_name=data["format"]["format_name"],
        codec=first.get("codec_name"),
        sample_rate=int(first["sample_rate"]) if "sample_rate" in first else None,
        channels=int(first["channels"]) if "channels" in first else None,
    )


@dataclass
class CountingS3:
    """Delegates to a real (moto) client and records every GET it forwards."""

    client: Any
    ranges: list[str] = field(default_factory=list)
    bytes_served: int = 0

    def get_object(self, **params: Any) -> dict[str, Any]:
        self.ranges.append(params.get("Range", ""))  # counted even when S3 answers with an error
        response = self.client.get_object(**params)
        body = response["Body"].read()
        self.bytes_served += len(body)
        response["Body"] = io.BytesIO(body)
        return response

    def get_object_tagging(self, **params: Any) -> dict[str, Any]:
        """Not a GET of the object's bytes: forwarded, not counted (the Probe reads the tags once)."""
        return self.client.get_object_tagging(**params)

    @property
    def requests(self) -> int:
        return len(self.ranges)


@dataclass
class SparseFileS3:
    """The GetObject subset the reader uses, over one local (sparse) file.

    moto keeps objects in memory and copies the whole value for every ranged GET, so a >4 GiB
    object cannot be served by it on a test machine. A sparse file costs no disk and lets the
    RF64 test use a genuinely >4 GiB object; ranges, Content-Range and If-Match behave like S3.
    """

    path: Path
    etag: str = "0123456789abcdef0123456789abcdef"
    ranges: list[str] = field(default_factory=list)
    bytes_served: int = 0

    def get_object(
        self, Bucket: str, Key: str, Range: str, IfMatch: str | None = None, VersionId: str | None = None
    ) -> dict[str, Any]:
        if IfMatch is not None and IfMatch.strip('"') != self.etag:
            raise ClientError({"Error": {"Code": "PreconditionFailed", "Message": "If-Match"}}, "GetObject")
        size = self.path.stat().st_size
        match = re.fullmatch(r"bytes=(\d+)-(\d+)", Range)
        assert match, Range
        start, end = int(match.group(1)), min(int(match.group(2)), size - 1)
        with self.path.open("rb") as f:
            f.seek(start)
            body = f.read(end - start + 1)
        self.ranges.append(Range)
        self.bytes_served += len(body)
        return {
            "Body": io.BytesIO(body),
            "ContentRange": f"bytes {start}-{end}/{size}",
            "ContentLength": len(body),
            "ETag": f'"{self.etag}"',
        }


def make_sparse_rf64(template: Path, out: Path, data_bytes: int) -> None:
    """Grow an RF64 file written by ffmpeg to ``data_bytes`` of audio without writing the audio.

    The header (ds64 sizes, data chunk marked 0xFFFFFFFF) is rewritten for the new length and the
    file is extended with ``truncate``, so the samples are a hole on disk: ffprobe and our probe
    both read only the header, which is what makes the comparison meaningful.
    """
    raw = template.read_bytes()
    assert raw[:4] == b"RF64", "template must be RF64 (ffmpeg -rf64 always)"
    ds64 = raw.index(b"ds64")
    data = raw.index(b"data", ds64)
    header = bytearray(raw[: data + 8])
    total = len(header) + data_bytes
    struct.pack_into("<QQ", header, ds64 + 8, total - 8, data_bytes)
    channels, _rate, _byte_rate, block_align = struct.unpack_from("<HIIH", raw, raw.index(b"fmt ") + 10)
    struct.pack_into("<Q", header, ds64 + 24, data_bytes // block_align)
    struct.pack_into("<I", header, data + 4, 0xFFFFFFFF)
    assert channels > 0
    with out.open("wb") as f:
        f.write(header)
        f.truncate(total)


class RecordingFile(io.BytesIO):
    """A file in memory that records every read as (offset, bytes returned).

    Lets a parser spec say which parts of a file the parser touched, without S3 in between.
    """

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.size = len(data)
        self.reads: list[tuple[int, int]] = []

    @classmethod
    def of(cls, path: Path) -> RecordingFile:
        return cls(path.read_bytes())

    def read(self, size: int | None = -1, /) -> bytes:
        offset = self.tell()
        data = super().read(size)
        self.reads.append((offset, len(data)))
        return data
