"""Catalog table vocabulary and the conversions DynamoDB needs.

boto3's DynamoDB serialiser rejects ``float`` (it wants ``Decimal``) and hands back ``Decimal``
which ``json`` cannot serialise, yet Step Functions passes JSON between states: every function
that touches the catalog converts at this one boundary.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

# Partition + sort key of the catalog table (docs/CONTRACTS.md).
PARTITION_KEY = "source_uri"
SORT_KEY = "etag"


def catalog_key(source_uri: str, etag: str) -> dict[str, str]:
    return {PARTITION_KEY: source_uri, SORT_KEY: etag}


def utc_now_iso() -> str:
    """ISO-8601 UTC with milliseconds and a ``Z``: sorts lexically, reads the same everywhere."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def to_dynamo(value: Any) -> Any:
    """Make a JSON-like value storable: floats become Decimal (via ``str`` to keep the short repr).

    NaN and infinities have no DynamoDB representation; they are stored as null rather than
    failing the whole write.
    """
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return Decimal(str(value))
    if isinstance(value, dict):
        return {str(k): to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_dynamo(v) for v in value]
    return value


def from_dynamo(value: Any) -> Any:
    """Inverse of :func:`to_dynamo`: Decimal -> int when integral, else float; sets -> sorted lists."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [from_dynamo(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(from_dynamo(v) for v in value)
    return value


def set_expression(attributes: dict[str, Any]) -> tuple[str, dict[str, str], dict[str, Any]]:
    """``UpdateItem`` parts that SET every attribute through placeholders.

    Placeholders for every name because several attribute names (``status``, ``key``, ``mode``...)
    are DynamoDB reserved words; values are converted with :func:`to_dynamo`.
    """
    names = {f"#a{i}": name for i, name in enumerate(attributes)}
    values = {f":v{i}": to_dynamo(value) for i, value in enumerate(attributes.values())}
    assignments = ", ".join(f"#a{i} = :v{i}" for i in range(len(attributes)))
    return f"SET {assignments}", names, values
