"""`parakeet search`: which transcribed files say a phrase, where, and the command that fetches them.

One SQL text (parakeet_cli/sql/search_segments.sql) runs on two engines over the same segment lines
(functions/pipeline/segments.py, ``segments/dt=<UTC date>/<key>.jsonl`` in the output bucket):

- deployed: Athena over the Glue ``segments`` table, in the stack's search workgroup (its scan cutoff,
  its encrypted results bucket), with the values as ExecutionParameters, never spliced into the text;
- local (``--local``, moto has no query engine): DuckDB over the same files, copied from the local
  output bucket to a temporary folder laid out as the table's partitions.

The engines differ only in what ``{segments}`` names. Both keep, per source file, only the rows of its
newest ``transcribed_at``, so a key overwritten by a newer upload answers with the newer words only.
"""

from __future__ import annotations

import shlex
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pipeline.exact_upload import PARTITION_COLUMN, SEGMENTS_PREFIX
from pipeline.s3uri import parse_s3_uri
from pipeline.segments import COLUMNS

from parakeet_cli.connect import DEFAULT_LOCAL_ENDPOINT, Stack
from parakeet_cli.exits import AwsError, NotFound, UsageError

if TYPE_CHECKING:
    from mypy_boto3_athena.client import AthenaClient
    from mypy_boto3_s3.client import S3Client


SQL_FILE = "search_segments.sql"
TABLE_PLACEHOLDER = "{segments}"
ANY_DATE = "0001-01-01"  # `dt >= ?` without --since: every projected day
MAX_LIMIT = 1000  # one GetQueryResults page
DEFAULT_LIMIT = 20
# template.yaml Outputs search needs beyond connect.REQUIRED_OUTPUTS (deployed stacks only).
SEGMENTS_TABLE_OUTPUT = "SegmentsTable"
WORKGROUP_OUTPUT = "SearchWorkGroupName"
ATHENA_DONE = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
_DUCKDB_TYPES = {"string": "VARCHAR", "int": "INTEGER", "double": "DOUBLE"}


def search_sql(segments: str) -> str:
    """The query, with ``{segments}`` replaced by a table (Athena) or a relation (DuckDB)."""
    text = resources.files("parakeet_cli").joinpath("sql", SQL_FILE).read_text(encoding="utf-8")
    return text.replace(TABLE_PLACEHOLDER, segments)


