"""A generated Distributed Map ResultWriter output of any size, served by a stand-in S3 client as a
stream (test support for tests/unit/test_backfill_summary_scale.py and benchmarks/backfill_summary.py).

The entries are the emulator's AWS-shaped ones (``local_emulator.distributed_map.result_entry``, with a
ListObjectsV2 item as Input: ~700 bytes a line), written as JSON Lines, the ASL's ``WriterConfig``. The
bodies are produced while they are read, never held whole, so what a measurement sees is what
Summarise itself holds, as with a real S3 response streamed from its socket.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

from botocore.response import StreamingBody

from local_emulator.distributed_map import result_entry

RUN = (
    "arn:aws:states:us-east-1:123456789012:mapRun:stack-backfill/BackfillPrefix:"
    "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
)
BUCKET = "stack-outputbucket"
# Outcomes in the proportions of a typical archive: mostly skipped or transcribed, a few failures.
OUTCOMES = (
    [{"outcome": "transcribed", "reason": None}] * 6
    + [{"outcome": "skipped", "reason": "transcribed"}] * 2
    + [{"outcome": "failed", "reason": None}, {"outcome": "skipped", "reason": "ignored_suffix"}]
)


_NAME, _NUMBER = 864297531, 975318642  # stand for the index in the rendered entries below


def _templates() -> list[str]:
    """One rendered entry per outcome, the index's places marked to format in (cheap to generate)."""
    item = {
        "Key": f"archive/2019/{_NAME}.wav",
        "Etag": f'"{_NAME}"',
        "Size": _NUMBER,
        "LastModified": _NUMBER,
        "StorageClass": "STANDARD",
    }
    rendered = [json.dumps(result_entry(RUN, _NAME, item, outcome)) for outcome in OUTCOMES]
    return [
        r.replace("{", "{{").replace("}", "}}").replace(str(_NAME), "{0}").replace(str(_NUMBER), "{1}")
        for r in rendered
    ]


_TEMPLATES = _templates()


def entry_line(index: int) -> bytes:
    """One SUCCEEDED entry, as AWS writes it with Transformation NONE, and its newline."""
    return (_TEMPLATES[index % len(_TEMPLATES)].format(f"{index:09d}", 1_700_000_000 + index) + "\n").encode()


class _Generated(io.RawIOBase):
    """Lines ``start..stop`` of the output, produced as they are read."""

    def __init__(self, start: int, stop: int) -> None:
        self._lines: Iterator[bytes] = (entry_line(i) for i in range(start, stop))
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        parts, size = [self._pending], len(self._pending)
        while size < len(buffer):
            line = next(self._lines, None)
            if line is None:
                break
            parts.append(line)
            size += len(line)
        data = b"".join(parts)
        count = min(len(buffer), len(data))
        buffer[:count] = data[:count]
        self._pending = data[count:]
        return count


class GeneratedResults:
    """``get_object`` of a ResultWriter run of ``items`` SUCCEEDED entries in ``files`` result files."""

    def __init__(self, items: int, files: int = 1) -> None:
        self.items, self.files = items, files
        self.reads: list[str] = []
        per_file = -(-items // files)
        self.ranges = {
            f"backfill-results/0f1e/SUCCEEDED_{n}.json": (n * per_file, min(items, (n + 1) * per_file))
            for n in range(files)
        }

    @property
    def manifest_key(self) -> str:
        return "backfill-results/0f1e/manifest.json"

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        self.reads.append(Key)
        if Key == self.manifest_key:
            manifest = {
                "DestinationBucket": BUCKET,
                "MapRunArn": RUN,
                "ResultFiles": {
                    "FAILED": [],
                    "PENDING": [],
                    "SUCCEEDED": [{"Key": k, "Size": 0} for k in self.ranges],
                },
            }
            body = json.dumps(manifest).encode()
            return {"Body": StreamingBody(io.BytesIO(body), len(body))}
        start, stop = self.ranges[Key]
        return {"Body": StreamingBody(io.BufferedReader(_Generated(start, stop)), None)}

    def expected_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for index in range(self.items):
            outcome = OUTCOMES[index % len(OUTCOMES)]
            name = outcome["outcome"] if outcome["outcome"] != "skipped" else f"skipped.{outcome['reason']}"
            counts[name] = counts.get(name, 0) + 1
        return counts
