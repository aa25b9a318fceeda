"""Specification of the FFmpeg fallback: what it names, and which typed error it raises when it cannot."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from pipeline.outcomes import CorruptMedia, NoAudioStream, NotMedia
from probe_audio.parsers.ffmpeg import container_name, probe_with_ffmpeg
from probe_audio.parsers.riff import parse_wav

from scripts.make_probe_fixtures import make_all
from tests.unit.probe_fixtures import RecordingFile, ffprobe

TOLERANCE = 0.001


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_all(
        tmp_path_factory.mktemp("ffmpeg_media"),
        10.0,
        ["webm_opus", "mkv_video", "mpegts_mp2", "wav_pcm16", "video_only_mkv"],
    )


@pytest.mark.parametrize(
    ("name", "container", "codec"),
    [("webm_opus", "webm", "opus"), ("mkv_video", "matroska", "flac"), ("mpegts_mp2", "mpegts", "mp2")],
)
def test_containers_without_a_header_parser_are_timed_by_ffmpeg(
    name: str, container: str, codec: str, media: dict[str, Path]
) -> None:
    # Given a container no header parser reads / When FFmpeg probes it over the file object
    path = media[name]
    f = RecordingFile.of(path)
    found = probe_with_ffmpeg(f, f.size, "matroska" if name != "mpegts_mp2" else None)
    # Then ffprobe's facts, with WebM told from Matroska by the EBML DocType
    assert found.duration_s == pytest.approx(ffprobe(path).duration_s, rel=TOLERANCE)
    assert (found.container, found.codec, found.parser) == (container, codec, "pyav")


def test_ffmpeg_and_the_header_parser_describe_a_file_alike(media: dict[str, Path]) -> None:
    # Given a WAV, which both paths can read
    f = RecordingFile.of(media["wav_pcm16"])
    # When probed by each
    by_header, by_ffmpeg = parse_wav(f, f.size), probe_with_ffmpeg(f, f.size, "wav")
    # Then the same contract facts come out (FFmpeg's bitrate counts the header bytes too)
    fields = ("duration_s", "container", "codec", "sample_rate", "channels", "size", "has_audio")
    assert [getattr(by_ffmpeg, k) for k in fields] == [getattr(by_header, k) for k in fields]
    assert by_ffmpeg.bitrate == pytest.approx(by_header.bitrate, rel=0.001)


@pytest.mark.parametrize(
    ("ffmpeg_name", "kind", "head", "container"),
    [
        ("mov,mp4,m4a,3gp,3g2,mj2", "mp4", b"\x00\x00\x00\x14ftypqt  ", "mov"),
        ("mov,mp4,m4a,3gp,3g2,mj2", "mp4", b"\x00\x00\x00\x14ftypM4A ", "mp4"),
        ("wav", "rf64", b"RF64\xff\xff\xff\xffWAVE", "wav"),
        ("matroska,webm", "matroska", b"\x1a\x45\xdf\xa3\x9f\x42\x82\x84webm", "webm"),
        ("matroska,webm", "matroska", b"\x1a\x45\xdf\xa3\x9f\x42\x82\x88matroska", "matroska"),
        ("mpegts", None, b"\x47\x40\x11\x10", "mpegts"),
    ],
    ids=["mov", "m4a-as-mp4", "rf64", "webm", "matroska", "first-name"],
)
def test_container_names_split_demuxers_that_serve_several(
    ffmpeg_name: str, kind: str | None, head: bytes, container: str
) -> None:
    # Given what FFmpeg's demuxer is called and the file's first bytes / Then the contract's name
    assert container_name(ffmpeg_name, kind, RecordingFile(head)) == container


def test_unknown_bytes_are_not_media_but_a_known_family_is_corrupt() -> None:
    # Given bytes FFmpeg cannot open
    noise = random.Random(7).randbytes(50_000)
    # When sniffing found no family / Then NotMedia; when it found one / Then CorruptMedia
    with pytest.raises(NotMedia):
        probe_with_ffmpeg(RecordingFile(noise), len(noise), None)
    with pytest.raises(CorruptMedia):
        probe_with_ffmpeg(RecordingFile(noise), len(noise), "flac")


def test_video_without_audio_is_no_audio_stream(media: dict[str, Path]) -> None:
    # Given a Matroska file with only a video track / When FFmpeg probes it / Then NoAudioStream
    f = RecordingFile.of(media["video_only_mkv"])
    with pytest.raises(NoAudioStream):
        probe_with_ffmpeg(f, f.size, "matroska")