@dataclass(frozen=True)
class SearchQuery:
    """A validated search: the SQL's positional parameters, in the order the file documents."""

    phrase: str
    language: str | None = None
    since: str | None = None  # yyyy-mm-dd (UTC transcription date)
    limit: int = DEFAULT_LIMIT

    @classmethod
    def of(
        cls,
        phrase: str,
        language: str | None = None,
        since: str | date | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> SearchQuery:
        phrase = phrase.strip()
        if not phrase:
            raise UsageError("give a phrase to search for")
        if not 1 <= limit <= MAX_LIMIT:
            raise UsageError(f"--limit must be between 1 and {MAX_LIMIT}")
        language = (language or "").strip().lower() or None
        return cls(phrase=phrase, language=language, since=parse_since_date(since), limit=limit)

    def parameters(self) -> list[str | int]:
        language = self.language or ""
        return [self.since or ANY_DATE, self.phrase, language, language, self.limit]


def parse_since_date(value: str | date | None) -> str | None:
    """``YYYY-MM-DD`` (or a relative ``7d``/``24h``/``2w``: its UTC date) -> the partition value."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        pass
    from parakeet_cli.remote import parse_since  # the relative forms `cost --since` takes

    try:
        moment = parse_since(value)
    except UsageError:
        raise UsageError(f"--since {value!r}: use a date YYYY-MM-DD (or 7d, 24h, 2w)") from None
    return moment[:10] if moment else None


@dataclass(frozen=True)
class Hit:
    """One segment that says the phrase, and how to get the file's subtitles."""

    source_uri: str
    key: str  # input-bucket key (or the URI when the file is in another bucket), as `get` takes it
    etag: str | None
    segment_id: int | None
    start_s: float
    end_s: float
    text: str
    language: str | None
    channel: int | None
    transcribed_at: str | None
    get_command: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Backend(Protocol):
    """An engine that runs search_segments.sql and returns its rows as column -> value."""

    def rows(self, query: SearchQuery) -> list[dict[str, Any]]: ...


# ---------------------------------------------------------------- Athena (deployed)
def athena_literal(value: str | int) -> str:
    """An ExecutionParameters value: Athena parses each as a SQL literal (strings in single quotes)."""
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


_ATHENA_CONVERT: dict[str, Any] = {
    "integer": int,
    "int": int,
    "bigint": int,
    "smallint": int,
    "tinyint": int,
    "double": float,
    "float": float,
    "real": float,
}


@dataclass
class AthenaBackend:
    """StartQueryExecution in the search workgroup, poll, GetQueryResults (values come back as text)."""

    athena: AthenaClient
    database: str
    table: str
    workgroup: str
    poll_s: float = 0.5
    timeout_s: float = 120.0

    def query_string(self) -> str:
        return search_sql(f'"{self.database}"."{self.table}"')

    def rows(self, query: SearchQuery) -> list[dict[str, Any]]:
        execution_id = self.athena.start_query_execution(
            QueryString=self.query_string(),
            QueryExecutionContext={"Catalog": "AwsDataCatalog", "Database": self.database},
            WorkGroup=self.workgroup,
            ExecutionParameters=[athena_literal(v) for v in query.parameters()],
        )["QueryExecutionId"]
        self._wait(execution_id)
        return self._results(execution_id)

    def _wait(self, execution_id: str) -> None:
        """Until SUCCEEDED; failed, cancelled (e.g. over the scan cutoff) or too slow: an AwsError."""
        deadline = time.monotonic() + self.timeout_s
        while True:
            execution = self.athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
            state: str = execution["Status"]["State"]
            reason = execution["Status"].get("StateChangeReason", "?")
            if state == "SUCCEEDED":
                return
            if state not in ATHENA_DONE and time.monotonic() >= deadline:
                self.athena.stop_query_execution(QueryExecutionId=execution_id)
                state, reason = "TIMEOUT", f"still running after {self.timeout_s:.0f} s: stopped"
            if state not in ATHENA_DONE | {"TIMEOUT"}:
                time.sleep(self.poll_s)
                continue
            raise AwsError(
                f"Athena query {execution_id} {state}: {reason}",
                aws_code=f"Athena{state.title()}",
                query_execution_id=execution_id,
            )

    def _results(self, execution_id: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        names: list[str] = []
        converters: list[Any] = []
        for page in self.athena.get_paginator("get_query_results").paginate(QueryExecutionId=execution_id):
            result = page["ResultSet"]
            data = result["Rows"]
            if not names:
                columns = result["ResultSetMetadata"]["ColumnInfo"]
                names = [c["Name"] for c in columns]
                converters = [_ATHENA_CONVERT.get(c["Type"].lower(), str) for c in columns]
                data = data[1:]  # the first row of the first page repeats the column names
            for row in data:
                values = [cell.get("VarCharValue") for cell in row["Data"]]
                cells = zip(names, converters, values, strict=True)
                rows.append({name: None if v is None else convert(v) for name, convert, v in cells})
        return rows


# ---------------------------------------------------------------- DuckDB (local)
def duckdb_relation(root: Path) -> str:
    """read_json over ``root/dt=<date>/**/*.jsonl`` with the table's columns (pipeline.segments.COLUMNS)
    and dt from the folder name, as Athena's partition projection gives it (a string)."""
    columns = ", ".join(f"'{name}': '{_DUCKDB_TYPES[kind]}'" for name, kind in COLUMNS)
    pattern = (root / f"{PARTITION_COLUMN}=*" / "**" / "*.jsonl").as_posix().replace("'", "''")
    return (
        f"read_json('{pattern}', format = 'newline_delimited', columns = {{{columns}}}, "
        f"hive_partitioning = true, hive_types = {{'{PARTITION_COLUMN}': 'VARCHAR'}}, "
        "ignore_errors = true)"
    )


def query_segment_files(root: Path, query: SearchQuery) -> list[dict[str, Any]]:
    """Run search_segments.sql with DuckDB over the segment files under ``root`` (partition layout)."""
    import duckdb

    if not any(root.glob(f"{PARTITION_COLUMN}=*/**/*.jsonl")):
        return []
    with duckdb.connect() as connection:
        cursor = connection.execute(search_sql(duckdb_relation(root)), query.parameters())
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def partition_date(prefix: str) -> str | None:
    """``segments/dt=2026-12-02/`` -> ``2026-12-02`` (None for anything else, e.g. pre-partition files)."""
    name = prefix.removeprefix(SEGMENTS_PREFIX).rstrip("/")
    value = name.removeprefix(f"{PARTITION_COLUMN}=")
    if value == name:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return None


@dataclass
class DuckDbBackend:
    """The local stack's segment files (output bucket), copied to a temporary folder, queried by DuckDB.

    Only the ``dt=`` folders on or after ``since`` are copied: the same days Athena's projection reads.
    Files are renamed by number inside their day (a row names its source; keys may hold any character)."""

    s3: S3Client
    bucket: str

    def rows(self, query: SearchQuery) -> list[dict[str, Any]]:
        with tempfile.TemporaryDirectory(prefix="parakeet-search-") as folder:
            root = Path(folder)
            self.copy_partitions(root, query.since or ANY_DATE)
            return query_segment_files(root, query)

    def copy_partitions(self, root: Path, since: str) -> int:
        paginator = self.s3.get_paginator("list_objects_v2")
        copied = 0
        for page in paginator.paginate(Bucket=self.bucket, Prefix=SEGMENTS_PREFIX, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                day = partition_date(common["Prefix"])
                if day is None or day < since:
                    continue
                target = root / f"{PARTITION_COLUMN}={day}"
                target.mkdir()
                for listing in paginator.paginate(Bucket=self.bucket, Prefix=common["Prefix"]):
                    for obj in listing.get("Contents", []):
                        if not obj["Key"].endswith(".jsonl"):
                            continue
                        body = self.s3.get_object(Bucket=self.bucket, Key=obj["Key"])["Body"].read()
                        (target / f"{copied}.jsonl").write_bytes(body)
                        copied += 1
        return copied


# ---------------------------------------------------------------- the search
def stack_arguments(stack: Stack) -> list[str]:
    """The global options that reach this stack again (for the printed `get` command)."""
    names = stack.names
    if names.local:
        endpoint = names.endpoint_url
        return ["--local"] + (
            ["--endpoint-url", endpoint] if endpoint and endpoint != DEFAULT_LOCAL_ENDPOINT else []
        )
    return ["--stack", names.stack_name]


def key_for_get(source_uri: str, input_bucket: str | None) -> str:
    """What `parakeet get` takes: the key in the stack's input bucket, else the whole URI."""
    location = parse_s3_uri(source_uri)
    return location.key if location.bucket == input_bucket else source_uri


def to_hit(row: dict[str, Any], stack_args: Sequence[str], input_bucket: str | None) -> Hit:
    key = key_for_get(str(row["source_uri"]), input_bucket)
    command = shlex.join(["parakeet", *stack_args, "get", key, "--format", "srt"])
    return Hit(
        source_uri=str(row["source_uri"]),
        key=key,
        etag=row.get("etag"),
        segment_id=row.get("segment_id"),
        start_s=float(row["start_s"]),
        end_s=float(row["end_s"]),
        text=str(row["text"]),
        language=row.get("language"),
        channel=row.get("channel"),
        transcribed_at=row.get("transcribed_at"),
        get_command=command,
    )


def search_segments(
    backend: Backend,
    phrase: str,
    language: str | None = None,
    since: str | date | None = None,
    limit: int = DEFAULT_LIMIT,
    stack_args: Sequence[str] = (),
    input_bucket: str | None = None,
) -> list[Hit]:
    """The segments of the newest upload of each file that contain ``phrase`` (any case), ordered by
    file then start time; ``language`` and ``since`` (UTC transcription date) narrow it."""
    query = SearchQuery.of(phrase, language, since, limit)
    return [to_hit(row, stack_args, input_bucket) for row in backend.rows(query)]


def backend_for(stack: Stack) -> Backend:
    """DuckDB for the local stack, Athena (the stack's workgroup and segments table) for a deployed one."""
    names = stack.names
    if names.local:
        return DuckDbBackend(s3=stack.client("s3"), bucket=names.output_bucket)
    missing = [o for o in (SEGMENTS_TABLE_OUTPUT, WORKGROUP_OUTPUT) if not names.outputs.get(o)]
    if missing:
        raise NotFound(
            f"stack {names.stack_name!r} has no output {', '.join(missing)}: deployed before "
            "search existed? update the stack",
            stack=names.stack_name,
            missing_outputs=missing,
        )
    database, _, table = names.outputs[SEGMENTS_TABLE_OUTPUT].partition(".")
    return AthenaBackend(
        athena=stack.client("athena"),
        database=database,
        table=table,
        workgroup=names.outputs[WORKGROUP_OUTPUT],
    )


def search(
    stack: Stack,
    phrase: str,
    language: str | None = None,
    since: str | date | None = None,
    limit: int = DEFAULT_LIMIT,
) -> dict[str, Any]:
    """`parakeet search` on a resolved stack: the hits and what was asked (for --json)."""
    query = SearchQuery.of(phrase, language, since, limit)  # usage errors before any AWS call
    hits = search_segments(
        backend_for(stack),
        query.phrase,
        query.language,
        query.since,
        query.limit,
        stack_arguments(stack),
        stack.names.input_bucket,
    )
    return {
        "stack": stack.names.stack_name,
        "engine": "duckdb" if stack.names.local else "athena",
        "phrase": query.phrase,
        "language": query.language,
        "since": query.since,
        "limit": query.limit,
        "count": len(hits),
        "hits": [h.as_dict() for h in hits],
    }
