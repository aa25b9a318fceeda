"""Specification of the Probe step: exact durations from a few ranged reads, typed errors otherwise.

Fixtures are generated with ffmpeg at test time (scripts/make_probe_fixtures.py, 10 s each) and
served by moto S3 through a client that counts the GETs. ffprobe on the same local file is the
reference for duration, codec, sample rate and channels.
"""

from __future__ import annotations

import json
import random
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pipeline.outcomes import (
    BadInputError,
    CorruptMedia,
    DurationOutOfRange,
    NoAudioStream,
    NotMedia,
    ZeroByteObject,
)
from probe_audio import app
from probe_audio.probe import probe
from probe_audio.s3_reader import S3RangeReader
from pydantic import ValidationError

from scripts.make_probe_fixtures import BAD_RECIPES, ESTIMATE_RECIPES, ODD_RECIPES, RECIPES, TRUTH, make_all
from tests.unit.probe_fixtures import CountingS3, SparseFileS3, ffprobe, make_sparse_rf64

BUCKET = "input-bucket"
FIXTURE_SECONDS = 10.0
# The budget for a typical file; every fixture here must fit it (1-hour files: benchmark).
MAX_BYTES = 64 * 1024
MAX_REQUESTS = 3
TOLERANCE = 0.001  # duration within 0.1% of ffprobe's


@dataclass(frozen=True)
class LambdaContext:
    function_name: str = "probe_audio"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:probe_audio"
    aws_request_id: str = "test-request"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("probe_media")
    names = [r.name for r in RECIPES + ESTIMATE_RECIPES + ODD_RECIPES + BAD_RECIPES]
    return make_all(out, FIXTURE_SECONDS, names)


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingS3]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_NAMESPACE": "ProbeTest",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MAX_DURATION_S", raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        counting = CountingS3(client)
        monkeypatch.setattr(app, "s3_client", lambda: counting)
        yield counting


def upload(s3: CountingS3, key: str, body: bytes) -> dict[str, Any]:
    """Put an object and return the Source the Claim step would pass to Probe."""
    response = s3.client.put_object(Bucket=BUCKET, Key=key, Body=body)
    return {
        "bucket": BUCKET,
        "key": key,
        "etag": response["ETag"].strip('"'),
        "size": len(body),
        "version_id": None,
        "uri": f"s3://{BUCKET}/{key}",
    }


def run_probe(source: dict[str, Any]) -> dict[str, Any]:
    return app.handler(source, LambdaContext())


@pytest.mark.parametrize("recipe", RECIPES, ids=[r.name for r in RECIPES])
def test_probe_agrees_with_ffprobe_within_budget(recipe: Any, media: dict[str, Path], s3: CountingS3) -> None:
    # Given a generated file of this format in S3
    path = media[recipe.name]
    source = upload(s3, f"uploads/{path.name}", path.read_bytes())
    reference = ffprobe(path)

    # When the Probe step runs on the Claim step's Source
    result = run_probe(source)

    # Then duration is within 0.1% of ffprobe's, and the stream facts match ffprobe's names
    assert result["duration_s"] == pytest.approx(reference.duration_s, rel=TOLERANCE)
    assert result["codec"] == reference.codec
    assert result["sample_rate"] == reference.sample_rate
    assert result["channels"] == reference.channels
    assert result["size"] == path.stat().st_size
    assert result["has_audio"] is True
    assert result["bitrate"] > 0
    assert set(result) == {
        "duration_s",
        "container",
        "codec",
        "sample_rate",
        "channels",
        "bitrate",
        "size",
        "has_audio",
        "duration_is_estimate",
        "channel_mode",
        "redaction",
        "redact_audio",
        "vocabulary",
        "speakers",
        "expected_languages",
    }
    assert result["redaction"] == "off" and result["redact_audio"] is False  # untagged: the defaults
    assert result["duration_is_estimate"] is False
    assert result["channel_mode"] is None  # untagged
    assert result["expected_languages"] is None  # no tag, no prefix rule, no stack default: any
    assert result["vocabulary"] is None  # no tag, no prefix rule, no stack default
    assert result["speakers"] is None  # no tag, no prefix rule: the SPEAKERS setting decides
    # And it read at most 64 KiB in at most 3 ranged GETs (counted by the S3 client, not the reader)
    assert s3.requests <= MAX_REQUESTS, s3.ranges
    assert s3.bytes_served <= MAX_BYTES, s3.ranges


