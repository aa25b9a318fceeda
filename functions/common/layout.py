"""Where outputs live in the output bucket (docs/CONTRACTS.md), in one place for every function."""

from __future__ import annotations

from pipeline.s3uri import format_s3_uri, join_s3_uri

TRANSCRIPT_JSON = "transcript.json"
TRANSCRIPT_SRT = "transcript.srt"
TRANSCRIPT_VTT = "transcript.vtt"
TRANSCRIPT_TXT = "transcript.txt"
ERROR_JSON = "error.json"


def output_prefix(output_bucket: str, key: str) -> str:
    """``s3://<bucket>/transcripts/<source key>/``: the key keeps its folders, so outputs mirror inputs."""
    return format_s3_uri(output_bucket, f"transcripts/{key}/")


SEGMENTS_PREFIX = "segments/"
PARTITION_COLUMN = "dt"  # the segments table's partition (template.yaml SegmentsTable projection)


def segments_uri(output_bucket: str, key: str, transcribed_at: str) -> str:
    """Rows of the Athena/Glue segments table for one source file:
    ``segments/dt=<UTC date of transcribed_at>/<source key>.jsonl``.

    The date folder is the table's partition (Athena partition projection), so a search ``--since`` a
    date reads only the files of the days after it (docs/SEARCH.md)."""
    partition = f"{PARTITION_COLUMN}={transcribed_at[:10]}"
    return format_s3_uri(output_bucket, f"{SEGMENTS_PREFIX}{partition}/{key}.jsonl")


def output_file(prefix: str, name: str) -> str:
    return join_s3_uri(prefix, name)
