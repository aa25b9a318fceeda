"""The per-upload Speakers setting (docs/SPEAKERS.md): the SPEAKERS setting, overridden by the upload's
S3 object tag `speakers` or SPEAKERS_BY_PREFIX (pipeline.upload_settings' rule), read by Probe on the
exact version and carried by Plan to the job. A tag value that is not off, auto or a count 1..4 is bad
input naming the tag, like a bogus `channel-mode`; a bad prefix rule is the stack's misconfiguration."""

from __future__ import annotations

from typing import Any

import pytest
from pipeline.outcomes import UnsupportedInput
from pipeline.settings import Settings
from pipeline.speakers import MAX_SPEAKERS, parse_speakers, speakers_limit
from probe_audio import app
from probe_audio.tags import speakers_for

from tests.unit.test_channel_mode_tag import KEY, s3, source_of, stereo_wav  # noqa: F401  (s3 is a fixture)
from tests.unit.test_plan_job import plan_with
from tests.unit.test_probe_audio import BUCKET, LambdaContext


def speakers_from_tags(tags: dict[str, str], key: str = "", rules: str = "") -> str | None:
    return speakers_for(tags, key, Settings(speakers_by_prefix=rules))


@pytest.mark.parametrize(("value", "spelled"), [("off", "off"), (" AUTO ", "auto"), ("3", "3"), ("04", "4")])
def test_speakers_values_are_spelled_one_way(value: str, spelled: str) -> None:
    assert parse_speakers(value) == spelled


@pytest.mark.parametrize("value", ["0", "5", "two", "", "-1", "1.5"])
def test_other_values_are_refused_naming_the_values_allowed(value: str) -> None:
    with pytest.raises(ValueError, match=r"off, auto or a count 1\.\.4"):
        parse_speakers(value)


def test_the_limit_each_setting_gives_the_diarizer() -> None:
    assert speakers_limit("off") is None
    assert speakers_limit("auto") == MAX_SPEAKERS
    assert speakers_limit("2") == 2


def test_the_speakers_tag_is_read_and_other_tags_are_ignored() -> None:
    assert speakers_from_tags({"Speakers": "2", "team": "x"}) == "2"
    assert speakers_from_tags({"team": "2"}) is None


def test_a_key_prefix_rule_applies_below_the_tag() -> None:
    rules = "calls/=2,calls/vip/=off"
    assert speakers_from_tags({}, "calls/vip/a.wav", rules) == "off"  # the longest prefix wins
    assert speakers_from_tags({}, "calls/a.wav", rules) == "2"
    assert speakers_from_tags({"speakers": "3"}, "calls/a.wav", rules) == "3"  # the tag wins
    assert speakers_from_tags({}, "other/a.wav", rules) is None  # the SPEAKERS setting decides


def test_a_bad_prefix_rule_is_the_stacks_misconfiguration_not_bad_input() -> None:
    with pytest.raises(ValueError, match="speakers prefix calls/") as caught:
        speakers_from_tags({}, "calls/a.wav", "calls/=many")
    assert not isinstance(caught.value, UnsupportedInput)


def test_a_tagged_upload_carries_its_speakers_setting(s3: Any) -> None:  # noqa: F811
    body = stereo_wav()
    response = s3.put_object(Bucket=BUCKET, Key=KEY, Body=body, Tagging="speakers=OFF&channel-mode=mix")
    result = app.handler(source_of(response, body), LambdaContext())
    assert (result["speakers"], result["channel_mode"]) == ("off", "mix")


def test_an_invalid_speakers_tag_is_bad_input_naming_the_tag(s3: Any) -> None:  # noqa: F811
    body = stereo_wav()
    response = s3.put_object(Bucket=BUCKET, Key=KEY, Body=body, Tagging="speakers=many")
    with pytest.raises(UnsupportedInput, match=r"tag speakers='many': 'many' is not a speakers setting"):
        app.handler(source_of(response, body), LambdaContext())


def test_the_plan_carries_the_tag_over_the_setting_to_the_job() -> None:
    planned = plan_with({"SPEAKERS": "off"}, speakers="2")
    assert planned.request.speakers == "2"
    assert '"speakers":"2"' in planned.command[1]
    assert plan_with({"SPEAKERS": "off"}, speakers=None).request.speakers == "off"
    assert plan_with({"SPEAKERS": "auto"}, speakers=None).request.speakers == "auto"


def test_an_invalid_speakers_setting_fails_loudly() -> None:
    with pytest.raises(ValueError, match="speakers setting"):
        Settings.from_env({"SPEAKERS": "lots"})
    assert Settings.from_env({}).speakers == "auto"
    assert Settings.from_env({"SPEAKERS": "3"}).speakers == "3"
