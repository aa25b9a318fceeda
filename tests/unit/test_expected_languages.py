"""Expected languages per upload (docs/LANGUAGES.md, docs/SETTINGS.md): resolved once, by the Probe, with
pipeline.upload_settings' rule (the tag `expected-languages` > the longest EXPECTED_LANGUAGES_BY_PREFIX
prefix > EXPECTED_LANGUAGES), then carried by the plan to the job as is. An unknown code is bad input
naming the tag (a tag) or a failed start naming the variable (a setting or a prefix rule)."""

from __future__ import annotations

from typing import Any

import pytest
from pipeline.contracts import TranscriptionRequest, UploadedObject
from pipeline.languages import MODEL_LANGUAGES, parse_expected_languages
from pipeline.outcomes import UnsupportedInput
from pipeline.settings import Settings
from probe_audio import app
from probe_audio.tags import expected_languages_for
from pydantic import ValidationError

from tests.unit.test_channel_mode_tag import KEY, s3, source_of, stereo_wav  # noqa: F401  (s3: a fixture)
from tests.unit.test_plan_job import plan_with
from tests.unit.test_probe_audio import BUCKET, LambdaContext


def _settings(default: str = "", by_prefix: str = "") -> Settings:
    return Settings.from_env({"EXPECTED_LANGUAGES": default, "EXPECTED_LANGUAGES_BY_PREFIX": by_prefix})


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("en", ("en",)),
        ("EN, de", ("en", "de")),
        ("en+de en", ("en", "de")),
        (" sk / cs ", ("sk", "cs")),
        ("", ()),
        ("  ", ()),
        ("Any", ()),
    ],
)
def test_a_list_is_codes_in_the_order_given_without_repeats(text: str, codes: tuple[str, ...]) -> None:
    assert parse_expected_languages(text) == codes


def test_an_unknown_code_is_named_with_the_codes_allowed() -> None:
    with pytest.raises(ValueError, match=r"klingon, zh; use ISO 639-1 codes from bg cs"):
        parse_expected_languages("en klingon zh")
    assert len(MODEL_LANGUAGES) == 25


def test_the_tag_is_read_on_the_probe(s3: Any) -> None:  # noqa: F811
    body = stereo_wav()
    tagging = "expected-languages=en+de&channel-mode=mix"
    response = s3.put_object(Bucket=BUCKET, Key=KEY, Body=body, Tagging=tagging)
    result = app.handler(source_of(response, body), LambdaContext())
    assert (result["expected_languages"], result["channel_mode"]) == (["en", "de"], "mix")


def test_an_untagged_upload_gets_the_prefix_rule_on_the_probe(s3: Any, monkeypatch: Any) -> None:  # noqa: F811
    monkeypatch.setenv("EXPECTED_LANGUAGES", "en")
    monkeypatch.setenv("EXPECTED_LANGUAGES_BY_PREFIX", f"{KEY.split('/')[0]}/=sk+cs,other/=fr")
    body = stereo_wav()
    source = source_of(s3.put_object(Bucket=BUCKET, Key=KEY, Body=body), body)
    assert app.handler(source, LambdaContext())["expected_languages"] == ["sk", "cs"]


def test_an_untagged_upload_without_any_setting_is_any_language(s3: Any) -> None:  # noqa: F811
    body = stereo_wav()
    source = source_of(s3.put_object(Bucket=BUCKET, Key=KEY, Body=body), body)
    assert app.handler(source, LambdaContext())["expected_languages"] is None


def test_a_tag_with_an_unknown_language_is_bad_input_naming_the_tag(s3: Any) -> None:  # noqa: F811
    body = stereo_wav()
    response = s3.put_object(Bucket=BUCKET, Key=KEY, Body=body, Tagging="expected-languages=en%2Bklingon")
    with pytest.raises(UnsupportedInput, match=r"expected-languages='en\+klingon'.*klingon"):
        app.handler(source_of(response, body), LambdaContext())


def test_the_tag_wins_over_the_longest_prefix_which_wins_over_the_default() -> None:
    settings = _settings("en", "calls/=de,calls/eu/=fr+it")
    assert expected_languages_for({"Expected-Languages": "PL"}, "calls/eu/a.wav", settings) == ["pl"]
    assert expected_languages_for({}, "calls/eu/a.wav", settings) == ["fr", "it"]
    assert expected_languages_for({}, "calls/us/a.wav", settings) == ["de"]
    assert expected_languages_for({"team": "fr"}, "meetings/a.wav", settings) == ["en"]
    assert expected_languages_for({}, "meetings/a.wav", _settings()) is None


def test_any_or_an_empty_tag_lifts_a_narrower_prefix_rule_or_default() -> None:
    settings = _settings("en", "calls/=de,calls/open/=any")
    assert expected_languages_for({"expected-languages": "any"}, "calls/a.wav", settings) is None
    assert expected_languages_for({"expected-languages": " "}, "calls/a.wav", settings) is None
    assert expected_languages_for({}, "calls/open/a.wav", settings) is None


def test_a_bad_prefix_rule_fails_at_start_naming_the_setting() -> None:
    with pytest.raises(ValueError, match=r"EXPECTED_LANGUAGES_BY_PREFIX"):
        _settings(by_prefix="calls/=en+xx")
    with pytest.raises(ValueError, match=r"EXPECTED_LANGUAGES_BY_PREFIX"):
        _settings(by_prefix="calls/")


def test_the_plan_carries_what_the_probe_resolved_and_never_the_setting_again() -> None:
    planned = plan_with({"EXPECTED_LANGUAGES": "cs,sk"}, expected_languages=["sk"])
    assert planned.request.expected_languages == ["sk"]
    assert '"expected_languages":["sk"]' in planned.command[1]
    # the Probe resolved "any" (or nothing): the plan does not put the stack default back
    assert (
        plan_with({"EXPECTED_LANGUAGES": "cs, SK"}, expected_languages=None).request.expected_languages
        is None
    )


def test_an_invalid_setting_fails_loudly_by_name() -> None:
    with pytest.raises(ValueError, match="EXPECTED_LANGUAGES"):
        Settings.from_env({"EXPECTED_LANGUAGES": "en,xx"})
    assert Settings.from_env({"EXPECTED_LANGUAGES": "EN+de"}).expected_languages == "en de"


def test_a_request_with_an_unknown_language_is_rejected() -> None:
    source = UploadedObject(bucket="in", key=KEY, etag="abc", uri=f"s3://in/{KEY}")
    with pytest.raises(ValidationError, match="xx"):
        TranscriptionRequest(
            source=source, output_prefix="s3://out/t/", mode="batched", expected_languages=["xx"]
        )
    request = TranscriptionRequest(
        source=source, output_prefix="s3://out/t/", mode="batched", expected_languages=["DE", "de"]
    )
    assert request.expected_languages == ["de"]
