"""A silence- or noise-only upload ends TRANSCRIBED with 0 words and speech_seconds 0 (docs/CHANNELS.md)."""

from __future__ import annotations

import json
from pathlib import Path

import boto3

from local_emulator import runner
from local_emulator.stack import RANDOM_MODEL, local_stack
from tests.gpu_job.media_support import ffmpeg
from tests.workflow.test_per_file_workflow import catalog_row


def test_noise_only_stereo_ends_transcribed_with_no_words(tmp_path: Path) -> None:
    path = tmp_path / "hum.wav"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "anoisesrc=color=brown:sample_rate=16000:duration=4:amplitude=0.02",
        "-ac",
        "2",
        str(path),
    )
    with local_stack(model=str(RANDOM_MODEL)) as stack:
        event, report = runner.upload_and_run(stack.deployment, str(path), "calls/hum.wav")
        assert report is not None and report.status == "SUCCEEDED", report and report.cause
        row = catalog_row(stack, event)
        assert row is not None and row["status"] == "TRANSCRIBED" and row["word_count"] == 0
        uri = row["outputs"]["transcript_json"]
        bucket, key = uri[len("s3://") :].split("/", 1)
        doc = json.loads(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
        assert doc["words"] == [] and doc["speech_seconds"] == 0
