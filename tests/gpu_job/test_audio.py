"""Decoding: any container FFmpeg reads becomes 16 kHz mono float32, incrementally; bad input is typed."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from pipeline.outcomes import CorruptMedia, DurationOutOfRange, NoAudioStream, NotMedia, ZeroByteObject

from gpu_job.audio import MIN_AUDIO_BITRATE, SAMPLE_RATE, AudioDecoder
from scripts.make_probe_fixtures import CONTENT_RECIPES, LIVE_RECIPES, TRACK_RECIPES, make_all
from tests.gpu_job.media_support import ffmpeg

FORMATS = [
    ("a.wav", ("-c:a", "pcm_s16le"), {}),
    ("a.flac", ("-c:a", "flac"), {}),
    ("a.mp3", ("-c:a", "libmp3lame", "-b:a", "64k"), {"rate": 44100, "channels": 2}),
    ("a.m4a", ("-c:a", "aac", "-b:a", "64k"), {"rate": 48000, "channels": 2}),
    ("a.ogg", ("-c:a", "libopus", "-b:a", "32k"), {"rate": 48000}),
    ("a.webm", ("-c:a", "libopus", "-b:a", "32k"), {"rate": 48000, "channels": 2}),
    ("v.mp4", ("-c:a", "aac", "-c:v", "mpeg4"), {"rate": 44100, "video": True}),
    ("v.mkv", ("-c:a", "libvorbis", "-c:v", "mpeg4"), {"rate": 22050, "channels": 6, "video": True}),
]


def decode(path: Path, block: int = SAMPLE_RATE, max_s: float = 3600.0) -> tuple[AudioDecoder, list]:
    with path.open("rb") as f, AudioDecoder(f, path.stat().st_size, max_s) as dec:
        blocks = list(dec.blocks(block))
    return dec, blocks


@pytest.mark.parametrize(("name", "codec_args", "opts"), FORMATS, ids=[f[0] for f in FORMATS])
def test_any_container_decodes_to_16k_mono_float32(make_media, name, codec_args, opts) -> None:
    # Given a 3 s file in a common container/codec (some stereo/5.1, some with video)
    path = make_media(name, 3.0, *codec_args, **opts)
    # When decoded in 1 s blocks
    dec, blocks = decode(path)
    # Then every block is mono float32 at 16 kHz, all but the last exactly one block long,
    assert all(b.dtype == np.float32 and b.ndim == 1 for b in blocks)
    assert all(b.shape[0] == SAMPLE_RATE for b in blocks[:-1])
    # and the decoded length matches the source (codec priming/padding allowed: 100 ms)
    assert dec.duration_s == pytest.approx(3.0, abs=0.1)
    assert sum(b.shape[0] for b in blocks) == dec.samples_decoded
    assert dec.info.channels == opts.get("channels", 1)
    assert dec.info.sample_rate == opts.get("rate", 16000)


def test_multichannel_is_downmixed_not_truncated_to_one_channel(tmp_path) -> None:
    # Given a stereo file with a tone only in the RIGHT channel
    path = tmp_path / "right_only.wav"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=1000:sample_rate=16000:duration=1",
        "-filter_complex",
        "[0:a]pan=stereo|c0=0*c0|c1=c0[a]",
        "-map",
        "[a]",
        str(path),
    )
    # When decoded to mono
    _, blocks = decode(path)
    # Then the right channel's signal (lavfi sine peak 1/8) is present in the mix, not silence
    assert float(np.abs(np.concatenate(blocks)).max()) > 0.05


def test_blocks_are_produced_incrementally(make_media) -> None:
    # Given a 20 s file, When only the first 1 s block is consumed,
    path = make_media("long.flac", 20.0, "-c:a", "flac")
    with path.open("rb") as f, AudioDecoder(f, path.stat().st_size, 3600.0) as dec:
        first = next(dec.blocks(SAMPLE_RATE))
        # Then far less than the whole file has been decoded so far
        assert first.shape[0] == SAMPLE_RATE
        assert dec.samples_decoded < 10 * SAMPLE_RATE


def test_zero_byte_input_is_a_zero_byte_object() -> None:
    with pytest.raises(ZeroByteObject):
        AudioDecoder(io.BytesIO(b""), 0, 3600.0)


def test_text_is_not_media() -> None:
    data = b"this is definitely not an audio file\n" * 100
    with pytest.raises(NotMedia):
        AudioDecoder(io.BytesIO(data), len(data), 3600.0)


def test_video_without_audio_has_no_audio_stream(tmp_path) -> None:
    path = tmp_path / "silent_video.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=5:duration=1", "-c:v", "mpeg4", str(path))
    with path.open("rb") as f, pytest.raises(NoAudioStream):
        AudioDecoder(f, path.stat().st_size, 3600.0)


def test_declared_duration_over_the_limit_is_rejected_before_decoding(make_media) -> None:
    path = make_media("five.wav", 5.0, "-c:a", "pcm_s16le")
    with path.open("rb") as f, pytest.raises(DurationOutOfRange):
        AudioDecoder(f, path.stat().st_size, max_duration_s=2.0)


def test_undeclared_duration_over_the_limit_is_rejected_while_decoding(tmp_path) -> None:
    # Given a live-muxed WebM (written to a pipe, so the container declares no duration), 5 s long
    path = tmp_path / "live.webm"
    with path.open("wb") as out:
        subprocess.run(
            [
                "ffmpeg",
                "-nostdin",
                "-loglevel",
                "error",
                "-f",
                "lavfi",
                "-i",
                "sine=duration=5:sample_rate=16000",
                "-c:a",
                "libopus",
                "-f",
                "webm",
                "pipe:1",
            ],
            stdout=out,
            check=True,
        )
    with path.open("rb") as f, AudioDecoder(f, path.stat().st_size, max_duration_s=2.0) as dec:
        assert dec.info.duration_s is None
        # When decoding, Then the limit is enforced on decoded samples
        with pytest.raises(DurationOutOfRange):
            list(dec.blocks(SAMPLE_RATE))


def test_truncated_garbage_after_a_valid_header_is_corrupt_or_empty(make_media) -> None:
    # Given a FLAC header followed by garbage
    good = make_media("hdr.flac", 2.0, "-c:a", "flac").read_bytes()
    data = good[:200] + bytes(range(256)) * 200
    # When decoding, Then it is reported as bad input (corrupt or empty), never a crash
    with pytest.raises((CorruptMedia, DurationOutOfRange, NotMedia)):
        dec = AudioDecoder(io.BytesIO(data), len(data), 3600.0)
        list(dec.blocks(SAMPLE_RATE))


def test_a_sample_rate_change_mid_stream_is_followed_not_fatal(make_media, tmp_path) -> None:
    # Given two MP3s with different sample rates and channel counts, byte-concatenated into one stream
    a = make_media("a44.mp3", 2.0, "-c:a", "libmp3lame", rate=44100, channels=2)
    b = make_media("b22.mp3", 3.0, "-c:a", "libmp3lame", rate=22050, channels=1)
    joined = tmp_path / "joined.mp3"
    joined.write_bytes(a.read_bytes() + b.read_bytes())
    # When decoded, Then both parts come out at 16 kHz mono, back to back
    dec, _ = decode(joined)
    assert dec.duration_s == pytest.approx(5.0, abs=0.15)


# -------------------------------------------------------------------- real-world uploads (issue 10)
UPLOADS = list(CONTENT_RECIPES)


@pytest.fixture(scope="module")
def uploads(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    names = [r.name for r in CONTENT_RECIPES + LIVE_RECIPES + TRACK_RECIPES]
    return make_all(tmp_path_factory.mktemp("uploads"), 3.0, names)


def reference_decode(path: Path, track: int = 0) -> np.ndarray:
    """ffmpeg's own 16 kHz mono float decode of audio track `track`: what our decoder must match."""
    out = subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-i",
            str(path),
            "-map",
            f"0:a:{track}",
            "-ar",
            str(SAMPLE_RATE),
            "-ac",
            "1",
            "-f",
            "f32le",
            "pipe:1",
        ],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(out, dtype=np.float32)


