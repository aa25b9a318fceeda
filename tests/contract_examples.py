"""One upload's journey as contract model instances, for specs that need realistic state data.

Built with the real planner and summariser where one exists, so the examples are what the
states produce, not hand-copied shapes that could drift from them.
"""

from __future__ import annotations

from pipeline.contracts import (
    JobResult,
    Outputs,
    Plan,
    PlanRequest,
    PostprocessResult,
    ProbeResult,
    UploadedObject,
)
from pipeline.settings import Settings
from pipeline.transcript import TranscriptDocument
from plan_job.planner import plan
from plan_job.wiring import load_wiring

OUTPUT_BUCKET = "media-out"
WIRING_ENV = {
    "OUTPUT_BUCKET": OUTPUT_BUCKET,
    **{
        f"JOB_QUEUE_{size}": f"arn:aws:batch:us-east-1:123456789012:job-queue/{size.lower()}"
        for size in ("SMALL", "MEDIUM", "LARGE")
    },
    **{
        f"JOB_DEFINITION_{mode}": f"arn:aws:batch:us-east-1:123456789012:job-definition/{mode.lower()}:1"
        for mode in ("BATCHED", "FULL", "LOCAL_ATTENTION", "STREAMING")
    },
}
TIMINGS = {"download": 1.5, "decode": 2.25, "load": 12.0, "inference": 300.125, "total": 316.0}


def uploaded(key: str = "talks/a talk.mp3", etag: str = "abc123") -> UploadedObject:
    return UploadedObject(bucket="media-in", key=key, etag=etag, size=123456, uri=f"s3://media-in/{key}")


def probed(duration_s: float | None = 3599.5) -> ProbeResult:
    return ProbeResult(
        duration_s=duration_s,
        container="mp3",
        codec="mp3",
        sample_rate=44100,
        channels=2,
        bitrate=128000,
        size=123456,
        has_audio=True,
    )


def planned(
    source: UploadedObject | None = None,
    duration_s: float | None = 3599.5,
    output_bucket: str = OUTPUT_BUCKET,
) -> Plan:
    request = PlanRequest(source=source or uploaded(), probe=probed(duration_s))
    return plan(request, Settings(), load_wiring({**WIRING_ENV, "OUTPUT_BUCKET": output_bucket}))


def job_done(job_id: str = "job-9") -> JobResult:
    return JobResult(job_id=job_id, status="SUCCEEDED")


def transcript_document(source: UploadedObject | None = None, mode: str = "local_attention") -> dict:
    """transcript.json as gpu_job writes it (a dict: what is on S3)."""
    source = source or uploaded()
    words = [{"start": 0.0, "end": 0.4, "word": "hallo"}, {"start": 0.5, "end": 1.0, "word": "welt"}]
    return {
        "schema_version": "1.1",
        "source": {"uri": source.uri, "etag": source.etag, "size": source.size},
        "media": {"duration_s": 3599.5, "codec": "mp3", "sample_rate": 44100, "channels": 2},
        "model": {"name": "nvidia/parakeet-tdt-0.6b-v3", "revision": None},
        "mode": mode,
        "chunking": None,
        "language": "de",
        "text": "hallo welt",
        "segments": [
            {"id": 0, "start": 0.0, "end": 1.0, "text": "hallo welt", "words": [dict(w) for w in words]}
        ],
        "words": words,
        "timings": TIMINGS,
        "hardware": {"device": "cuda", "gpu": "NVIDIA L4", "dtype": "bfloat16"},
    }


def postprocessed(the_plan: Plan | None = None) -> PostprocessResult:
    from postprocess.postprocess import summarize

    the_plan = the_plan or planned()
    prefix, key = the_plan.request.output_prefix, the_plan.request.source.key
    outputs = Outputs(
        transcript_json=prefix + "transcript.json",
        srt=prefix + "transcript.srt",
        vtt=prefix + "transcript.vtt",
        txt=prefix + "transcript.txt",
        segments_jsonl=f"s3://{OUTPUT_BUCKET}/segments/dt=2026-01-01/{key}.jsonl",
    )
    document = TranscriptDocument.model_validate(transcript_document(the_plan.request.source, the_plan.mode))
    return PostprocessResult(outputs=outputs, summary=summarize(document))
