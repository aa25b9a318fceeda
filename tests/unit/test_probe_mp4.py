"""Specification of the ISO-BMFF parser (MP4, M4A, MOV): the audio track, its edit list, its names."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipeline.outcomes import NoAudioStream
from probe_audio.parsers.common import Unrecognised
from probe_audio.parsers.mp4 import ftyp_brand, mp4_codec, parse_mp4

from scripts.make_probe_fixtures import make_all
from tests.unit.probe_fixtures import RecordingFile, ffprobe

TOLERANCE = 0.001
AAC_PRIMING_S = 1024 / 44100


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_all(
        tmp_path_factory.mktemp("mp4_media"),
        10.0,
        ["m4a_moov_end", "m4a_moov_start", "mp4_video", "mov_video", "video_only_mp4"],
    )


def test_edit_list_trims_aac_priming_as_ffmpeg_does(media: dict[str, Path]) -> None:
    # Given AAC in M4A, whose mdhd counts 1024 priming samples that the edit list skips
    import mutagen.mp4

    path = media["m4a_moov_end"]
    untrimmed = mutagen.mp4.MP4(path).info.length
    f = RecordingFile.of(path)
    # When parsed
    found = parse_mp4(f, f.size)
    # Then the length is the edit list's (ffprobe's), not mdhd's, which is one priming frame longer
    assert found.duration_s == pytest.approx(ffprobe(path).duration_s, rel=TOLERANCE)
    assert untrimmed - found.duration_s == pytest.approx(AAC_PRIMING_S, abs=0.002)


@pytest.mark.parametrize("name", ["m4a_moov_end", "m4a_moov_start"])
def test_moov_is_found_wherever_it_lies(name: str, media: dict[str, Path]) -> None:
    # Given an M4A with moov first or last / When parsed / Then the same facts, named as the contract says
    f = RecordingFile.of(media[name])
    found = parse_mp4(f, f.size)
    assert (found.container, found.codec, found.sample_rate, found.channels) == ("m4a", "aac", 44100, 2)


@pytest.mark.parametrize(
    ("name", "brand", "container"),
    [("m4a_moov_end", b"M4A ", "m4a"), ("mov_video", b"qt  ", "mov"), ("mp4_video", b"isom", "mp4")],
)
def test_container_is_named_by_the_ftyp_brand(
    name: str, brand: bytes, container: str, media: dict[str, Path]
) -> None:
    # Given files of the three flavours ffmpeg writes / When parsed / Then the brand names the container
    f = RecordingFile.of(media[name])
    assert ftyp_brand(f) == brand
    assert parse_mp4(f, f.size).container == container


def test_brand_is_empty_without_a_leading_ftyp() -> None:
    # Given a QuickTime file that starts with its moov (old files have no ftyp)
    f = RecordingFile(b"\x00\x00\x00\x10moovqt  \x00\x00\x00\x00")
    # When its brand is read / Then there is none (bytes 8-12 are not a brand without ftyp)
    assert ftyp_brand(f) == b""


def test_audio_track_behind_a_video_track_is_found(media: dict[str, Path]) -> None:
    # Given an MP4 whose video track comes first
    path = media["mp4_video"]
    f = RecordingFile.of(path)
    # When parsed / Then the audio track's codec and length are reported, not the video's
    found = parse_mp4(f, f.size)
    assert (found.codec, found.channels) == ("aac", 2)
    assert found.duration_s == pytest.approx(ffprobe(path).duration_s, rel=TOLERANCE)


def test_video_without_audio_is_no_audio_stream(media: dict[str, Path]) -> None:
    # Given an MP4 with only a video track / When parsed / Then "no audio" is the answer, not the movie length
    f = RecordingFile.of(media["video_only_mp4"])
    with pytest.raises(NoAudioStream):
        parse_mp4(f, f.size)


def test_file_cut_before_moov_is_left_to_ffmpeg(media: dict[str, Path]) -> None:
    # Given an MP4 cut before its moov (an interrupted upload) / When parsed / Then the parser declines
    data = media["m4a_moov_end"].read_bytes()
    cut = data[: data.index(b"moov") - 4]
    with pytest.raises(Unrecognised, match="no moov"):
        parse_mp4(RecordingFile(cut), len(cut))


@pytest.mark.parametrize(
    ("sample_entry", "codec"),
    [
        ("mp4a.40.2", "aac"),
        ("mp4a.40.5", "aac"),
        ("mp4a", "aac"),
        ("mp4a.6B", "mp3"),
        ("mp4a.69", "mp3"),
        ("alac", "alac"),
        ("ac-3", "ac3"),
        ("ec-3", "eac3"),
        ("Opus", "opus"),
        ("fLaC", "flac"),
        ("samr", "samr"),
    ],
)
def test_sample_entries_get_ffmpegs_codec_names(sample_entry: str, codec: str) -> None:
    # Given mutagen's name for a sample entry / When named / Then as FFmpeg names it (unknown: unchanged)
    assert mp4_codec(sample_entry) == codec
