"""Specification: the decoders open only the object (issue 10, part 4), in Probe and in gpu_job.

Playlists, file lists, manifests, network descriptions and image patterns that point at local
files, /etc/passwd, protocol URLs and a loopback port are decoded under strace (hostile_inputs.py).
Each must end as a typed bad input with no file opened and no socket made between the sentinels,
and the loopback listener must see no connection. The same harness run on the unguarded
``av.open`` sees the open and the connection, so these specs can fail.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import av
import pytest
from pipeline import media

from tests.unit.hostile_inputs import CaseResult, loopback_listener, run_traced, write_inputs

# slow: the harness runs every reference upload under strace (make unit leaves it to make test)
pytestmark = [
    pytest.mark.skipif(shutil.which("strace") is None, reason="strace not installed"),
    pytest.mark.slow,
]

CASES = [
    "concat_local.ffconcat",
    "concat_passwd.ffconcat",
    "concat_protocols.ffconcat",
    "hls_loopback.m3u8",
    "hls_local.m3u8",
    "dash.mpd",
    "session.sdp",
    "chapters.ffmeta",
    "image2_pattern",
]
# FFmpeg recognises these and we refuse them; this PyAV build has no DASH demuxer, so nothing
# recognises an MPD at all (NotMedia).
REFUSED = {case: "UnsupportedInput" for case in CASES} | {"dash.mpd": "NotMedia"}
NEVER_ALLOWED = (
    "concat",
    "hls",
    "dash",
    "webm_dash_manifest",
    "sdp",
    "rtp",
    "rtsp",
    "image2",
    "image2pipe",
    "data",
    "lavfi",
    "ffmetadata",
    "tee",
    "subfile",
    "srt",
    "webvtt",
    "tty",
    "bin",
)


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict[str, CaseResult], int]]:
    """side -> (per-case result, connections the loopback listener accepted during that side's run)."""
    runs = {}
    for side in ("probe", "gpu_job"):
        root = tmp_path_factory.mktemp(f"hostile_{side}")
        with loopback_listener() as listener:
            results = run_traced(side, write_inputs(root, listener.port), root / "strace.log")
            runs[side] = (results, len(listener.connections))
    return runs


def test_the_allow_list_names_real_demuxers_and_no_reference_formats() -> None:
    # Given this FFmpeg's input formats / Then every allowed name is one of them (a typo would
    # silently refuse a format), and none of the formats that open other resources is allowed
    demuxers = [name for name in av.formats_available if av.ContainerFormat(name).is_input]
    inputs = {part for name in demuxers for part in name.split(",")}
    assert set(media.ALLOWED_DEMUXERS) <= inputs
    assert not set(NEVER_ALLOWED) & set(media.ALLOWED_DEMUXERS)


@pytest.mark.parametrize("side", ["probe", "gpu_job"])
@pytest.mark.parametrize("case", CASES)
def test_a_reference_upload_is_bad_input_and_opens_nothing(
    side: str, case: str, traced: dict[str, tuple[dict[str, CaseResult], int]]
) -> None:
    # Given an upload that names other files, protocols or a loopback port
    # When decoded by this side under strace
    result = traced[side][0][case]
    # Then it is the typed bad input, with no open, openat, socket, connect or bind on the way
    assert result.error == REFUSED[case]
    assert result.calls == ()


@pytest.mark.parametrize("side", ["probe", "gpu_job"])
def test_the_loopback_listener_gets_no_connection(
    side: str, traced: dict[str, tuple[dict[str, CaseResult], int]]
) -> None:
    # Given HLS, concat, DASH and SDP inputs pointing at a listening loopback port / Then no connection
    assert traced[side][1] == 0


def test_the_harness_sees_what_the_unguarded_decoder_opens(tmp_path: Path) -> None:
    # Given the decoder as it was (plain av.open over a named file object)
    with loopback_listener() as listener:
        inputs = write_inputs(tmp_path, listener.port)
        chosen = {k: inputs[k] for k in ("concat_local.ffconcat", "hls_loopback.m3u8")}
        # When the same harness runs it on a concat list and an HLS playlist
        results = run_traced("unguarded", chosen, tmp_path / "strace.log")
        connections = len(listener.connections)
    # Then it sees the concat list open its local file and the playlist connect to the listener
    assert any("tone.wav" in call for call in results["concat_local.ffconcat"].calls)
    assert any(call.startswith("connect(") for call in results["hls_loopback.m3u8"].calls)
    assert connections >= 1
