"""Generate the contract tables of docs/CONTRACTS.md and functions/pipeline/transcript.schema.json.

Why: the pydantic models in functions/pipeline are the contract; a hand-written table next to
them drifts. This script renders, from the models' JSON Schema, one table per model a state reads
or writes (field, type, required, description) and the settings table (environment name,
default, description), between ``<!-- BEGIN GENERATED: name -->`` / ``<!-- END GENERATED: name -->``
markers in CONTRACTS.md (the prose around them stays hand-written), and the transcript's JSON
Schema file that operators and non-Python readers use.

    python scripts/generate_contracts_doc.py           # rewrite both files
    python scripts/generate_contracts_doc.py --check   # exit 1 if either is stale (make lint)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "functions"))

from pipeline import contracts  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.transcript import SCHEMA_VERSION, TranscriptDocument  # noqa: E402
from pydantic import BaseModel  # noqa: E402

DOC = REPO / "docs" / "CONTRACTS.md"
TRANSCRIPT_SCHEMA = REPO / "functions" / "pipeline" / "transcript.schema.json"
SCHEMA_ID = f"https://parakeet-pipeline.local/transcript/{SCHEMA_VERSION}"


def type_of(schema: dict[str, Any]) -> str:
    """A short, readable type for one JSON Schema property."""
    if "$ref" in schema:
        return f"[{schema['$ref'].rsplit('/', 1)[-1]}](#{schema['$ref'].rsplit('/', 1)[-1].lower()})"
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return " \\| ".join(json.dumps(v) for v in schema["enum"])
    if "anyOf" in schema:
        return " \\| ".join(type_of(option) for option in schema["anyOf"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list[{type_of(schema.get('items', {}))}]"
    if kind == "object":
        extra = schema.get("additionalProperties")
        return f"map[str, {type_of(extra)}]" if isinstance(extra, dict) else "object"
    bounds = []
    for key, sign in (
        ("minimum", ">="),
        ("exclusiveMinimum", ">"),
        ("maxLength", "len <="),
        ("minLength", "len >="),
    ):
        if key in schema:
            bounds.append(f"{sign} {schema[key]}")
    return kind + (f" ({', '.join(bounds)})" if bounds else "")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def model_table(name: str, schema: dict[str, Any]) -> str:
    required = set(schema.get("required", ()))
    lines = [f"#### {name}"]
    if schema.get("description"):
        lines.append(_cell(schema["description"]))
    if schema.get("additionalProperties") is not False:
        lines.append("Producers may add fields (extra fields allowed).")
    lines += ["", "| field | type | required | description |", "|---|---|---|---|"]
    for field, prop in schema.get("properties", {}).items():
        needed = "yes" if field in required else "no"
        lines.append(f"| `{field}` | {type_of(prop)} | {needed} | {_cell(prop.get('description', ''))} |")
    return "\n".join(lines)


def contract_models() -> list[type[BaseModel]]:
    """Every model a state reads or writes, in workflow order, then the transcript document."""
    ordered: list[type[BaseModel]] = []
    for request, result in contracts.STATE_CONTRACTS.values():
        for model in (request, result):
            if model is not None and model not in ordered:
                ordered.append(model)
    ordered.append(TranscriptDocument)
    ordered.extend(m for m in contracts.PUBLISHED_CONTRACTS if m not in ordered)  # CompletionEvent
    return ordered


def models_section() -> str:
    """One table per model, nested models once each (JSON Schema $defs), in first-use order."""
    seen: dict[str, dict[str, Any]] = {}
    for model in contract_models():
        schema = model.model_json_schema(ref_template="#/$defs/{model}")
        seen.setdefault(model.__name__, {k: v for k, v in schema.items() if k != "$defs"})
        for name, definition in schema.get("$defs", {}).items():
            seen.setdefault(name, definition)
    return "\n\n".join(model_table(name, schema) for name, schema in seen.items())


def settings_section() -> str:
    lines = ["| env | default | description |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = f"`{field.default!r}`" if isinstance(field.default, str) else f"{field.default:g}"
        lines.append(f"| `{field.alias or name}` | {default} | {_cell(field.description or '')} |")
    return "\n".join(lines)


def transcript_schema() -> str:
    schema = TranscriptDocument.model_json_schema()
    document = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_doc(current: str) -> str:
    sections = {"models": models_section(), "settings": settings_section()}
    for name, body in sections.items():
        pattern = re.compile(
            rf"(<!-- BEGIN GENERATED: {name} -->\n).*?(<!-- END GENERATED: {name} -->)", re.DOTALL
        )
        if not pattern.search(current):
            raise SystemExit(f"{DOC}: markers for the generated section {name!r} are missing")
        current = pattern.sub(lambda m, body=body: f"{m.group(1)}{body}\n{m.group(2)}", current)
    return current


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a generated file is stale")
    args = parser.parse_args(argv)
    wanted = {DOC: render_doc(DOC.read_text(encoding="utf-8")), TRANSCRIPT_SCHEMA: transcript_schema()}
    stale = [
        path for path, text in wanted.items() if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    if args.check:
        for path in stale:
            print(
                f"{path.relative_to(REPO)} is stale: run python scripts/generate_contracts_doc.py",
                file=sys.stderr,
            )
        return 1 if stale else 0
    for path in stale:
        path.write_text(wanted[path], encoding="utf-8")
        print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
