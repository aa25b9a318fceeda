"""Specification of the Xiph parsers: native FLAC, and Ogg carrying Opus, Vorbis or FLAC."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from probe_audio.parsers import ogg
from probe_audio.parsers.common import Unrecognised
from probe_audio.parsers.flac import parse_flac

from scripts.make_probe_fixtures import make_all
from tests.unit.probe_fixtures import RecordingFile, ffprobe

SECONDS = 10.0
TOLERANCE = 0.001
HEADER_PAGES_BYTES = 8192  # the identification and comment pages ffmpeg writes fit well within this


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_all(tmp_path_factory.mktemp("xiph_media"), SECONDS, ["flac", "ogg_vorbis", "ogg_opus"])


def test_flac_length_is_exact_from_streaminfo(media: dict[str, Path]) -> None:
    # Given a 10 s FLAC / When parsed / Then STREAMINFO's sample count is the exact length
    f = RecordingFile.of(media["flac"])
    found = parse_flac(f, f.size)
    assert (found.duration_s, found.container, found.codec, found.sample_rate, found.channels) == (
        SECONDS,
        "flac",
        "flac",
        44100,
        2,
    )
    # And only the first block was read
    assert max(offset + n for offset, n in f.reads) <= 8 + 34


def test_flac_whose_first_block_is_not_streaminfo_is_left_to_ffmpeg(media: dict[str, Path]) -> None:
    # Given a FLAC whose first metadata block claims to be a VORBIS_COMMENT (type 4)
    data = bytearray(media["flac"].read_bytes())
    data[4] = (data[4] & 0x80) | 4
    # When parsed / Then the parser declines rather than read a comment as stream info
    with pytest.raises(Unrecognised, match="STREAMINFO"):
        parse_flac(RecordingFile(bytes(data)), len(data))


@pytest.mark.parametrize(("name", "codec"), [("ogg_vorbis", "vorbis"), ("ogg_opus", "opus")])
def test_ogg_length_comes_from_the_last_page_in_the_tail(
    name: str, codec: str, media: dict[str, Path]
) -> None:
    # Given an Ogg file ffmpeg wrote
    path = media[name]
    f = RecordingFile.of(path)
    # When parsed
    found = ogg.parse_ogg(f, f.size)
    # Then ffprobe's length, from the final page's granule position
    assert found.duration_s == pytest.approx(ffprobe(path).duration_s, rel=TOLERANCE)
    assert (found.container, found.codec) == ("ogg", codec)
    # And nothing between the identification pages and the last OGG_TAIL_BYTES was read
    tail_start = f.size - ogg.OGG_TAIL_BYTES
    assert all(offset + n <= HEADER_PAGES_BYTES or offset >= tail_start for offset, n in f.reads), f.reads


def test_opus_is_reported_at_48_khz_whatever_opushead_says(media: dict[str, Path]) -> None:
    # Given an Ogg Opus file whose OpusHead says the input was 44.1 kHz (informational only)
    data = bytearray(media["ogg_opus"].read_bytes())
    head = data.index(b"OpusHead")
    struct.pack_into("<I", data, head + 12, 44100)
    # When parsed / Then the rate is 48000, what Opus always decodes at (and what FFmpeg says)
    assert ogg.parse_ogg(RecordingFile(bytes(data)), len(data)).sample_rate == 48000


def test_ogg_bitrate_is_the_files_average(media: dict[str, Path]) -> None:
    # Given a Vorbis file (its header's nominal bitrate is a target, not a measurement)
    f = RecordingFile.of(media["ogg_vorbis"])
    # When parsed / Then the bitrate is size over length
    found = ogg.parse_ogg(f, f.size)
    assert found.bitrate == round(f.size * 8 / found.duration_s)


def test_ogg_with_another_codec_is_left_to_ffmpeg(media: dict[str, Path]) -> None:
    # Given an Ogg file whose first packet is not Opus, Vorbis or FLAC (here: relabelled as Theora)
    data = bytearray(media["ogg_vorbis"].read_bytes())
    start = data.index(b"\x01vorbis")
    data[start : start + 7] = b"\x80theora"
    # When parsed / Then the parser declines
    with pytest.raises(Unrecognised, match="not Opus, Vorbis or FLAC"):
        ogg.parse_ogg(RecordingFile(bytes(data)), len(data))