@pytest.mark.parametrize(
    ("name", "container"),
    [
        ("wav_pcm16", "wav"),
        ("wav_rf64", "wav"),
        ("flac", "flac"),
        ("mp3_cbr", "mp3"),
        ("m4a_moov_end", "m4a"),
        ("mov_video", "mov"),
        ("mp4_video", "mp4"),
        ("ogg_opus", "ogg"),
        ("webm_opus", "webm"),
        ("mkv_video", "matroska"),
        ("aiff", "aiff"),
    ],
)
def test_container_is_named(name: str, container: str, media: dict[str, Path], s3: CountingS3) -> None:
    # Given a file of a known container / When probed / Then the container is named as in the contract
    path = media[name]
    assert run_probe(upload(s3, f"c/{path.name}", path.read_bytes()))["container"] == container


def test_reader_accounting_matches_what_s3_served(media: dict[str, Path], s3: CountingS3) -> None:
    # Given an MP4 whose moov sits at the end (head and tail both needed)
    path = media["m4a_moov_end"]
    upload(s3, "a.m4a", path.read_bytes())
    reader = S3RangeReader(s3, BUCKET, "a.m4a")
    # When probed directly through the reader
    probe(reader, 86400)
    # Then the reader's own counters equal the server-side count: two GETs, the head and the tail
    assert (reader.requests, reader.bytes_read) == (s3.requests, s3.bytes_served)
    assert reader.requests == 2
    assert reader.ranges[-1][1] == path.stat().st_size


