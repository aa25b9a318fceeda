"""Bytes and requests our probe needs per 1-hour file, next to ffprobe reading the same file over HTTP.

Both read from one local range-serving HTTP server, which counts what it sends per request:
our probe through boto3 (the server answers S3 GetObject with path-style addressing), ffprobe
through FFmpeg's http protocol. ffprobe asks for open-ended ranges (``bytes=N-``) and closes the
connection when it has enough, so the server also counts what ffprobe actually consumed: FFmpeg's
own I/O statistics ("Statistics: N bytes read"), which do not include what sat in socket buffers.

    .venv/bin/python benchmarks/probe_bytes.py [--dir /tmp/probe_bench_1h] [--duration 3600]

Files missing from --dir are generated with scripts/make_probe_fixtures.py (minutes of CPU).
Prints a table and writes benchmarks/results/probe_bytes.json.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from probe_audio.probe import probe  # noqa: E402
from probe_audio.s3_reader import S3RangeReader  # noqa: E402

from scripts.make_probe_fixtures import ESTIMATE_RECIPES, ODD_RECIPES, RECIPES, TRUTH, make  # noqa: E402

BUCKET = "bench"
CHUNK = 16 * 1024
SEND_BUFFER = 64 * 1024  # keep the kernel from racing far ahead of a client that will hang up


class RangeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path) -> None:
        super().__init__(("127.0.0.1", 0), RangeHandler)
        self.root = root
        self.lock = threading.Lock()
        self.requests = 0
        self.bytes_sent = 0
        self.ranges: list[str] = []
        self.in_flight = 0

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until every response is finished, so the counts are final."""
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.01)

    def reset(self) -> None:
        with self.lock:
            self.requests, self.bytes_sent, self.ranges = 0, 0, []

    def url(self, name: str) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/{BUCKET}/{name}"


class RangeHandler(BaseHTTPRequestHandler):
    """GET/HEAD with one byte range, S3-style headers (ETag, Content-Range), If-Match honoured."""

    protocol_version = "HTTP/1.1"
    server: RangeServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)

    def _path(self) -> Path | None:
        parts = unquote(self.path.split("?", 1)[0]).lstrip("/").split("/", 1)
        if len(parts) != 2 or parts[0] != BUCKET:
            return None
        path = self.server.root / parts[1]
        return path if path.is_file() else None

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.in_flight += 1
        try:
            self._serve(send_body=True)
        finally:
            with self.server.lock:
                self.server.in_flight -= 1

    def _serve(self, send_body: bool) -> None:
        path = self._path()
        if path is None:
            self.send_error(404)
            return
        size = path.stat().st_size
        etag = f'"{size:x}-{int(path.stat().st_mtime)}"'
        if_match = self.headers.get("If-Match")
        if if_match and if_match.strip('"') != etag.strip('"'):
            self.send_error(412)
            return
        start, end, status = 0, size - 1, 200
        header = self.headers.get("Range")
        if header:
            match = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
            if not match or size == 0 or (match.group(1) and int(match.group(1)) >= size):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if match.group(1):
                start = int(match.group(1))
                end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
            else:
                start = max(0, size - int(match.group(2)))
            status = 206
        with self.server.lock:
            self.server.requests += 1
            self.server.ranges.append(header or "")
        self.send_response(status)
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", etag)
        self.send_header("Content-Type", "application/octet-stream")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if not send_body:
            return
        with path.open("rb") as f:
            f.seek(start)
            remaining = end - start + 1
            while remaining > 0:
                data = f.read(min(CHUNK, remaining))
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True
                    return
                with self.server.lock:
                    self.server.bytes_sent += len(data)
                remaining -= len(data)


@dataclass
class Row:
    name: str
    size: int
    ours_bytes: int
    ours_requests: int
    ours_duration_s: float
    parser: str
    ffprobe_bytes_sent: int
    ffprobe_bytes_consumed: int | None
    ffprobe_requests: int
    ffprobe_duration_s: float
    rel_error: float
    truth_duration_s: float | None = None  # for files without a length header (see TRUTH)
    estimated: bool = False  # no length header: ffprobe and we both estimate


def run_ffprobe(url: str) -> tuple[float, int | None]:
    out = subprocess.run(
        ["ffprobe", "-v", "debug", "-show_entries", "format=duration", "-of", "json", url],
        capture_output=True,
        text=True,
        check=True,
    )
    duration = float(json.loads(out.stdout)["format"]["duration"])
    consumed = [int(m) for m in re.findall(r"Statistics: (\d+) bytes read", out.stderr)]
    return duration, (sum(consumed) if consumed else None)


