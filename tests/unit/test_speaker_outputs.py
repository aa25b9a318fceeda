"""Every output names the diarized speakers (docs/SPEAKERS.md): SRT "[Speaker 1] " prefixes, WebVTT
`<v Speaker 1>` voice tags, one labelled text paragraph per turn, a `speaker` column in the segments
table and the speaker count in the summary Index writes to the catalog."""

from __future__ import annotations

from typing import Any

from pipeline.contracts import UploadedObject
from pipeline.formats import to_srt, to_text, to_vtt
from pipeline.segments import segment_rows
from pipeline.subtitles import MAX_LINE_CHARS, build_cues
from pipeline.transcript import TranscriptDocument
from postprocess.postprocess import summarize

from gpu_job.speakers import SpeakerTurn, assign_speakers
from gpu_job.transcript import PhaseSeconds, build_document


def timed(text: str, start: float, step: float = 0.3) -> list[dict[str, Any]]:
    return [
        {"word": w, "start": round(start + i * step, 3), "end": round(start + i * step + 0.25, 3)}
        for i, w in enumerate(text.split())
    ]


def conversation(speakers: dict[str, Any] | None = None) -> TranscriptDocument:
    """Speaker A asks, B answers, A thanks: three turns of one mono signal."""
    words = timed("where is my parcel?", 0.0) + timed("it left the depot today.", 2.0) + timed("thanks.", 5.0)
    turns = [SpeakerTurn(0.0, 1.5, 2), SpeakerTurn(1.9, 4.0, 0), SpeakerTurn(4.8, 5.5, 2)]
    document = build_document(
        source={"uri": "s3://in/call.wav", "etag": "e", "size": 1},
        media={"duration_s": 6.0, "codec": "pcm", "sample_rate": 16000, "channels": 1},
        model={"name": "m", "revision": None},
        mode="batched",
        chunking=None,
        words=assign_speakers(words, turns),
        timings=PhaseSeconds(),
        hardware={"device": "cpu"},
        speakers=speakers or {"requested": "auto", "used": "diarization", "count": 2, "model": "tiny"},
    )
    return TranscriptDocument.model_validate(document)


def test_srt_cues_open_with_the_speaker_label() -> None:
    srt = to_srt(build_cues(conversation()))
    assert "[Speaker 1] where is my parcel?" in srt
    assert "[Speaker 2] it left the depot today." in srt
    assert "[Speaker 1] thanks." in srt


def test_vtt_cues_carry_voice_tags_instead_of_text_labels() -> None:
    vtt = to_vtt(build_cues(conversation()))
    assert "<v Speaker 1>where is my parcel?" in vtt
    assert "<v Speaker 2>it left the depot today." in vtt
    assert "[Speaker" not in vtt


def test_text_has_one_labelled_paragraph_per_turn() -> None:
    assert to_text(conversation()) == (
        "[Speaker 1] where is my parcel?\n\n[Speaker 2] it left the depot today.\n\n[Speaker 1] thanks.\n"
    )


def test_a_long_turn_keeps_its_label_on_every_cue_within_the_line_width() -> None:
    words = timed(" ".join(["word"] * 60), 0.0)
    document = build_document(
        source={"uri": "s3://in/x.wav", "etag": "e", "size": 1},
        media={"duration_s": 30.0, "codec": None, "sample_rate": None, "channels": 1},
        model={"name": "m", "revision": None},
        mode="batched",
        chunking=None,
        words=assign_speakers(words, [SpeakerTurn(0.0, 30.0, 0)]),
        timings=PhaseSeconds(),
        hardware={"device": "cpu"},
    )
    cues = build_cues(TranscriptDocument.model_validate(document))
    assert len(cues) > 1
    assert all(cue.lines[0].startswith("[Speaker 1] ") for cue in cues)
    assert all(len(line) <= MAX_LINE_CHARS for cue in cues for line in cue.lines)


def test_segment_rows_and_summary_carry_the_speaker() -> None:
    transcript = conversation()
    source = UploadedObject(bucket="in", key="call.wav", etag="e", uri="s3://in/call.wav")
    rows = segment_rows(source, transcript, "2026-12-07T00:00:00.000Z")
    assert [r["speaker"] for r in rows] == [0, 1, 0]
    assert summarize(transcript).speaker_count == 2


def test_speakers_off_means_no_count_in_the_catalog() -> None:
    transcript = conversation({"requested": "off", "used": "off", "count": 0})
    assert summarize(transcript).speaker_count is None
