"""Specification of the planner (plan_job): mode, GPU size class, names and the Batch command."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from pipeline.contracts import Plan, PlanRequest, ProbeResult, TranscriptionRequest, UploadedObject
from pipeline.gpu_classes import GPU_CLASSES
from pipeline.naming import JOB_NAME_MAX, job_name
from pipeline.outcomes import DurationOutOfRange, NoAudioStream
from pipeline.settings import Settings
from plan_job import memory_model
from plan_job.planner import plan
from plan_job.wiring import PlannerConfigError, load_wiring
from pydantic import ValidationError

DEFAULTS = Settings()
DEFAULT_FULL_MAX_S = DEFAULTS.full_max_s
DEFAULT_LOCAL_ATTENTION_MAX_S = DEFAULTS.local_attention_max_s
DEFAULT_MAX_DURATION_S = DEFAULTS.max_duration_s

ENV = {
    # Most specs here are of the rule batched mode falls back to above BATCHED_MAX_S: switch it off.
    "BATCHED_MAX_S": "0",
    "OUTPUT_BUCKET": "out-bucket",
    "JOB_QUEUE_SMALL": "arn:queue/small",
    "JOB_QUEUE_MEDIUM": "arn:queue/medium",
    "JOB_QUEUE_LARGE": "arn:queue/large",
    "JOB_DEFINITION_BATCHED": "arn:jobdef/batched",
    "JOB_DEFINITION_FULL": "arn:jobdef/full",
    "JOB_DEFINITION_LOCAL_ATTENTION": "arn:jobdef/local",
    "JOB_DEFINITION_STREAMING": "arn:jobdef/streaming",
}
SOURCE = UploadedObject(
    bucket="in", key="talks/2026/keynote.mp3", etag="abc", uri="s3://in/talks/2026/keynote.mp3"
)


def probed(duration_s: Any, has_audio: bool = True) -> ProbeResult:
    return ProbeResult(
        duration_s=duration_s,
        container="mp3",
        codec="mp3",
        sample_rate=44100,
        channels=2,
        bitrate=128000,
        size=1000,
        has_audio=has_audio,
    )


def plan_for(duration_s: float | None, **env: str) -> dict[str, Any]:
    """The Plan as the state machine sees it (JSON)."""
    settings = {**ENV, **env}
    request = PlanRequest(source=SOURCE, probe=probed(duration_s))
    return plan(request, Settings.from_env(settings), load_wiring(settings)).model_dump(mode="json")


def plan_with(env: dict[str, str], channels: int = 1, **probed_settings: Any) -> Plan:
    """The Plan of a 60 s wav upload whose Probe read ``probed_settings`` (the per-upload tags: channel_mode,
    expected_languages, speakers...) where the template's settings are ENV plus ``env``."""
    probe = ProbeResult(
        duration_s=60.0,
        container="wav",
        codec="pcm_s16le",
        sample_rate=16000,
        channels=channels,
        bitrate=256000 * channels,
        size=1_920_000 * channels + 44,
        has_audio=True,
        **probed_settings,
    )
    return plan(PlanRequest(source=SOURCE, probe=probe), Settings.from_env({**ENV, **env}), load_wiring(ENV))


def request_of(result: dict[str, Any]) -> TranscriptionRequest:
    """What the per-file Batch job will parse from its command."""
    flag, payload = result["command"]
    assert flag == "--request"
    return TranscriptionRequest.model_validate_json(payload)


# ---------------------------------------------------------------- memory model
def test_memory_model_reproduces_the_design_measurements() -> None:
    # docs/DESIGN.md#planner-mode-gpu-size-class-path: full attention ~10 min on a 24 GB L4,
    # ~24 min on an 80 GB A100; local attention ~2.5 h on 24 GB
    assert memory_model.fits(memory_model.full_attention_gb(600), 24)
    assert not memory_model.fits(memory_model.full_attention_gb(660), 24)
    assert memory_model.fits(memory_model.full_attention_gb(24 * 60), 80)
    assert not memory_model.fits(memory_model.full_attention_gb(26 * 60), 80)
    assert memory_model.fits(memory_model.local_attention_gb(9000), 24)
    assert not memory_model.fits(memory_model.local_attention_gb(9900), 24)


def test_streaming_memory_does_not_grow_with_audio_length() -> None:
    assert memory_model.estimate_gb("streaming", 60, 20, 5, 3) == memory_model.estimate_gb(
        "streaming", 86400, 20, 5, 3
    )


