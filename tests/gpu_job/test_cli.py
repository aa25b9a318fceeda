"""The container's command line: Batch form against S3 (moto), workstation form on local files, exit codes."""

from __future__ import annotations

import json
import shutil

import pytest
from pipeline.contracts import TranscriptionRequest, UploadedObject
from pipeline.types import Chunking

from gpu_job.cli import main
from tests.gpu_job.media_support import ffmpeg


def last_json_line(text: str) -> dict:
    lines = [line for line in text.strip().splitlines() if line.startswith("{")]
    return json.loads(lines[-1])


def batch_command(source: str, prefix: str, model: str, *extra: str) -> list[str]:
    return [
        "--input",
        source,
        "--output",
        prefix,
        "--mode",
        "streaming",
        "--chunk-s",
        "20",
        "--left-s",
        "5",
        "--right-s",
        "3",
        "--model",
        model,
        "--device",
        "cpu",
        *extra,
    ]


def test_batch_form_reads_s3_and_writes_the_transcript_under_the_prefix(
    s3, make_media, tiny_model_path, transcript_validator
) -> None:
    # Given an m4a in the input bucket under a nested key, and the plan's command
    media = make_media("clip.m4a", 8.0, "-c:a", "aac", rate=44100, channels=2)
    s3.upload_file(str(media), "media-in", "calls/2024/clip.m4a")
    prefix = "s3://media-out/transcripts/calls/2024/clip.m4a/"
    # When the container runs it
    code = main(batch_command("s3://media-in/calls/2024/clip.m4a", prefix, str(tiny_model_path)))
    # Then it exits 0 and wrote one valid transcript.json that records the source object
    assert code == 0
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="media-out")["Contents"]]
    assert keys == ["transcripts/calls/2024/clip.m4a/transcript.json"]
    doc = json.loads(s3.get_object(Bucket="media-out", Key=keys[0])["Body"].read())
    transcript_validator(doc)
    head = s3.head_object(Bucket="media-in", Key="calls/2024/clip.m4a")
    assert doc["source"] == {
        "uri": "s3://media-in/calls/2024/clip.m4a",
        "etag": head["ETag"].strip('"'),
        "size": head["ContentLength"],
    }
    assert doc["mode"] == "streaming" and doc["media"]["codec"] == "aac"


def test_request_form_does_what_the_plan_says(s3, make_media, tiny_model_path, transcript_validator) -> None:
    # Given an upload and the TranscriptionRequest a Plan built for it (streaming, an 8 s window)
    media = make_media("talk.wav", 4.0, "-c:a", "pcm_s16le")
    s3.upload_file(str(media), "media-in", "talks/a talk.wav")
    head = s3.head_object(Bucket="media-in", Key="talks/a talk.wav")
    source = UploadedObject(
        bucket="media-in",
        key="talks/a talk.wav",
        uri="s3://media-in/talks/a talk.wav",
        etag=head["ETag"].strip('"'),
        size=head["ContentLength"],
    )
    request = TranscriptionRequest(
        source=source,
        output_prefix="s3://media-out/transcripts/talks/a talk.wav/",
        mode="streaming",
        chunking=Chunking(chunk_s=8, left_s=1.6, right_s=0.8),
    )
    # When the container runs the plan's command
    code = main(["--request", request.model_dump_json(), "--model", str(tiny_model_path), "--device", "cpu"])
    # Then the transcript is at the request's prefix, made in the request's mode and window
    assert code == 0
    doc = json.loads(
        s3.get_object(Bucket="media-out", Key="transcripts/talks/a talk.wav/transcript.json")["Body"].read()
    )
    transcript_validator(doc)
    assert doc["mode"] == "streaming"
    window = (doc["chunking"]["chunk_s"], doc["chunking"]["left_s"], doc["chunking"]["right_s"])
    assert window == pytest.approx((8, 1.6, 0.8), abs=0.08)  # rounded down to whole encoder frames
    assert doc["source"]["etag"] == source.etag


def test_a_request_that_breaks_the_contract_is_internal_70(capfd) -> None:
    code = main(["--request", '{"source": {"bucket": "b"}}', "--device", "cpu"])
    assert code == 70
    assert "malformed --request" in last_json_line(capfd.readouterr().err)["message"]


