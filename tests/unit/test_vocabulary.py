"""Custom vocabularies on the Lambda side: the file syntax, the limits, the resolution rule, the pin.

docs/VOCABULARY.md. The Probe resolves which vocabulary an upload gets (its tag `vocabulary`, else the
longest VOCABULARY_BY_PREFIX prefix, else the VOCABULARY setting), reads it, checks it and pins the
version it read; Plan hands that pin to the job. Every way a vocabulary is unusable is typed bad input.
"""

from __future__ import annotations

from typing import Any

import pytest
from pipeline.contracts import PlanRequest, ProbeResult
from pipeline.outcomes import VocabularyEmpty, VocabularyInvalid, VocabularyNotFound, VocabularyTooLarge
from pipeline.settings import Settings
from pipeline.vocabulary import Phrase, parse, read_current, render, resolve_name, vocabulary_key
from plan_job.planner import plan
from plan_job.wiring import load_wiring
from probe_audio import app

from tests.unit.test_channel_mode_tag import KEY, s3, source_of, stereo_wav  # noqa: F401  (s3: a fixture)
from tests.unit.test_plan_job import ENV
from tests.unit.test_probe_audio import BUCKET, LambdaContext

SETTINGS = Settings()


def test_one_phrase_per_line_with_an_optional_weight_after_the_last_bar() -> None:
    body = b"# brands\n\n  Parakeet  TDT \nacetaminophen | 2.5\nAT|T | 3\nParakeet TDT|4\n"
    assert parse(body, "v", SETTINGS) == (
        Phrase("Parakeet TDT", 4.0),  # blanks collapsed; a duplicate keeps its largest weight
        Phrase("acetaminophen", 2.5),
        Phrase("AT|T", 3.0),  # only the last bar separates the weight
    )


def test_render_writes_back_what_parse_reads() -> None:
    phrases = (Phrase("casa", 10.0), Phrase("New York"))
    assert render(phrases) == "casa | 10\nNew York\n"
    assert parse(render(phrases).encode(), "v", SETTINGS) == phrases


@pytest.mark.parametrize(
    ("body", "error", "match"),
    [
        (b"# nothing\n\n   \n", VocabularyEmpty, "holds no phrase"),
        (b"".join(b"p%d\n" % i for i in range(1001)), VocabularyTooLarge, "VOCABULARY_MAX_PHRASES=1000"),
        (b"x" * 101 + b"\n", VocabularyTooLarge, "101 characters.*VOCABULARY_MAX_PHRASE_CHARS=100"),
        (b"casa | heavy\n", VocabularyInvalid, "line 1: weight 'heavy'"),
        (b"ok\ncasa | 0\n", VocabularyInvalid, "line 2: weight 0 is outside"),
        (b"casa | 51\n", VocabularyInvalid, "outside \\(0, 50\\]"),
        (b" | 2\n", VocabularyInvalid, "a weight without a phrase"),
        (b"caf\xe9\n", VocabularyInvalid, "not UTF-8"),
    ],
)
def test_every_unusable_vocabulary_is_typed_bad_input(
    body: bytes, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        parse(body, "v", SETTINGS)


def test_the_limits_are_settings() -> None:
    small = Settings(VOCABULARY_MAX_PHRASES=2, VOCABULARY_MAX_PHRASE_CHARS=5)
    assert len(parse(b"a\nb\n", "v", small)) == 2
    with pytest.raises(VocabularyTooLarge):
        parse(b"a\nb\nc\n", "v", small)
    with pytest.raises(VocabularyTooLarge):
        parse(b"abcdef\n", "v", small)


def test_the_tag_wins_over_the_longest_prefix_which_wins_over_the_default() -> None:
    settings = Settings(
        VOCABULARY="general", VOCABULARY_BY_PREFIX="calls/=support, calls/clinic/=drugs,x/=none"
    )
    assert resolve_name({}, "other/a.wav", settings) == "general"
    assert resolve_name({}, "calls/a.wav", settings) == "support"
    assert resolve_name({}, "calls/clinic/a.wav", settings) == "drugs"
    assert resolve_name({"Vocabulary": " brands "}, "calls/clinic/a.wav", settings) == "brands"
    # `none` opts out, at every level
    assert resolve_name({"vocabulary": "NONE"}, "calls/a.wav", settings) is None
    assert resolve_name({}, "x/a.wav", settings) is None
    assert resolve_name({}, "a.wav", SETTINGS) is None


def test_a_name_that_breaks_the_name_rule_is_bad_input() -> None:
    with pytest.raises(VocabularyInvalid, match="not valid"):
        resolve_name({"vocabulary": "../secrets"}, KEY, SETTINGS)
    assert vocabulary_key("drug-names_v2") == "vocabularies/drug-names_v2.txt"


def test_reading_pins_the_version_read(s3: Any) -> None:  # noqa: F811
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=BUCKET, Key="vocabularies/brands.txt", Body=b"Parakeet\n")
    ref, phrases = read_current(s3, BUCKET, "brands", SETTINGS)
    assert phrases == (Phrase("Parakeet"),) and ref.phrases == 1
    assert ref.object.version_id == first["VersionId"]
    assert ref.object.etag == first["ETag"].strip('"')
    assert ref.object.uri == f"s3://{BUCKET}/vocabularies/brands.txt"


def test_a_missing_vocabulary_is_bad_input_naming_it(s3: Any) -> None:  # noqa: F811
    with pytest.raises(VocabularyNotFound, match="'absent' does not exist"):
        read_current(s3, BUCKET, "absent", SETTINGS)


def test_the_probe_resolves_checks_and_pins_and_the_plan_hands_it_to_the_job(
    s3: Any,  # noqa: F811  (the imported fixture)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a vocabulary in the vocabulary bucket and an upload tagged with its name
    monkeypatch.setenv("VOCABULARY_BUCKET", BUCKET)
    put = s3.put_object(Bucket=BUCKET, Key="vocabularies/support.txt", Body=b"casa | 10\nrefund\n")
    body = stereo_wav()
    source = source_of(s3.put_object(Bucket=BUCKET, Key=KEY, Body=body, Tagging="vocabulary=support"), body)
    # When probed
    probed = ProbeResult.model_validate(app.handler(source, LambdaContext()))
    # Then the ProbeResult names the exact bytes it checked
    assert probed.vocabulary is not None
    assert (probed.vocabulary.name, probed.vocabulary.phrases) == ("support", 2)
    assert probed.vocabulary.object.etag == put["ETag"].strip('"')
    # And the plan's request carries that pin to the job
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    planned = plan(
        PlanRequest.model_validate({"source": source, "probe": probed.model_dump()}),
        Settings.from_env(),
        load_wiring(),
    )
    assert planned.request.vocabulary == probed.vocabulary


def test_an_upload_that_gets_an_empty_vocabulary_fails_the_probe(
    s3: Any,  # noqa: F811  (the imported fixture)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VOCABULARY_BUCKET", BUCKET)
    monkeypatch.setenv("VOCABULARY", "blank")
    s3.put_object(Bucket=BUCKET, Key="vocabularies/blank.txt", Body=b"# todo\n")
    body = stereo_wav()
    source = source_of(s3.put_object(Bucket=BUCKET, Key=KEY, Body=body), body)
    with pytest.raises(VocabularyEmpty):
        app.handler(source, LambdaContext())