# ---------------------------------------------------------------- default thresholds (boundaries inclusive)
@pytest.mark.parametrize(
    ("duration_s", "mode"),
    [
        (1.0, "full"),
        (DEFAULT_FULL_MAX_S, "full"),
        (DEFAULT_FULL_MAX_S + 0.001, "local_attention"),
        (DEFAULT_LOCAL_ATTENTION_MAX_S, "local_attention"),
        (DEFAULT_LOCAL_ATTENTION_MAX_S + 0.001, "streaming"),
        (DEFAULT_MAX_DURATION_S, "streaming"),
    ],
)
def test_defaults_pick_the_most_accurate_mode_that_fits_a_small_gpu(duration_s: float, mode: str) -> None:
    result = plan_for(duration_s)

    assert result["mode"] == mode
    assert result["size_class"] == "small"
    assert result["job_queue"] == ENV["JOB_QUEUE_SMALL"]
    assert result["instance_types"] == list(GPU_CLASSES["small"].instance_types)
    assert result["estimated_gpu_memory_gb"] <= GPU_CLASSES["small"].gpu_memory_gb


@pytest.mark.parametrize(
    ("mode", "definition"),
    [
        ("full", "JOB_DEFINITION_FULL"),
        ("local_attention", "JOB_DEFINITION_LOCAL_ATTENTION"),
        ("streaming", "JOB_DEFINITION_STREAMING"),
    ],
)
def test_each_mode_uses_its_own_job_definition(mode: str, definition: str) -> None:
    durations = {"full": 60, "local_attention": 3600, "streaming": 20000}

    assert plan_for(durations[mode])["job_definition"] == ENV[definition]


@pytest.mark.parametrize("duration_s", [0, DEFAULT_MAX_DURATION_S + 1])
def test_durations_outside_the_allowed_range_are_bad_input(duration_s: float) -> None:
    with pytest.raises(DurationOutOfRange):
        plan_for(duration_s)


@pytest.mark.parametrize("duration_s", [-1, float("nan"), "long"])
def test_a_duration_no_probe_can_report_breaks_the_probe_result_contract(duration_s: object) -> None:
    # Not the upload's fault: a ProbeResult like this is our own bug, an internal error
    with pytest.raises(ValidationError):
        probed(duration_s)


def test_a_probe_without_audio_is_bad_input() -> None:
    with pytest.raises(NoAudioStream):
        plan(PlanRequest(source=SOURCE, probe=probed(10, has_audio=False)), DEFAULTS, load_wiring(ENV))


def test_an_unknown_duration_is_streamed_because_streaming_fits_any_length() -> None:
    result = plan_for(None)

    assert (result["mode"], result["size_class"]) == ("streaming", "small")


# ---------------------------------------------------------------- env overrides
def test_raising_full_max_buys_accuracy_with_a_bigger_gpu() -> None:
    # Given an operator allows full attention up to 24 min
    result = plan_for(20 * 60, FULL_MAX_S="1440")

    # Then a 20 min file runs full attention on the 80 GB class (no smaller class fits it)
    assert (result["mode"], result["size_class"]) == ("full", "large")
    assert result["job_queue"] == ENV["JOB_QUEUE_LARGE"]


def test_a_medium_gpu_is_chosen_when_it_is_the_smallest_that_fits() -> None:
    result = plan_for(15 * 60, FULL_MAX_S="1440")

    assert (result["mode"], result["size_class"]) == ("full", "medium")


def test_full_attention_too_big_for_any_gpu_falls_back_to_local_attention() -> None:
    # Given full attention allowed for 1 h, which no GPU class holds
    result = plan_for(3600, FULL_MAX_S="3600")

    assert (result["mode"], result["size_class"]) == ("local_attention", "small")


def test_local_attention_beyond_a_small_gpu_moves_up_a_class() -> None:
    result = plan_for(5 * 3600, LOCAL_ATTENTION_MAX_S=str(6 * 3600))

    assert (result["mode"], result["size_class"]) == ("local_attention", "medium")


def test_max_duration_and_chunking_are_overridable() -> None:
    with pytest.raises(DurationOutOfRange):
        plan_for(3601, MAX_DURATION_S="3600")

    result = plan_for(20000, CHUNK_S="10", LEFT_S="2.5", RIGHT_S="1")

    assert result["request"]["chunking"] == {"chunk_s": 10.0, "left_s": 2.5, "right_s": 1.0}
    assert request_of(result).model_dump(mode="json")["chunking"] == result["request"]["chunking"]