@pytest.mark.parametrize("recipe", UPLOADS, ids=[r.name for r in UPLOADS])
def test_what_ffmpeg_decodes_is_decoded_whatever_the_name(recipe, uploads, tmp_path) -> None:
    # Given a WMA, AC-3, AVI, AMR, 3GP, CAF, MPEG-PS .dat, G.711/GSM/ADPCM WAV... under a misleading name
    misnamed = tmp_path / recipe.upload_as
    shutil.copy(uploads[recipe.name], misnamed)
    # When decoded
    dec, _ = decode(misnamed)
    # Then as long as ffmpeg's own decode of the bytes (codec priming/padding allowed: 100 ms)
    assert dec.duration_s == pytest.approx(len(reference_decode(misnamed)) / SAMPLE_RATE, abs=0.1)
    assert dec.duration_s == pytest.approx(3.0, abs=0.1)


@pytest.mark.parametrize("name", ["webm_live", "mkv_live_pcm", "wav_streamed", "wav_streamed_zero"])
def test_a_recording_without_a_length_header_decodes_fully(name, uploads) -> None:
    # Given a 3 s live recording (written to a pipe: no Duration / data size 0 or 0xFFFFFFFF)
    # When decoded with a limit far below any length its header could claim
    dec, _ = decode(uploads[name], max_s=60.0)
    # Then every sample comes out, and the measured length is the real one
    assert dec.duration_s == pytest.approx(3.0, abs=0.05)


