"""Specification of the template's EventBridge rule: which uploads start a transcription.

The pattern is read from template.yaml (not copied) and evaluated with moto's EventBridge pattern
matcher, the same code that decides deliveries for moto's rules.
"""

from __future__ import annotations

import json

import pytest
from moto.events.models import EventPattern

from local_emulator.runner import object_created_event
from local_emulator.template import Resolver, load_template

BUCKET = "local-input"


@pytest.fixture(scope="module")
def upload_rule() -> EventPattern:
    resolver = Resolver(load_template(), "spec")
    resolver.physical["InputBucket"] = {"Ref": BUCKET}
    rule = resolver.template["Resources"]["UploadEventRule"]["Properties"]
    pattern = resolver.resolve(rule["EventPattern"])
    return EventPattern.load(json.dumps(pattern))


@pytest.mark.parametrize("key", ["a.wav", "talks/2024/keynote.MP3", "x y.m4a", "clip.mp4", "voice.ogg",
                                 "podcast.flac", "call.opus", "meeting.webm", "movie.mov", "show.mkv"])
def test_non_empty_audio_and_video_uploads_start_the_workflow(upload_rule: EventPattern, key: str) -> None:
    assert upload_rule.matches_event(object_created_event(BUCKET, key, size=1024, etag="e"))


@pytest.mark.parametrize(("key", "size", "why"), [
    ("a.wav", 0, "zero-byte object"),
    ("folder/", 0, "folder marker"),
    ("folder.wav/", 0, "folder marker with an audio-like name"),
    ("notes.txt", 10, "not audio or video"),
    ("archive.wav.zip", 10, "audio suffix not at the end"),
    ("transcript.json", 10, "not audio or video"),
])
def test_other_objects_are_ignored(upload_rule: EventPattern, key: str, size: int, why: str) -> None:
    assert not upload_rule.matches_event(object_created_event(BUCKET, key, size=size, etag="e")), why


def test_uploads_to_other_buckets_are_ignored(upload_rule: EventPattern) -> None:
    assert not upload_rule.matches_event(object_created_event("someone-else", "a.wav", size=10, etag="e"))


def test_only_object_created_events_from_s3_match(upload_rule: EventPattern) -> None:
    event = object_created_event(BUCKET, "a.wav", size=10, etag="e")
    deleted = {**event, "detail-type": "Object Deleted"}
    assert not upload_rule.matches_event(deleted)
