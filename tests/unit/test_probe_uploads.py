"""Specification of the Probe step on real-world uploads (issue 10): content decides whatever the
key says; live recordings without a length header get a flagged upper bound, never a rejection;
of several audio tracks the one marked default (else the first) is described.

Files come from scripts/make_probe_fixtures.py (CONTENT_, LIVE_ and TRACK_RECIPES); each is
uploaded to moto S3 under a misleading or extension-less key and probed through the handler.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest
from pipeline.contracts import ProbeResult
from pipeline.outcomes import UnsupportedInput
from probe_audio.parsers.matroska_tail import LAST_BLOCK_MARGIN_S
from probe_audio.probe import probe
from probe_audio.s3_reader import DEFAULT_MAX_BYTES, S3RangeReader

from scripts.make_probe_fixtures import CONTENT_RECIPES, LIVE_RECIPES, TRACK_RECIPES, make_all
from tests.unit.probe_fixtures import CountingS3, RecordingFile, SparseFileS3, ffprobe
from tests.unit.test_probe_audio import BUCKET, TOLERANCE, run_probe, upload
from tests.unit.test_probe_audio import s3 as s3  # the moto S3 fixture, shared

SECONDS = 10.0
# Formats whose FFmpeg path reads more than a header parser (the demuxer fills its probe buffer;
# MPEG-PS reads the end for the last timestamp): still a small fraction of the read budget.
MAX_BYTES = 256 * 1024


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    names = [r.name for r in CONTENT_RECIPES + LIVE_RECIPES + TRACK_RECIPES]
    return make_all(tmp_path_factory.mktemp("upload_media"), SECONDS, names)


def probe_upload(s3: CountingS3, key: str, body: bytes) -> dict[str, Any]:
    result = run_probe(upload(s3, key, body))
    ProbeResult.model_validate(result)  # what the handler returns is the contract's shape
    return result


@pytest.mark.parametrize("recipe", CONTENT_RECIPES, ids=[r.name for r in CONTENT_RECIPES])
def test_content_decides_whatever_the_key_says(recipe: Any, media: dict[str, Path], s3: CountingS3) -> None:
    # Given a WMA named .mp3, an AC-3 named .dat, G.711/GSM/ADPCM phone exports without extension...
    path = media[recipe.name]
    reference = ffprobe(path)
    # When probed under the key it really arrived under
    result = probe_upload(s3, f"inbox/{recipe.upload_as}", path.read_bytes())
    # Then it is timed and described as ffprobe describes the bytes (AMR: ffprobe 5.1 guesses from
    # the bitrate, 10.32 s; the file is 500 frames of 20 ms, and that is what FFmpeg 8 reports)
    truth = SECONDS if recipe.name == "amr_nb" else reference.duration_s
    assert result["duration_s"] == pytest.approx(truth, rel=TOLERANCE)
    assert result["duration_is_estimate"] is False
    assert (result["codec"], result["sample_rate"], result["channels"]) == (
        reference.codec,
        reference.sample_rate,
        reference.channels,
    )
    assert s3.bytes_served <= MAX_BYTES, s3.ranges


@pytest.mark.parametrize("name", ["wav_streamed", "wav_streamed_zero"])
def test_streamed_wav_is_bounded_by_its_size_not_its_header(
    name: str, media: dict[str, Path], s3: CountingS3
) -> None:
    # Given a 10 s WAV written to a pipe: data size 0xFFFFFFFF (ffmpeg -f wav -) or 0
    path = media[name]
    # When probed
    result = probe_upload(s3, "capture/stream.wav", path.read_bytes())
    # Then the length is what the object holds (not 24347.9 s from 0xFFFFFFFF), flagged an estimate,
    # from the head block alone
    assert result["duration_s"] == pytest.approx(SECONDS, abs=0.001)
    assert result["duration_is_estimate"] is True
    assert (result["container"], result["codec"]) == ("wav", "pcm_s16le")
    assert s3.requests == 1


def test_browser_recording_without_duration_gets_an_upper_bound_from_its_tail(
    media: dict[str, Path], s3: CountingS3
) -> None:
    # Given an Opus WebM as MediaRecorder writes it: no Duration element, so FFmpeg states no length
    path = media["webm_live"]
    # When probed
    result = probe_upload(s3, "recordings/blob", path.read_bytes())
    # Then it is planned, not rejected: an upper bound from the last cluster (within the last
    # block's margin of the real 10 s), flagged, within the usual few GETs
    assert SECONDS <= result["duration_s"] <= SECONDS + LAST_BLOCK_MARGIN_S + 0.05
    assert result["duration_is_estimate"] is True
    assert (result["container"], result["codec"]) == ("webm", "opus")
    assert s3.bytes_served <= 64 * 1024 and s3.requests <= 4, s3.ranges


def test_long_live_recording_over_the_read_budget_is_bounded_within_budget(tmp_path: Path) -> None:
    # Given a 200 s live-muxed Matroska (no Duration) larger than the probe's 32 MiB read budget
    path = make_all(tmp_path, 200.0, ["mkv_live_pcm"])["mkv_live_pcm"]
    assert path.stat().st_size > DEFAULT_MAX_BYTES
    client = SparseFileS3(path)
    # When probed through the same reader and probe code
    result = probe(S3RangeReader(client, BUCKET, "live.mkv", etag=client.etag), 86400)
    # Then its length is bounded by its size at the PCM byte rate (an upper bound, flagged), and
    # the probe read a small part of the object, nowhere near the budget
    assert 200.0 <= result.duration_s <= 200.0 * 1.01
    assert result.duration_is_estimate is True
    assert client.bytes_served <= 1024 * 1024


def test_an_estimate_over_the_limit_is_capped_not_rejected(
    media: dict[str, Path], s3: CountingS3, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a limit of 5 s and a live WebM whose upper bound is over it
    monkeypatch.setenv("MAX_DURATION_S", "5")
    # When probed / Then it is planned at the limit (the job measures, and enforces, the real length)
    result = probe_upload(s3, "recordings/long", media["webm_live"].read_bytes())
    assert (result["duration_s"], result["duration_is_estimate"]) == (5.0, True)


@pytest.mark.parametrize(
    ("name", "track", "rate", "channels"),
    [
        ("mkv_default_second", 1, 22050, 2),
        ("mp4_default_second", 1, 22050, 2),
        ("mkv_no_default", 0, 16000, 1),
    ],
)
def test_the_default_audio_track_is_described_else_the_first(
    name: str, track: int, rate: int, channels: int, media: dict[str, Path]
) -> None:
    # Given two audio tracks (track 0 mono 16 kHz, track 1 stereo 22.05 kHz), the second marked
    # default, or neither
    path = media[name]
    with path.open("rb") as f:
        # When probed
        found = probe(f, 86400)
    # Then the described track is the default one, else the first: its own format, and its index
    assert (found.track_index, found.sample_rate, found.channels) == (track, rate, channels)


def test_a_duration_the_object_cannot_hold_is_replaced_by_the_tail_bound(tmp_path: Path) -> None:
    # Given a 10 s Opus WebM whose Duration element claims an hour (more than its size holds at
    # any speech bitrate)
    data = bytearray(make_all(tmp_path, SECONDS, ["webm_opus"])["webm_opus"].read_bytes())
    struct.pack_into(">d", data, data.index(b"\x44\x89\x88") + 3, 3600 * 1000.0)
    # When probed / Then the claim is not believed: the last cluster bounds it, flagged
    found = probe(RecordingFile(bytes(data)), 86400)
    assert SECONDS <= found.duration_s <= SECONDS + LAST_BLOCK_MARGIN_S + 0.05
    assert found.duration_is_estimate is True


def test_a_file_list_uploaded_to_s3_is_unsupported_input(s3: CountingS3) -> None:
    # Given an ffconcat list (recognised by FFmpeg from its content alone) naming /etc/passwd
    body = b"ffconcat version 1.0\nfile '/etc/passwd'\n"
    # When probed through the handler / Then a typed bad input: the demuxer is not allowed
    with pytest.raises(UnsupportedInput, match="outside the allowed media containers"):
        run_probe(upload(s3, "uploads/list.txt", body))
