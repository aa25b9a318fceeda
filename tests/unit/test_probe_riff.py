"""Specification of the RIFF-family parsers: WAV, WAVE_FORMAT_EXTENSIBLE, RF64/BW64 and AIFF.

Each parser is fed a file ffmpeg wrote (scripts/make_probe_fixtures.py), sometimes with one header
field patched, so that each spec isolates the one rule it states.
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest
from probe_audio.parsers.common import Unrecognised
from probe_audio.parsers.riff import parse_aiff, parse_rf64, parse_wav, wav_codec

from scripts.make_probe_fixtures import SAMPLE_RATE, make_all
from tests.unit.probe_fixtures import RecordingFile, ffprobe

SECONDS = 10.0


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_all(
        tmp_path_factory.mktemp("riff_media"), SECONDS, ["wav_pcm16", "wav_extensible", "wav_rf64", "aiff"]
    )


def test_pcm_wav_length_is_exact_from_the_data_chunk(media: dict[str, Path]) -> None:
    # Given a 10 s, 16-bit stereo WAV
    f = RecordingFile.of(media["wav_pcm16"])
    # When parsed
    found = parse_wav(f, f.size)
    # Then the data chunk size over the byte rate is the exact length, named as FFmpeg names it
    assert (found.duration_s, found.codec, found.sample_rate, found.channels) == (
        SECONDS,
        "pcm_s16le",
        SAMPLE_RATE,
        2,
    )
    assert found.bitrate == SAMPLE_RATE * 2 * 16
    assert (found.container, found.parser) == ("wav", "mutagen")


def test_extensible_wav_is_named_by_its_subformat(media: dict[str, Path]) -> None:
    # Given a 24-bit WAV whose fmt chunk says WAVE_FORMAT_EXTENSIBLE (0xFFFE)
    data = media["wav_extensible"].read_bytes()
    assert struct.unpack_from("<H", data, data.index(b"fmt ") + 8)[0] == 0xFFFE
    # When parsed / Then the real format comes from SubFormat: 24-bit signed PCM
    assert parse_wav(RecordingFile(data), len(data)).codec == "pcm_s24le"


@pytest.mark.parametrize(
    ("audio_format", "bits", "codec"),
    [
        (1, 8, "pcm_u8"),
        (1, 16, "pcm_s16le"),
        (1, 32, "pcm_s32le"),
        (3, 32, "pcm_f32le"),
        (3, 64, "pcm_f64le"),
        (6, 8, "pcm_alaw"),
        (7, 8, "pcm_mulaw"),
    ],
)
def test_wav_pcm_formats_get_ffmpegs_codec_names(audio_format: int, bits: int, codec: str) -> None:
    # Given a fmt chunk's format code and bit depth / When named / Then as FFmpeg (and gpu_job) name it
    assert wav_codec(audio_format, b"", bits) == codec


def test_8_bit_wav_is_named_as_ffprobe_names_it(tmp_path: Path) -> None:
    # Given an 8-bit (unsigned) WAV ffmpeg wrote
    path = tmp_path / "u8.wav"
    subprocess.run(
        [
            "ffmpeg",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "sine=d=1",
            "-c:a",
            "pcm_u8",
            str(path),
        ],
        check=True,
    )
    f = RecordingFile.of(path)
    # When parsed / Then the codec is ffprobe's "pcm_u8": one byte has no byte order
    assert parse_wav(f, f.size).codec == ffprobe(path).codec == "pcm_u8"


def test_compressed_wav_is_left_to_ffmpeg() -> None:
    # Given a fmt chunk with a compressed format (0x0002, MS ADPCM)
    # When named / Then the parser declines, so FFmpeg names the codec instead of us guessing
    with pytest.raises(Unrecognised, match="0x0002"):
        wav_codec(2, b"", 4)


def test_rf64_length_comes_from_ds64_when_the_data_chunk_says_see_ds64(media: dict[str, Path]) -> None:
    # Given an RF64 file (data chunk size 0xFFFFFFFF) whose ds64 is rewritten to half the samples
    data = bytearray(media["wav_rf64"].read_bytes())
    data_chunk = data.index(b"data")
    assert struct.unpack_from("<I", data, data_chunk + 4)[0] == 0xFFFFFFFF
    ds64 = data.index(b"ds64")
    real_size = struct.unpack_from("<Q", data, ds64 + 16)[0]
    struct.pack_into("<Q", data, ds64 + 16, real_size // 2)
    f = RecordingFile(bytes(data))
    # When parsed
    found = parse_rf64(f, f.size)
    # Then the 64-bit data size is the one used (half the length), read by hand, named as WAV
    assert found.duration_s == pytest.approx(SECONDS / 2, abs=1e-4)
    assert (found.container, found.codec, found.parser) == ("wav", "pcm_s16le", "rf64-header")
    # And only the header was read, not the samples
    assert max(offset + n for offset, n in f.reads) <= data_chunk + 8


def test_rf64_with_data_before_fmt_is_left_to_ffmpeg() -> None:
    # Given an RF64 header whose data chunk comes before any fmt chunk
    ds64 = b"ds64" + struct.pack("<IQQQ", 24, 0, 1000, 250)
    data = b"RF64" + b"\xff" * 4 + b"WAVE" + ds64 + b"data" + struct.pack("<I", 0xFFFFFFFF) + bytes(1000)
    # When parsed / Then the parser declines instead of guessing a sample format
    with pytest.raises(Unrecognised, match="before fmt"):
        parse_rf64(RecordingFile(data), len(data))


def test_aiff_length_is_exact_and_big_endian_pcm(media: dict[str, Path]) -> None:
    # Given a 10 s AIFF / When parsed / Then exact from COMM's frame count, big-endian PCM
    f = RecordingFile.of(media["aiff"])
    found = parse_aiff(f, f.size)
    assert (found.duration_s, found.container, found.codec, found.channels) == (
        SECONDS,
        "aiff",
        "pcm_s16be",
        2,
    )


def test_aiff_c_is_left_to_ffmpeg(media: dict[str, Path]) -> None:
    # Given the same file marked AIFF-C (whose COMM chunk names a compression type)
    data = bytearray(media["aiff"].read_bytes())
    data[8:12] = b"AIFC"
    # When parsed / Then the parser declines: FFmpeg names the compression
    with pytest.raises(Unrecognised, match="AIFF-C"):
        parse_aiff(RecordingFile(bytes(data)), len(data))
