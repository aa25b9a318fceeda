"""Specification of the MPEG audio parsers: MP3 (Xing/Info, VBRI, none) and raw AAC (ADTS)."""

from __future__ import annotations

from pathlib import Path

import pytest
from probe_audio.parsers.mpeg import MP3_SAMPLE_WINDOW, mp3_frame_sizes, parse_aac, parse_mp3

from scripts.make_probe_fixtures import make_all
from tests.unit.probe_fixtures import RecordingFile, ffprobe

TOLERANCE = 0.001


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_all(
        tmp_path_factory.mktemp("mpeg_media"),
        10.0,
        ["mp3_cbr", "mp3_cbr_no_xing", "mp3_vbr_xing", "mp3_vbr_vbri", "aac_adts"],
    )


def test_xing_info_frame_count_gives_ffprobes_length(media: dict[str, Path]) -> None:
    # Given a CBR MP3 with LAME's Info header / When parsed / Then its frame count times the frame length
    f = RecordingFile.of(media["mp3_cbr"])
    found = parse_mp3(f, f.size)
    assert found.duration_s == pytest.approx(ffprobe(media["mp3_cbr"]).duration_s, rel=TOLERANCE)
    assert (found.container, found.codec, found.bitrate) == ("mp3", "mp3", 128000)


def test_vbri_frame_count_gives_the_same_length_as_xing(media: dict[str, Path]) -> None:
    # Given one VBR encode with a Xing header and the same encode with a VBRI header in its place
    xing, vbri = RecordingFile.of(media["mp3_vbr_xing"]), RecordingFile.of(media["mp3_vbr_vbri"])
    # When both are parsed / Then the VBRI totals give the Xing length (not a first-frame extrapolation)
    assert parse_mp3(vbri, vbri.size).duration_s == pytest.approx(
        parse_mp3(xing, xing.size).duration_s, rel=TOLERANCE
    )


def test_cbr_without_header_is_proved_cbr_by_one_middle_window(media: dict[str, Path]) -> None:
    # Given a CBR MP3 without Info header
    path = media["mp3_cbr_no_xing"]
    f = RecordingFile.of(path)
    # When parsed
    found = parse_mp3(f, f.size)
    # Then the first frame's bitrate, confirmed in the middle, times the file: ffprobe's length
    assert found.duration_s == pytest.approx(ffprobe(path).duration_s, rel=TOLERANCE)
    assert found.bitrate == 128000
    # And besides the head only the middle window was sampled (the 1/4 and 3/4 windows were not)
    middle = (f.size // 2) - (f.size // 2) % MP3_SAMPLE_WINDOW
    sampled = {offset for offset, _ in f.reads if offset >= MP3_SAMPLE_WINDOW}
    assert sampled <= set(range(middle - MP3_SAMPLE_WINDOW, middle + MP3_SAMPLE_WINDOW))


def test_frame_sizes_need_a_run_of_consecutive_frames(media: dict[str, Path]) -> None:
    # Given a window in the middle of a CBR MP3, and a window of silence bytes
    f = RecordingFile.of(media["mp3_cbr"])
    frames = mp3_frame_sizes(f, f.size // 2)
    zeros = RecordingFile(bytes(4 * MP3_SAMPLE_WINDOW))
    # When frame sizes are sampled / Then the MP3 yields a run (>= 4) of 128 kbit/s frames, zeros none
    assert len(frames) >= 4
    assert {rate for _, rate in frames} == {128000}
    assert mp3_frame_sizes(zeros, MP3_SAMPLE_WINDOW) == []


def test_raw_aac_is_an_estimate_close_to_ffprobes(media: dict[str, Path]) -> None:
    # Given ADTS AAC, which states no length / When parsed / Then within 1% of ffprobe's own estimate
    path = media["aac_adts"]
    f = RecordingFile.of(path)
    found = parse_aac(f, f.size)
    assert found.duration_s == pytest.approx(ffprobe(path).duration_s, rel=0.01)
    assert (found.container, found.codec, found.sample_rate, found.channels) == ("aac", "aac", 44100, 2)
