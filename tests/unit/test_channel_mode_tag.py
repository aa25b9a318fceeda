"""The per-upload channel mode: Probe reads the `channel-mode` tag of the exact version, Plan carries it.

docs/CHANNELS.md. The tag wins over the CHANNEL_MODE setting; a value that is not a channel mode is
bad input naming the tag, never silently ignored.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from typing import Any

import boto3
import numpy as np
import pytest
from moto import mock_aws
from pipeline.outcomes import UnsupportedInput
from pipeline.settings import Settings
from probe_audio import app
from probe_audio.tags import channel_mode_from_tags

from tests.unit.test_plan_job import plan_with
from tests.unit.test_probe_audio import BUCKET, LambdaContext

KEY = "calls/agent-42.wav"


def stereo_wav(seconds: float = 1.0) -> bytes:
    samples = (np.random.default_rng(1).standard_normal((int(16000 * seconds), 2)) * 3000).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(samples.tobytes())
    return buffer.getvalue()


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_NAMESPACE": "ProbeTest",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        monkeypatch.setattr(app, "s3_client", lambda: client)
        yield client


def source_of(response: dict[str, Any], body: bytes, versioned: bool = False) -> dict[str, Any]:
    version_id = response.get("VersionId") if versioned else None
    return {
        "bucket": BUCKET,
        "key": KEY,
        "etag": response["ETag"].strip('"'),
        "size": len(body),
        "version_id": version_id,
        "uri": f"s3://{BUCKET}/{KEY}",
    }


def test_an_untagged_upload_leaves_the_choice_to_the_setting(s3: Any) -> None:
    body = stereo_wav()
    source = source_of(s3.put_object(Bucket=BUCKET, Key=KEY, Body=body), body)
    assert app.handler(source, LambdaContext())["channel_mode"] is None


@pytest.mark.parametrize(("tag", "mode"), [("split", "split"), ("MIX", "mix"), (" auto ", "auto")])
def test_the_channel_mode_tag_is_read(s3: Any, tag: str, mode: str) -> None:
    # Given an upload tagged channel-mode=<tag> (values are case-insensitive)
    body = stereo_wav()
    response = s3.put_object(Bucket=BUCKET, Key=KEY, Body=body, Tagging=f"channel-mode={tag}&team=support")
    # When probed / Then the ProbeResult carries the mode
    assert app.handler(source_of(response, body), LambdaContext())["channel_mode"] == mode


def test_an_invalid_tag_value_is_bad_input_naming_the_tag(s3: Any) -> None:
    body = stereo_wav()
    response = s3.put_object(Bucket=BUCKET, Key=KEY, Body=body, Tagging="channel-mode=stereo")
    with pytest.raises(UnsupportedInput, match=r"channel-mode='stereo'.*mix, split, auto"):
        app.handler(source_of(response, body), LambdaContext())


def test_the_tag_is_read_on_the_claimed_version(s3: Any) -> None:
    # Given a versioned bucket: the claimed upload tagged split, then the key overwritten and tagged mix
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    body = stereo_wav()
    first = s3.put_object(Bucket=BUCKET, Key=KEY, Body=body, Tagging="channel-mode=split")
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=stereo_wav(2.0), Tagging="channel-mode=mix")
    # When the first version is probed / Then its own tag decides
    assert app.handler(source_of(first, body, versioned=True), LambdaContext())["channel_mode"] == "split"


def test_tag_keys_match_case_insensitively_and_other_tags_are_ignored() -> None:
    assert channel_mode_from_tags({"Channel-Mode": "split", "x": "y"}) == "split"
    assert channel_mode_from_tags({"team": "split"}) is None


def test_the_plan_carries_the_tag_over_the_setting_to_the_job() -> None:
    planned = plan_with({"CHANNEL_MODE": "mix"}, channels=2, channel_mode="split")
    assert planned.request.channel_mode == "split"
    # And the per-file job's command is the request, channel mode included
    assert '"channel_mode":"split"' in planned.command[1]
    assert plan_with({"CHANNEL_MODE": "mix"}, channels=2, channel_mode=None).request.channel_mode == "mix"
    assert plan_with({"CHANNEL_MODE": "auto"}, channels=2, channel_mode=None).request.channel_mode == "auto"


def test_an_invalid_channel_mode_setting_fails_loudly_by_name() -> None:
    with pytest.raises(ValueError, match="CHANNEL_MODE"):
        Settings.from_env({"CHANNEL_MODE": "stereo"})
