"""Specification of the template's ingress: which uploads start a transcription, and how.

The pattern is read from template.yaml (not copied) and evaluated with moto's EventBridge pattern
matcher, the same code that decides deliveries for moto's rules. Content decides, not the name:
every object created in the input bucket matches except folder markers; IgnoreKeySuffixes is
applied by the starter (tests/unit/test_start_execution.py), case-insensitively.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.events.models import EventPattern

from local_emulator.runner import object_created_event
from local_emulator.template import Resolver, load_template

BUCKET = "local-input"
TEMPLATE = load_template()
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]


def rule_pattern(overrides: dict[str, str] | None = None) -> EventPattern:
    resolver = Resolver(TEMPLATE, "spec", overrides or {})
    resolver.physical["InputBucket"] = {"Ref": BUCKET}
    rule = resolver.template["Resources"]["UploadEventRule"]["Properties"]
    return EventPattern.load(json.dumps(resolver.resolve(rule["EventPattern"])))


@pytest.fixture(scope="module")
def upload_rule() -> EventPattern:
    return rule_pattern()


@pytest.mark.parametrize(
    "key",
    [
        "a.wav",
        "talks/2024/keynote.MP3",
        "x y.m4a",
        "clip.mp4",
        "voice.ogg",
        "podcast.flac",
        "call.opus",
        "meeting.webm",
        "movie.mov",
        "show.mkv",
        # formats the old suffix list silently ignored (issue 10): content decides now
        "take.aiff",
        "voicemail.wma",
        "film.ac3",
        "old.avi",
        "phone.amr",
        "phone.3gp",
        "memo.caf",
        "export.dat",
        "no-extension",
        "calls/2026-12-02/agent",
        "録音/会議の記録.m4a",
        "é" * 100 + ".wav",
        "x" * 1024,
        "notes.txt",
        "transcript.json",
        "archive.wav.zip",
        ".hidden",
    ],
)
def test_every_object_starts_the_workflow(upload_rule: EventPattern, key: str) -> None:
    assert upload_rule.matches_event(object_created_event(BUCKET, key, size=1024, etag="e"))


def test_a_1024_byte_key_is_matched_url_encoded_as_s3_sends_it(upload_rule: EventPattern) -> None:
    key = "d/" + "ü" * 511  # 2 + 511 * 2 = 1024 bytes of UTF-8, the S3 maximum
    assert len(key.encode()) == 1024
    assert upload_rule.matches_event(object_created_event(BUCKET, key, size=5, etag="e"))


def test_a_zero_byte_object_starts_the_workflow_so_it_gets_a_failed_row(upload_rule: EventPattern) -> None:
    assert upload_rule.matches_event(object_created_event(BUCKET, "empty.wav", size=0, etag="e"))


@pytest.mark.parametrize("key", ["folder/", "folder.wav/", "a/b/c/", "録音/"])
def test_folder_markers_are_not_uploads(upload_rule: EventPattern, key: str) -> None:
    assert not upload_rule.matches_event(object_created_event(BUCKET, key, size=0, etag="e"))


def test_uploads_to_other_buckets_are_ignored(upload_rule: EventPattern) -> None:
    assert not upload_rule.matches_event(object_created_event("someone-else", "a.wav", size=10, etag="e"))


def test_only_object_created_events_from_s3_match(upload_rule: EventPattern) -> None:
    event = object_created_event(BUCKET, "a.wav", size=10, etag="e")
    assert not upload_rule.matches_event({**event, "detail-type": "Object Deleted"})
    assert not upload_rule.matches_event({**event, "source": "my.app"})


def test_an_input_prefix_limits_the_rule_to_keys_under_it() -> None:
    rule = rule_pattern({"InputPrefix": "incoming/"})
    assert rule.matches_event(object_created_event(BUCKET, "incoming/a.amr", size=10, etag="e"))
    assert rule.matches_event(object_created_event(BUCKET, "incoming/x", size=0, etag="e"))
    assert not rule.matches_event(object_created_event(BUCKET, "outgoing/a.wav", size=10, etag="e"))
    # One matcher per field (EventBridge ORs them): folder markers under the prefix reach the starter,
    # which drops them (tests/unit/test_start_execution.py).
    assert rule.matches_event(object_created_event(BUCKET, "incoming/sub/", size=0, etag="e"))


def test_ignored_suffixes_are_not_in_the_pattern_but_given_to_the_starter() -> None:
    # The starter reads them case-insensitively from IGNORE_KEY_SUFFIXES (Settings), set from the parameter.
    assert TEMPLATE["Parameters"]["IgnoreKeySuffixes"]["Type"] == "CommaDelimitedList"
    assert TEMPLATE["Parameters"]["IgnoreKeySuffixes"]["Default"] == ""
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["IGNORE_KEY_SUFFIXES"] == {"Fn::Join": [",", {"Ref": "IgnoreKeySuffixes"}]}
    resolver = Resolver(TEMPLATE, "spec", {"IgnoreKeySuffixes": ".txt,.json"})
    assert resolver.resolve(variables["IGNORE_KEY_SUFFIXES"]) == ".txt,.json"
    assert rule_pattern({"IgnoreKeySuffixes": ".txt"}).matches_event(
        object_created_event(BUCKET, "notes.txt", size=10, etag="e")
    )


# ---------------------------------------------------------------- rule -> queue -> starter
def test_the_rule_queues_every_upload_with_its_retries_and_dead_letter_queue() -> None:
    [target] = RESOURCES["UploadEventRule"]["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["UploadQueue", "Arn"]}
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["UploadEventDeadLetterQueue", "Arn"]}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 20, "MaximumEventAgeInSeconds": 86400}
    policy = RESOURCES["UploadQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    [allow] = [s for s in policy if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"} and allow["Action"] == "sqs:SendMessage"
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["UploadEventRule", "Arn"]}}}
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in policy
    )


def test_the_upload_queue_is_encrypted_and_parks_what_the_starter_cannot_start() -> None:
    queue = RESOURCES["UploadQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    dlq_arn = {"Fn::GetAtt": ["UploadEventDeadLetterQueue", "Arn"]}
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == dlq_arn
    assert 1 < int(queue["RedrivePolicy"]["maxReceiveCount"]) <= 10
    starter = RESOURCES["StartExecutionFunction"]["Properties"]
    # AWS: the source queue's visibility timeout should be at least six times the function's timeout
    assert int(queue["VisibilityTimeout"]) >= 6 * int(starter["Timeout"])
    # A dead letter lives longer than the message it was (SQS keeps the original enqueue time)
    dlq = RESOURCES["UploadEventDeadLetterQueue"]["Properties"]
    assert int(dlq["MessageRetentionPeriod"]) > int(queue["MessageRetentionPeriod"])


def test_the_starter_reads_the_queue_with_partial_batch_responses() -> None:
    starter = RESOURCES["StartExecutionFunction"]
    assert starter["Metadata"]["BuildMethod"] == "makefile"
    props = starter["Properties"]
    assert props["Handler"] == "start_execution.app.handler"
    [source] = props["Events"].values()
    assert source["Type"] == "SQS"
    assert source["Properties"]["Queue"] == {"Fn::GetAtt": ["UploadQueue", "Arn"]}
    assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 1 <= int(source["Properties"]["BatchSize"]) <= 10
    assert props["Environment"]["Variables"]["STATE_MACHINE_ARN"] == {"Ref": "TranscribeStateMachine"}


def test_the_starter_may_start_executions_of_the_transcribe_state_machine_only() -> None:
    [policy] = RESOURCES["StartExecutionFunction"]["Properties"]["Policies"]
    [statement] = policy["Statement"]
    assert statement["Action"] == "states:StartExecution"
    assert statement["Resource"] == {"Ref": "TranscribeStateMachine"}
    assert "UploadEventRuleRole" not in RESOURCES  # an SQS target needs no role