def test_a_non_numeric_override_is_a_configuration_error_naming_the_variable() -> None:
    with pytest.raises(ValueError, match="FULL_MAX_S"):
        Settings.from_env({**ENV, "FULL_MAX_S": "ten minutes"})


# ---------------------------------------------------------------- the Plan shape
def test_the_plan_carries_everything_transcribe_and_index_need() -> None:
    result = plan_for(20000)

    # The request names exactly the claimed upload, where to write and how to run
    request = request_of(result)
    assert request.source == SOURCE
    assert request.output_prefix == "s3://out-bucket/transcripts/talks/2026/keynote.mp3/"
    assert request.mode == "streaming"
    assert request.model_dump(mode="json")["chunking"] == DEFAULTS_WINDOW
    # And the command is that same request, the one gpu_job will run
    assert request.model_dump(mode="json") == result["request"]
    assert result["path"] == "job"
    assert result["price_per_hour_usd"] == GPU_CLASSES["small"].price_per_hour_usd
    assert result["duration_s"] == 20000


DEFAULTS_WINDOW = {"chunk_s": 20.0, "left_s": 5.0, "right_s": 3.0}


def test_non_streaming_plans_have_no_chunking() -> None:
    result = plan_for(60)

    assert result["request"]["chunking"] is None
    assert request_of(result).mode == "full"


# ---------------------------------------------------------------- job names
@dataclass(frozen=True)
class NameCase:
    uri: str
    etag: str


NAME_CASES = [
    NameCase("s3://in/a.mp3", "e1"),
    NameCase("s3://in/über ünïcode/ファイル (1).m4a", "e1"),
    NameCase("s3://in/" + "deep/" * 60 + "file.wav", "e1"),
    NameCase("s3://in/---", "e1"),
    NameCase("s3://in/" + "x" * 1024, "e1"),
]


@pytest.mark.parametrize("case", NAME_CASES)
def test_job_names_are_valid_for_batch(case: NameCase) -> None:
    name = job_name(case.uri, case.etag)

    assert len(name) <= JOB_NAME_MAX
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name)


def test_job_names_keep_the_file_name_and_differ_per_object_version() -> None:
    assert "keynote-mp3" in job_name(SOURCE.uri, "a")
    assert job_name(SOURCE.uri, "a") != job_name(SOURCE.uri, "b")
    assert job_name("s3://in/a b.mp3", "e") != job_name("s3://in/a_b.mp3", "e")


# ---------------------------------------------------------------- deployment settings
@pytest.mark.parametrize("missing", ["OUTPUT_BUCKET", "JOB_QUEUE_SMALL", "JOB_DEFINITION_BATCHED"])
def test_a_missing_setting_the_plan_needs_is_reported_by_name(missing: str) -> None:
    env = {k: v for k, v in ENV.items() if k != missing}

    with pytest.raises(PlannerConfigError, match=missing):
        plan(PlanRequest(source=SOURCE, probe=probed(60)), DEFAULTS, load_wiring(env))


def test_an_unused_size_class_need_not_be_configured() -> None:
    env = {k: v for k, v in ENV.items() if k != "JOB_QUEUE_LARGE"}

    planned = plan(PlanRequest(source=SOURCE, probe=probed(60)), DEFAULTS, load_wiring(env))

    assert planned.size_class == "small"


def test_instance_types_follow_the_template_parameters_when_given() -> None:
    assert plan_for(60, INSTANCE_TYPES_SMALL="g6.xlarge, g6.2xlarge")["instance_types"] == [
        "g6.xlarge",
        "g6.2xlarge",
    ]


@pytest.mark.parametrize("duration_s", [1.0, 600.0, 9001.0, 86400.0, None])
def test_by_default_every_accepted_length_is_batched_on_the_smallest_gpu(duration_s: float | None) -> None:
    # Given the default BATCHED_MAX_S (every accepted length) / When any upload is planned
    result = plan_for(duration_s, BATCHED_MAX_S="")
    # Then it is batched (windows of bounded length: memory does not grow with the file) on the small class
    assert result["mode"] == "batched"
    assert result["size_class"] == "small"
    assert result["job_definition"] == "arn:jobdef/batched"
    assert result["request"]["chunking"] is None


def test_below_batched_max_the_engine_serves_and_above_it_the_older_rule_does() -> None:
    # Given BATCHED_MAX_S lowered to 30 min
    modes = [plan_for(d, BATCHED_MAX_S="1800")["mode"] for d in (1800, 1801, 9001, None)]
    # Then 30 min is batched, longer files get local attention / streaming, an unknown length streams
    assert modes == ["batched", "local_attention", "streaming", "streaming"]