def test_a_header_claiming_more_than_the_object_holds_is_not_trusted(tmp_path) -> None:
    # Given a 3 s Opus WebM (~20 KB) whose Duration element claims an hour, which FFmpeg believes
    data = bytearray(make_all(tmp_path, 3.0, ["webm_opus"])["webm_opus"].read_bytes())
    at = data.index(b"\x44\x89\x88") + 3  # Duration, an 8-byte float in milliseconds
    struct.pack_into(">d", data, at, 3600 * 1000.0)
    path = tmp_path / "liar.webm"
    path.write_bytes(bytes(data))
    # When opened with a 60 s limit
    dec, _ = decode(path, max_s=60.0)
    # Then it is not rejected on the claim, which is more than its size can hold at any speech
    # bitrate: the claim is replaced by that bound, flagged, and the real length is measured
    assert dec.info.duration_is_estimate is True
    assert dec.info.duration_s == pytest.approx(len(data) * 8 / MIN_AUDIO_BITRATE)
    assert dec.duration_s == pytest.approx(3.0, abs=0.05)


@pytest.mark.parametrize(
    ("name", "track", "other"),
    [("mkv_default_second", 1, 0), ("mp4_default_second", 1, 0), ("mkv_no_default", 0, 1)],
)
def test_the_default_track_is_decoded_else_the_first(name, track, other, uploads) -> None:
    # Given two audio tracks saying different words (espeak-ng), the second marked default, or neither
    path = uploads[name]
    chosen, not_chosen = reference_decode(path, track), reference_decode(path, other)
    assert abs(len(chosen) - len(not_chosen)) > SAMPLE_RATE  # texts of clearly different lengths
    # When decoded
    dec, blocks = decode(path)
    signal = np.concatenate(blocks)
    # Then the samples are the chosen track's (its length, and its waveform: correlation ~1)
    assert len(signal) == pytest.approx(len(chosen), abs=SAMPLE_RATE // 20)
    n = min(len(signal), len(chosen))
    assert np.corrcoef(signal[:n], chosen[:n])[0, 1] > 0.98
    m = min(len(signal), len(not_chosen))
    assert abs(np.corrcoef(signal[:m], not_chosen[:m])[0, 1]) < 0.5
    # And the decoder says which track it used and which other exists
    assert dec.info.track_index == track
    assert [(t.index, t.default) for t in dec.info.other_tracks] == [(other, False)]