def test_cost_is_logged_and_emitted_as_metrics(
    media: dict[str, Path],
    s3: CountingS3,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given an MP4 with its moov at the end
    source = upload(s3, "m.m4a", media["m4a_moov_end"].read_bytes())
    # When probed through the handler
    run_probe(source)
    # Then the EMF metrics and the log line carry what S3 actually served
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    emf = next(line for line in lines if "_aws" in line)
    assert emf["ProbeBytesRead"] == [float(s3.bytes_served)]
    assert emf["ProbeRequests"] == [float(s3.requests)]
    finished: Any = next(r for r in caplog.records if r.getMessage() == "probe finished")
    assert (finished.bytes_read, finished.requests, finished.outcome) == (s3.bytes_served, s3.requests, "ok")


def test_big_id3_tag_is_skipped_not_read(media: dict[str, Path], s3: CountingS3) -> None:
    # Given an MP3 with a 256 KiB cover picture in its ID3v2 tag
    path = media["mp3_big_id3"]
    result = run_probe(upload(s3, "big.mp3", path.read_bytes()))
    # Then the probe jumps over the tag: head block + the block where the audio starts
    assert result["duration_s"] == pytest.approx(ffprobe(path).duration_s, rel=TOLERANCE)
    assert s3.requests == 2
    assert s3.bytes_served <= 2 * 16 * 1024


def test_vbr_mp3_without_header_is_estimated_from_sampled_frames(
    media: dict[str, Path], s3: CountingS3
) -> None:
    # Given a VBR MP3 without Xing/VBRI header, and the same encode written with a Xing header
    path, truth = media["mp3_vbr_no_header"], ffprobe(media[TRUTH["mp3_vbr_no_header"]]).duration_s
    # When probed
    result = run_probe(upload(s3, "noheader.mp3", path.read_bytes()))
    # Then the length is within 2% of the real one (first-frame extrapolation can be off several-fold)
    # at the price of three sampled windows besides the head
    assert result["duration_s"] == pytest.approx(truth, rel=0.02)
    assert s3.requests <= 4


def test_raw_aac_is_estimated_like_ffprobe(media: dict[str, Path], s3: CountingS3) -> None:
    # Given raw AAC (ADTS), which has no length anywhere in the file
    path = media["aac_adts"]
    # When probed
    result = run_probe(upload(s3, "raw.aac", path.read_bytes()))
    # Then mutagen's estimate from the first 100 frames agrees with ffprobe's estimate within 1%
    assert result["duration_s"] == pytest.approx(ffprobe(path).duration_s, rel=0.01)
    assert (result["container"], result["codec"]) == ("aac", "aac")
    assert s3.requests <= 3


def test_mpeg_ts_goes_to_ffmpeg_and_matches_ffprobe(media: dict[str, Path], s3: CountingS3) -> None:
    # Given an MPEG-TS recording, a container mutagen does not know
    path = media["mpegts_mp2"]
    reference = ffprobe(path)
    # When probed
    result = run_probe(upload(s3, "rec.ts", path.read_bytes()))
    # Then FFmpeg over the same reader times it as ffprobe does (from the last timestamps, so it
    # reads near the end too), with sequential reads merged into a few growing GETs
    assert result["duration_s"] == pytest.approx(reference.duration_s, rel=TOLERANCE)
    assert (result["container"], result["codec"]) == ("mpegts", reference.codec)
    assert s3.requests <= 8


def test_ogg_last_page_outside_the_tail_window_falls_back_to_mutagens_search(
    media: dict[str, Path], s3: CountingS3, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a tail window too small to hold the final Ogg page's header
    from probe_audio.parsers import ogg as probe_module

    monkeypatch.setattr(probe_module, "OGG_TAIL_BYTES", 16)
    path = media["ogg_vorbis"]
    # When probed
    result = run_probe(upload(s3, "tail.ogg", path.read_bytes()))
    # Then mutagen's own search of the last 64 KiB still finds it: same exact length, more bytes
    assert result["duration_s"] == pytest.approx(ffprobe(path).duration_s, rel=TOLERANCE)
    assert s3.bytes_served > 64 * 1024 or s3.bytes_served >= path.stat().st_size


def test_a_key_with_spaces_plus_and_non_ascii_is_probed_as_claimed(
    media: dict[str, Path], s3: CountingS3
) -> None:
    # Given an object whose key has spaces, a plus sign and non-ASCII characters, as Claim decoded it
    key = "inbox/Interview 2024 + notes/Zoë café.flac"
    path = media["flac"]
    source = upload(s3, key, path.read_bytes())
    # When probed
    result = run_probe(source)
    # Then that very object was read
    assert result["duration_s"] == pytest.approx(ffprobe(path).duration_s, rel=TOLERANCE)
    assert result["codec"] == "flac"


def test_overwrite_during_probe_is_detected(media: dict[str, Path], s3: CountingS3) -> None:
    # Given the Source of an upload that has since been overwritten with other bytes
    path = media["m4a_moov_end"]
    source = upload(s3, "race.m4a", path.read_bytes())
    s3.client.put_object(Bucket=BUCKET, Key="race.m4a", Body=media["flac"].read_bytes())
    # When probed / Then S3 refuses the pinned GET instead of mixing bytes of two uploads
    from probe_audio.s3_reader import ObjectChanged

    with pytest.raises(ObjectChanged):
        run_probe(source)


def test_version_id_pins_the_probed_version(media: dict[str, Path], s3: CountingS3) -> None:
    # Given a versioned bucket where the probed version was overwritten after the event
    s3.client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    path = media["ogg_vorbis"]
    first = s3.client.put_object(Bucket=BUCKET, Key="v.ogg", Body=path.read_bytes())
    s3.client.put_object(Bucket=BUCKET, Key="v.ogg", Body=b"not audio any more")
    source = {
        "bucket": BUCKET,
        "key": "v.ogg",
        "etag": first["ETag"].strip('"'),
        "version_id": first["VersionId"],
        "size": path.stat().st_size,
        "uri": f"s3://{BUCKET}/v.ogg",
    }
    # When probed / Then the version named in the event is the one measured
    assert run_probe(source)["duration_s"] == pytest.approx(ffprobe(path).duration_s, rel=TOLERANCE)


def test_rf64_over_4_gib(media: dict[str, Path], tmp_path: Path) -> None:
    # Given a >4 GiB RF64 WAV (sparse on disk: ffmpeg's RF64 header, grown to 4.5 GiB of samples)
    big = tmp_path / "big_rf64.wav"
    make_sparse_rf64(media["wav_rf64"], big, data_bytes=9 * 2**29)
    assert big.stat().st_size > 2**32
    reference = ffprobe(big)
    client = SparseFileS3(big)
    # When probed through the same reader and probe code
    result = probe(S3RangeReader(client, BUCKET, "big_rf64.wav", etag=client.etag), 86400)
    # Then the 64-bit sizes are used: about 7.3 hours, as ffprobe says, from one 16 KiB GET
    assert result.duration_s == pytest.approx(reference.duration_s, rel=TOLERANCE)
    assert result.duration_s > 4 * 3600
    assert result.size == big.stat().st_size
    assert len(client.ranges) == 1
    assert client.bytes_served <= 16 * 1024


# ------------------------------------------------------------------------------------ bad inputs
def truncated(path: Path, keep: int) -> bytes:
    return path.read_bytes()[:keep]


@pytest.mark.parametrize(
    ("case", "make_body", "error"),
    [
        ("zero bytes", lambda m: b"", ZeroByteObject),
        ("plain text", lambda m: b"Meeting notes\nnothing to hear here\n" * 200, NotMedia),
        ("random bytes", lambda m: random.Random(7).randbytes(50_000), NotMedia),
        ("mp4 video without audio", lambda m: m["video_only_mp4"].read_bytes(), NoAudioStream),
        ("mkv video without audio", lambda m: m["video_only_mkv"].read_bytes(), NoAudioStream),
        ("wav cut inside fmt", lambda m: truncated(m["wav_pcm16"], 30), CorruptMedia),
        ("flac cut inside STREAMINFO", lambda m: truncated(m["flac"], 20), CorruptMedia),
        ("mp4 cut before moov", lambda m: truncated(m["m4a_moov_end"], 60_000), CorruptMedia),
        ("ogg cut inside first page", lambda m: truncated(m["ogg_vorbis"], 40), CorruptMedia),
        ("webm cut inside header", lambda m: truncated(m["webm_opus"], 100), CorruptMedia),
        ("mp3 header only", lambda m: b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 20, CorruptMedia),
    ],
)
def test_bad_input_raises_typed_error(
    case: str, make_body: Any, error: type[BadInputError], media: dict[str, Path], s3: CountingS3
) -> None:
    # Given an object that can never be transcribed
    source = upload(s3, f"bad/{case}", make_body(media))
    # When probed / Then the typed, never-retried error names the reason
    with pytest.raises(error):
        run_probe(source)
    assert issubclass(error, BadInputError)


@pytest.mark.parametrize(
    "event",
    [
        {"detail": {"bucket": {"name": BUCKET}}},
        {"bucket": BUCKET, "key": "", "etag": "e", "uri": f"s3://{BUCKET}/"},
        {"hello": "world"},
    ],
    ids=["raw event", "source with empty key", "unrelated payload"],
)
def test_a_payload_that_is_not_an_uploaded_object_breaks_the_contract(
    event: dict[str, Any], s3: CountingS3
) -> None:
    # Given a payload the Claim state never produces / When probed
    # Then the parser rejects it (our own bug: internal, not the upload's fault) before any GET
    with pytest.raises(ValidationError):
        run_probe(event)
    assert s3.requests == 0


def test_zero_byte_object_without_size_in_event(s3: CountingS3) -> None:
    # Given an empty object and an event that does not say its size
    source = upload(s3, "empty.wav", b"")
    source["size"] = None
    # When probed / Then S3's answer to the first ranged GET reveals the empty object
    with pytest.raises(ZeroByteObject):
        run_probe(source)
    assert s3.requests == 1


def test_duration_over_the_configured_limit(
    media: dict[str, Path], s3: CountingS3, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a limit of 5 seconds and a 10-second file
    monkeypatch.setenv("MAX_DURATION_S", "5")
    source = upload(s3, "long.flac", media["flac"].read_bytes())
    # When probed / Then it is rejected as out of range rather than planned
    with pytest.raises(DurationOutOfRange, match="exceeds"):
        run_probe(source)


def test_wav_without_samples_has_no_duration(tmp_path: Path, s3: CountingS3) -> None:
    # Given a well-formed WAV that holds no audio at all
    path = tmp_path / "silence.wav"
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
            "anullsrc=r=16000",
            "-t",
            "0",
            str(path),
        ],
        check=True,
    )
    assert path.stat().st_size > 0
    source = upload(s3, "empty_data.wav", path.read_bytes())
    # When probed / Then a missing duration is a typed error, not a zero-length plan
    with pytest.raises(DurationOutOfRange):
        run_probe(source)