def measure(server: RangeServer, client: Any, name: str, size: int) -> Row:
    server.reset()
    reader = S3RangeReader(client, BUCKET, name)
    result = probe(reader, 86400 * 2)
    server.settle()
    ours_bytes, ours_requests = server.bytes_sent, server.requests
    assert (ours_bytes, ours_requests) == (reader.bytes_read, reader.requests), (server.ranges, reader.ranges)

    server.reset()
    ff_duration, consumed = run_ffprobe(server.url(name))
    server.settle()
    return Row(
        name=name,
        size=size,
        ours_bytes=ours_bytes,
        ours_requests=ours_requests,
        ours_duration_s=result.duration_s,
        parser=result.parser,
        ffprobe_bytes_sent=server.bytes_sent,
        ffprobe_bytes_consumed=consumed,
        ffprobe_requests=server.requests,
        ffprobe_duration_s=ff_duration,
        rel_error=abs(result.duration_s - ff_duration) / ff_duration,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dir", type=Path, default=Path("/tmp/probe_bench_1h"))
    parser.add_argument("--duration", type=float, default=3600.0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "probe_bytes.json")
    args = parser.parse_args()

    files: dict[str, Path] = {}
    estimated = {r.name for r in RECIPES + ESTIMATE_RECIPES + ODD_RECIPES if r.estimated}
    for recipe in RECIPES + ESTIMATE_RECIPES + ODD_RECIPES:
        path = args.dir / recipe.filename
        if not path.exists():
            print(f"generating {path} ({args.duration:g} s)", file=sys.stderr)
            make(recipe, args.dir, args.duration)
        files[recipe.name] = path

    server = RangeServer(args.dir)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    client = boto3.client(
        "s3",
        endpoint_url=f"http://{host!s}:{port}",
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    rows = [measure(server, client, path.name, path.stat().st_size) for path in files.values()]
    by_name = {}
    for recipe, row in zip(files, rows, strict=True):
        row.name = recipe
        by_name[recipe] = row
    for name, reference in TRUTH.items():
        by_name[name].truth_duration_s = by_name[reference].ffprobe_duration_s
    for name in estimated:
        by_name[name].estimated = True
    server.shutdown()

    header = (
        f"{'format':<18} {'size MB':>8} {'ours KiB':>9} {'reqs':>4} {'ffprobe KiB':>12} "
        f"{'(consumed)':>11} {'reqs':>4} {'ours s':>10} {'ffprobe s':>10} {'rel err':>8}  parser"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        consumed = f"{r.ffprobe_bytes_consumed / 1024:.0f}" if r.ffprobe_bytes_consumed is not None else "?"
        print(
            f"{r.name:<18} {r.size / 1e6:>8.1f} {r.ours_bytes / 1024:>9.1f} {r.ours_requests:>4} "
            f"{r.ffprobe_bytes_sent / 1024:>12.0f} {consumed:>11} {r.ffprobe_requests:>4} "
            f"{r.ours_duration_s:>10.3f} {r.ffprobe_duration_s:>10.3f} {r.rel_error * 100:>7.4f}%  "
            f"{r.parser}{' (estimate: no length header)' if r.estimated else ''}"
        )
    for r in rows:
        if r.truth_duration_s:
            error = abs(r.ours_duration_s - r.truth_duration_s) / r.truth_duration_s
            ff_error = abs(r.ffprobe_duration_s - r.truth_duration_s) / r.truth_duration_s
            print(
                f"  {r.name}: no length header; true length {r.truth_duration_s:.3f} s (same encode with "
                f"Xing): ours off by {error * 100:.2f}%, ffprobe off by {ff_error * 100:.2f}%"
            )
    exact = [r for r in rows if not r.estimated]
    worst = max(rows, key=lambda r: (r.ours_bytes, r.ours_requests))
    summary = {
        "files": len(rows),
        "median_bytes": statistics.median(r.ours_bytes for r in rows),
        "median_requests": statistics.median(r.ours_requests for r in rows),
        "max_bytes": worst.ours_bytes,
        "max_bytes_format": worst.name,
        "max_requests": max(r.ours_requests for r in rows),
        "worst_with_length_header": max(exact, key=lambda r: (r.ours_bytes, r.ours_requests)).name,
        "max_rel_error_vs_ffprobe_with_length_header": max(r.rel_error for r in exact),
        "ffprobe_median_bytes_sent": statistics.median(r.ffprobe_bytes_sent for r in rows),
        "ffprobe_median_bytes_consumed": statistics.median(r.ffprobe_bytes_consumed or 0 for r in rows),
    }
    print()
    print(
        f"ours:    median {summary['median_bytes'] / 1024:.1f} KiB, "
        f"{summary['median_requests']:g} requests; "
        f"worst {worst.ours_bytes / 1024:.1f} KiB / {worst.ours_requests} requests ({worst.name})"
    )
    print(
        f"ffprobe: median {summary['ffprobe_median_bytes_sent'] / 1024:.0f} KiB sent, "
        f"{summary['ffprobe_median_bytes_consumed'] / 1024:.0f} KiB consumed"
    )
    print(
        f"largest duration difference vs ffprobe (files with a length header): "
        f"{summary['max_rel_error_vs_ffprobe_with_length_header'] * 100:.4f}%"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "duration_s": args.duration,
                "block_size": 16384,
                "summary": summary,
                "rows": [asdict(r) for r in rows],
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
