"""Specification of `parakeet search`: parakeet_cli/sql/search_segments.sql on DuckDB over segment lines
laid out as the table's partitions, and the same SQL text sent to Athena with its parameters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from pipeline.segments import COLUMNS

from parakeet_cli import search
from parakeet_cli.exits import AwsError, UsageError
from parakeet_cli.search import (
    AthenaBackend,
    DuckDbBackend,
    SearchQuery,
    query_segment_files,
    search_segments,
    search_sql,
)

IN = "media-in"


def row(
    key: str,
    segment_id: int,
    start_s: float,
    text: str,
    transcribed_at: str,
    language: str | None = "en",
    etag: str = "e1",
    speaker: int | None = None,
) -> dict[str, Any]:
    """One segments-table row (every column of pipeline.segments.COLUMNS)."""
    values = {
        "source_uri": f"s3://{IN}/{key}",
        "etag": etag,
        "segment_id": segment_id,
        "start_s": start_s,
        "end_s": start_s + 1.5,
        "text": text,
        "channel": None,
        "speaker": speaker,
        "language": language,
        "confidence": 0.9,
        "mode": "batched",
        "model": "nvidia/parakeet-tdt-0.6b-v3",
        "transcribed_at": transcribed_at,
    }
    assert list(values) == [name for name, _ in COLUMNS]
    return values


def write_upload(root: Path, key: str, texts: list[str], transcribed_at: str, **fields: Any) -> None:
    """One upload's segment file where postprocess puts it: dt=<UTC date of transcribed_at>/<key>.jsonl."""
    path = root / f"dt={transcribed_at[:10]}" / f"{key}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    speakers = fields.pop("speakers", None)
    lines = [
        row(
            key, i, 2.0 * i, text, transcribed_at, **fields, speaker=None if speakers is None else speakers[i]
        )
        for i, text in enumerate(texts)
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


def find(root: Path, phrase: str, **options: Any) -> list[tuple[str, float, str]]:
    hits = query_segment_files(root, SearchQuery.of(phrase, **options))
    return [(h["source_uri"].removeprefix(f"s3://{IN}/"), h["start_s"], h["text"]) for h in hits]


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """Three files on two days, in two languages."""
    write_upload(
        tmp_path,
        "calls/b.wav",
        ["Good morning.", "Your ORDER is late.", "Sorry about the order."],
        "2026-11-30T09:00:00.000Z",
    )
    write_upload(tmp_path, "calls/a.wav", ["I want to cancel my order."], "2026-12-01T10:00:00.000Z")
    write_upload(
        tmp_path,
        "interviews/c.wav",
        ["Die Bestellung ist spät.", "order nummer zwei"],
        "2026-12-02T11:00:00.000Z",
        language="de",
    )
    return tmp_path


def test_a_phrase_matches_in_any_case_ordered_by_file_then_start(archive: Path) -> None:
    # When searching a word that is spoken in three files, in several cases
    hits = find(archive, "Order")

    # Then every segment saying it answers, file by file, in time order within a file
    assert hits == [
        ("calls/a.wav", 0.0, "I want to cancel my order."),
        ("calls/b.wav", 2.0, "Your ORDER is late."),
        ("calls/b.wav", 4.0, "Sorry about the order."),
        ("interviews/c.wav", 2.0, "order nummer zwei"),
    ]
    # And a phrase of several words matches as a whole
    assert find(archive, "your order is") == [("calls/b.wav", 2.0, "Your ORDER is late.")]


def test_the_language_filter_keeps_that_languages_transcripts(archive: Path) -> None:
    assert find(archive, "order", language="DE") == [("interviews/c.wav", 2.0, "order nummer zwei")]
    english = find(archive, "order", language="en")
    assert [h[0] for h in english] == ["calls/a.wav", "calls/b.wav", "calls/b.wav"]


def test_the_speaker_filter_keeps_what_that_speaker_said(tmp_path: Path) -> None:
    # Given a diarized call where two speakers both say "order"
    write_upload(
        tmp_path,
        "calls/d.wav",
        ["where is my order", "your order shipped", "thanks for the order"],
        "2026-12-03T09:00:00.000Z",
        speakers=[0, 1, 0],
    )
    # Then --speaker narrows the hits to one voice (0-based in the query, Speaker 1 = 0)
    assert [h[1] for h in find(tmp_path, "order", speaker=1)] == [2.0]
    assert [h[1] for h in find(tmp_path, "order", speaker=0)] == [0.0, 4.0]
    assert [h[1] for h in find(tmp_path, "order")] == [0.0, 2.0, 4.0]


def test_since_keeps_the_files_transcribed_on_or_after_that_date(archive: Path) -> None:
    assert [h[0] for h in find(archive, "order", since="2026-12-01")] == ["calls/a.wav", "interviews/c.wav"]
    assert find(archive, "order", since="2026-12-03") == []


def test_limit_caps_the_hits_in_file_then_time_order(archive: Path) -> None:
    assert find(archive, "order", limit=2) == [
        ("calls/a.wav", 0.0, "I want to cancel my order."),
        ("calls/b.wav", 2.0, "Your ORDER is late."),
    ]


def test_a_phrase_nobody_said_finds_nothing(archive: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    assert find(archive, "refund") == []
    # And wildcards and quotes are literal text, not patterns or SQL
    assert find(archive, "%") == [] and find(archive, "_") == [] and find(archive, "o'clock") == []
    # And an archive without any segment file yet is no error
    assert find(tmp_path_factory.mktemp("empty"), "order") == []


def test_only_the_newest_upload_of_a_key_answers(tmp_path: Path) -> None:
    # Given a key transcribed on one day, then overwritten and transcribed again two days later
    # (the old upload's file stays in its own day's folder)
    write_upload(
        tmp_path,
        "calls/a.wav",
        ["the old words about a refund", "more old words"],
        "2026-11-28T08:00:00.000Z",
        etag="old",
        language="de",
    )
    write_upload(tmp_path, "calls/a.wav", ["the new words"], "2026-11-30T08:00:00.000Z", etag="new")

    # Then the old upload's words are not found, the new upload's are
    assert find(tmp_path, "refund") == []
    assert find(tmp_path, "words") == [("calls/a.wav", 0.0, "the new words")]
    # And no filter brings the old upload back: not its language, not a since before the overwrite
    assert find(tmp_path, "old", language="de") == []
    assert find(tmp_path, "old", since="2026-11-01") == []
    # And a retry of the same upload on the same day overwrote its file: one set of rows per key
    write_upload(tmp_path, "calls/a.wav", ["the new words, again"], "2026-11-30T09:00:00.000Z", etag="new")
    assert find(tmp_path, "new words") == [("calls/a.wav", 0.0, "the new words, again")]


@pytest.mark.parametrize(
    ("phrase", "options", "message"),
    [
        ("  ", {}, "phrase"),
        ("order", {"limit": 0}, "--limit"),
        ("order", {"limit": 5000}, "--limit"),
        ("order", {"since": "last tuesday"}, "--since"),
        ("order", {"speaker": -1}, "--speaker"),
    ],
)
def test_bad_searches_are_usage_errors(phrase: str, options: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        SearchQuery.of(phrase, **options)


def test_since_takes_a_date_or_a_relative_span() -> None:
    assert SearchQuery.of("x", since="2026-12-01").since == "2026-12-01"
    assert SearchQuery.of("x", since="2026-12-01T23:00:00Z").since == "2026-12-01"
    assert len(SearchQuery.of("x", since="7d").since or "") == 10
    assert SearchQuery.of("x").since is None


def test_hits_carry_the_file_the_time_range_and_a_get_command(archive: Path) -> None:
    class Files:
        def rows(self, query: SearchQuery) -> list[dict[str, Any]]:
            return query_segment_files(archive, query)

    # Given a file whose key has a space, and one in another bucket than the stack's input bucket
    write_upload(archive, "talks/key note.wav", ["order of the day"], "2026-12-02T12:00:00.000Z")

    hits = search_segments(Files(), "order of", stack_args=["--stack", "prod"], input_bucket=IN)

    [hit] = hits
    assert (hit.key, hit.start_s, hit.end_s, hit.text) == ("talks/key note.wav", 0.0, 1.5, "order of the day")
    assert (hit.language, hit.etag, hit.transcribed_at) == ("en", "e1", "2026-12-02T12:00:00.000Z")
    assert hit.get_command == "parakeet --stack prod get 'talks/key note.wav' --format srt"
    [other] = search_segments(Files(), "order of", stack_args=["--local"], input_bucket="elsewhere")
    assert other.key == other.source_uri == f"s3://{IN}/talks/key note.wav"
    assert other.get_command == f"parakeet --local get 's3://{IN}/talks/key note.wav' --format srt"


# ---------------------------------------------------------------- local backend: the output bucket
def test_the_local_backend_reads_the_day_folders_of_the_output_bucket(archive: Path) -> None:
    from moto import mock_aws

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="out")
        for path in archive.rglob("*.jsonl"):
            s3.put_object(
                Bucket="out", Key="segments/" + path.relative_to(archive).as_posix(), Body=path.read_bytes()
            )
        # (a file from before the date partitions is not part of the table)
        s3.put_object(
            Bucket="out",
            Key="segments/calls/legacy.wav.jsonl",
            Body=json.dumps(row("calls/legacy.wav", 0, 0.0, "order", "2026-01-01T00:00:00.000Z")),
        )
        backend = DuckDbBackend(s3=s3, bucket="out")

        hits = search_segments(backend, "order", since="2026-12-01")

    assert [(h.key, h.start_s) for h in hits] == [
        ("s3://media-in/calls/a.wav", 0.0),
        ("s3://media-in/interviews/c.wav", 2.0),
    ]


# ---------------------------------------------------------------- Athena backend: the same SQL
SQL_PATH = Path(search.__file__).parent / "sql" / search.SQL_FILE


def athena_result(rows: list[list[str | None]]) -> dict[str, Any]:
    names = [
        "source_uri",
        "etag",
        "segment_id",
        "start_s",
        "end_s",
        "text",
        "channel",
        "speaker",
        "language",
        "transcribed_at",
    ]
    types = [
        "varchar",
        "varchar",
        "integer",
        "double",
        "double",
        "varchar",
        "integer",
        "integer",
        "varchar",
        "varchar",
    ]
    header = {"Data": [{"VarCharValue": n} for n in names]}
    data = [{"Data": [{} if v is None else {"VarCharValue": v} for v in r]} for r in rows]
    return {
        "ResultSet": {
            "Rows": [header, *data],
            "ResultSetMetadata": {
                "ColumnInfo": [
                    {
                        "Name": n,
                        "Type": t,
                        "CatalogName": "hive",
                        "SchemaName": "",
                        "TableName": "",
                        "Label": n,
                    }
                    for n, t in zip(names, types, strict=True)
                ]
            },
        }
    }


def athena_stubbed(responses: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> tuple[Any, Stubber]:
    client = boto3.client("athena", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    stubber = Stubber(client)
    for method, response, expected in responses:
        stubber.add_response(method, response, expected)
    return client, stubber


def test_athena_runs_the_same_sql_file_in_the_search_workgroup_with_execution_parameters() -> None:
    # Given the stack's segments table and search workgroup
    sql = SQL_PATH.read_text(encoding="utf-8")
    expected_query = sql.replace("{segments}", '"parakeet_prod_transcripts"."segments"')
    client, stubber = athena_stubbed(
        [
            (
                "start_query_execution",
                {"QueryExecutionId": "q1"},
                {
                    "QueryString": expected_query,
                    "QueryExecutionContext": {
                        "Catalog": "AwsDataCatalog",
                        "Database": "parakeet_prod_transcripts",
                    },
                    "WorkGroup": "parakeet-prod-search",
                    # strings as SQL literals (quotes doubled), in the order the SQL file documents
                    "ExecutionParameters": ["'2026-12-01'", "'it''s late'", "'en'", "'en'", "-1", "-1", "5"],
                },
            ),
            (
                "get_query_execution",
                {"QueryExecution": {"Status": {"State": "RUNNING"}}},
                {"QueryExecutionId": "q1"},
            ),
            (
                "get_query_execution",
                {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}},
                {"QueryExecutionId": "q1"},
            ),
            (
                "get_query_results",
                athena_result(
                    [
                        [
                            "s3://media-in/calls/a.wav",
                            "e1",
                            "3",
                            "12.5",
                            "14.0",
                            "It's late again.",
                            None,
                            None,
                            "en",
                            "2026-12-01T10:00:00.000Z",
                        ]
                    ]
                ),
                {"QueryExecutionId": "q1"},
            ),
        ]
    )
    backend = AthenaBackend(
        athena=client,
        database="parakeet_prod_transcripts",
        table="segments",
        workgroup="parakeet-prod-search",
        poll_s=0,
    )

    # When searching
    with stubber:
        hits = search_segments(
            backend,
            "it's late",
            language="en",
            since="2026-12-01",
            limit=5,
            stack_args=["--stack", "parakeet-prod"],
            input_bucket="media-in",
        )
        stubber.assert_no_pending_responses()

    # Then the hit is typed from the result metadata
    [hit] = hits
    assert (hit.key, hit.segment_id, hit.start_s, hit.end_s) == ("calls/a.wav", 3, 12.5, 14.0)
    assert (hit.channel, hit.text, hit.language) == (None, "It's late again.", "en")
    assert hit.get_command == "parakeet --stack parakeet-prod get calls/a.wav --format srt"
    # And the text Athena ran is the one DuckDB runs, only the table source differs
    assert search_sql('"parakeet_prod_transcripts"."segments"') == expected_query
    assert sql.count("{segments}") == 1 and sql.count("?") == len(SearchQuery.of("x").parameters())


def test_a_query_athena_cancels_is_an_aws_error_with_its_reason() -> None:
    # Given a query the workgroup's scan cutoff cancels
    reason = "Query exhausted resources: bytes scanned limit exceeded"
    client, stubber = athena_stubbed([])
    stubber.add_response("start_query_execution", {"QueryExecutionId": "q2"})
    stubber.add_response(
        "get_query_execution",
        {"QueryExecution": {"Status": {"State": "CANCELLED", "StateChangeReason": reason}}},
    )
    backend = AthenaBackend(athena=client, database="db", table="segments", workgroup="wg", poll_s=0)

    with stubber, pytest.raises(AwsError, match="CANCELLED: Query exhausted resources") as raised:
        search_segments(backend, "order")
    assert raised.value.details["query_execution_id"] == "q2"


def test_the_sql_file_ships_with_the_package() -> None:
    import tomllib

    pyproject = tomllib.loads((Path(search.__file__).parents[1] / "pyproject.toml").read_text())
    assert "sql/*.sql" in pyproject["tool"]["setuptools"]["package-data"]["parakeet_cli"]
    assert SQL_PATH.is_file()