@pytest.mark.parametrize(
    ("body", "error"),
    [(b"", "ZeroByteObject"), (b"<html>not media</html>" * 50, "NotMedia")],
)
def test_bad_input_exits_65_with_one_json_line_and_error_json(
    s3, tiny_model_path, capfd, body, error
) -> None:
    s3.put_object(Bucket="media-in", Key="bad/x.mp3", Body=body)
    prefix = "s3://media-out/transcripts/bad/x.mp3/"
    code = main(batch_command("s3://media-in/bad/x.mp3", prefix, str(tiny_model_path)))
    assert code == 65
    reported = last_json_line(capfd.readouterr().err)
    assert reported["error"] == error and reported["input"] == "s3://media-in/bad/x.mp3"
    written = json.loads(
        s3.get_object(Bucket="media-out", Key="transcripts/bad/x.mp3/error.json")["Body"].read()
    )
    assert written == reported
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="media-out")["Contents"]]
    assert "transcripts/bad/x.mp3/transcript.json" not in keys


def test_a_video_without_audio_exits_65_no_audio_stream(tmp_path, tiny_model_path, capfd) -> None:
    video = tmp_path / "mute.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=5:duration=1", "-c:v", "mpeg4", str(video))
    code = main(batch_command(str(video), str(tmp_path / "out"), str(tiny_model_path)))
    assert code == 65
    assert last_json_line(capfd.readouterr().err)["error"] == "NoAudioStream"
    assert json.loads((tmp_path / "out" / "error.json").read_text())["error"] == "NoAudioStream"


def test_an_unloadable_model_is_an_internal_error_70(tmp_path, make_media, capfd) -> None:
    media = make_media("ok.wav", 1.0, "-c:a", "pcm_s16le")
    broken = tmp_path / "broken.nemo"
    broken.write_bytes(b"not a tarball")
    code = main(batch_command(str(media), str(tmp_path / "out"), str(broken)))
    assert code == 70
    assert last_json_line(capfd.readouterr().err)["input"] == str(media)
    assert not (tmp_path / "out").exists()


def test_missing_input_object_is_an_internal_error_70(s3, tiny_model_path, capfd) -> None:
    # A missing object is not a property of the media: the workflow should see it as internal
    code = main(batch_command("s3://media-in/nope.wav", "s3://media-out/t/nope.wav/", str(tiny_model_path)))
    assert code == 70
    assert "error" in last_json_line(capfd.readouterr().err)


def test_person_form_transcribes_several_files_without_basename_collisions(
    tmp_path, make_media, tiny_model_path, transcript_validator, monkeypatch
) -> None:
    # Given two different files that share a basename, in two folders
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        shutil.copy(make_media(f"{folder}.flac", 3.0, "-c:a", "flac"), tmp_path / folder / "x.flac")
    monkeypatch.chdir(tmp_path)
    # When a person transcribes both into ./transcripts
    model = str(tiny_model_path)
    code = main(
        ["transcribe", "a/x.flac", "b/x.flac", "--out", "transcripts", "--model", model, "--mode", "full"]
    )
    # Then both transcripts exist, each under its own full path
    assert code == 0
    for folder in ("a", "b"):
        doc = json.loads((tmp_path / "transcripts" / folder / "x.flac" / "transcript.json").read_text())
        transcript_validator(doc)
        assert doc["source"]["uri"] == f"{folder}/x.flac"


def test_person_form_reports_the_worst_outcome_but_still_transcribes_the_good_file(
    tmp_path, make_media, tiny_model_path
) -> None:
    good = make_media("good.wav", 2.0, "-c:a", "pcm_s16le")
    bad = tmp_path / "empty.wav"
    bad.write_bytes(b"")
    out = tmp_path / "t"
    code = main(["transcribe", str(good), str(bad), "--out", str(out), "--model", str(tiny_model_path)])
    assert code == 65
    assert len(list(out.rglob("transcript.json"))) == 1
    assert len(list(out.rglob("error.json"))) == 1
