"""Uploads that are not media but references to other resources, and a harness that sees every
file open and socket call made while one of them is decoded.

Each input names a local file next to it, ``/etc/passwd``, protocol URLs (``subfile:``, ``tee:``)
and a loopback HTTP/RTP port the test listens on. ``run_traced`` runs ``hostile_runner.py`` under
``strace -f``: the runner warms up (imports, one good decode, one bad), then brackets each case
with sentinel opens of a path that cannot exist, so every ``open``/``openat``/``socket``/
``connect``/``bind`` between the two sentinels is the decoder's own doing.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("hostile_runner.py")
SENTINEL = "/nonexistent-decode-sentinel"
TRACED = "?open,openat,?openat2,?creat,socket,connect,bind"
RUN_TIMEOUT_S = 240


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-y", "-loglevel", "error", *args], check=True)


def write_inputs(root: Path, port: int) -> dict[str, Path]:
    """The hostile inputs, each with the extension its demuxer expects, plus what they point at."""
    ffmpeg("-f", "lavfi", "-i", "sine=d=1:sample_rate=16000", str(root / "tone.wav"))
    ffmpeg("-f", "lavfi", "-i", "sine=d=1:sample_rate=16000", "-c:a", "mp2", str(root / "tone.ts"))
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=32x32:rate=1:duration=3", str(root / "frame%03d.png"))
    loop = f"http://127.0.0.1:{port}"
    texts = {
        "concat_local.ffconcat": "ffconcat version 1.0\nfile 'tone.wav'\n",
        "concat_passwd.ffconcat": "ffconcat version 1.0\nfile '/etc/passwd'\nfile 'tone.wav'\n",
        "concat_protocols.ffconcat": (
            "ffconcat version 1.0\nfile 'subfile,,start,0,end,64,,:/etc/passwd'\n"
            f"file 'tee:{root}/tee_out.wav'\nfile '{loop}/concat.wav'\n"
        ),
        "hls_loopback.m3u8": (
            f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\n{loop}/seg0.ts\n#EXT-X-ENDLIST\n"
        ),
        "hls_local.m3u8": (
            "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\ntone.ts\n"
            "#EXTINF:1.0,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"
        ),
        "dash.mpd": (
            '<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" '
            'mediaPresentationDuration="PT1S" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">'
            f'<BaseURL>{loop}/</BaseURL><Period><AdaptationSet mimeType="audio/mp4"><Representation '
            'id="a" bandwidth="64000" codecs="mp4a.40.2"><BaseURL>tone.wav</BaseURL></Representation>'
            "</AdaptationSet></Period></MPD>\n"
        ),
        "session.sdp": (
            "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=hostile\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
        ),
        "chapters.ffmeta": ";FFMETADATA1\ntitle=not audio\n",
    }
    paths = {}
    for name, text in texts.items():
        paths[name] = root / name
        paths[name].write_text(text)
    # An image2 pattern: the key itself is the pattern, next to the numbered files it would open.
    pattern = root / "img%03d.png"
    pattern.write_bytes((root / "frame001.png").read_bytes())
    for i in (1, 2, 3):
        (root / f"img{i:03d}.png").write_bytes((root / "frame001.png").read_bytes())
    paths["image2_pattern"] = pattern
    return paths


@dataclass
class Listener:
    """A loopback TCP listener that accepts (and closes) every connection, counting them."""

    sock: socket.socket
    connections: list[tuple[str, int]] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def _serve(self) -> None:
        while True:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            self.connections.append(peer)
            conn.close()


@contextmanager
def loopback_listener() -> Iterator[Listener]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    listener = Listener(sock)
    thread = threading.Thread(target=listener._serve, daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        sock.close()
        thread.join(timeout=5)


@dataclass(frozen=True)
class CaseResult:
    error: str | None  # the exception class name, None if it decoded
    calls: tuple[str, ...]  # open/socket/connect/bind calls between the sentinels


def run_traced(side: str, inputs: dict[str, Path], log: Path) -> dict[str, CaseResult]:
    """Decode every input with ``side`` ("probe", "gpu_job", or "unguarded": plain av.open) under
    strace; per case, the typed error and the calls made between its two sentinels."""
    cases = {name: str(path) for name, path in inputs.items()}
    run = subprocess.run(
        [
            "strace",
            "-f",
            "-qq",
            "-e",
            f"trace={TRACED}",
            "-o",
            str(log),
            sys.executable,
            str(RUNNER),
            side,
            json.dumps(cases),
        ],
        cwd=next(iter(inputs.values())).parent,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env={"PYTHONPATH": f"{REPO / 'functions'}:{REPO}", "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0, run.stderr[-3000:]
    errors = json.loads(run.stdout.strip().splitlines()[-1])
    calls = _calls_between_sentinels(log.read_text())
    return {name: CaseResult(errors[name], tuple(calls.get(name, ()))) for name in cases}


_PID_PREFIX = re.compile(r"^\d+\s+")
_SENTINEL_LINE = re.compile(re.escape(SENTINEL) + r"/(start|end)/([^\"]+)\"")


def _calls_between_sentinels(trace: str) -> dict[str, list[str]]:
    calls: dict[str, list[str]] = {}
    current: str | None = None
    for line in trace.splitlines():
        if "resumed>" in line:
            continue  # the second half of a call already counted when it started
        marker = _SENTINEL_LINE.search(line)
        if marker:
            current = marker.group(2) if marker.group(1) == "start" else None
            if current is not None:
                calls[current] = []
            continue
        if current is not None:
            calls[current].append(_PID_PREFIX.sub("", line))  # strace pads the pid column
    return calls
