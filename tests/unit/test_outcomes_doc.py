"""The outcomes a user reads about (README ``## Outcomes``, docs/OUTCOMES.md) are the ones the code has,
and the acceptance corpus (tests/corpus_cases.py) exercises every one of them."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.outcomes import (
    BAD_INPUT_ERROR_NAMES,
    STATUS_FAILED,
    STATUS_SUPERSEDED,
    STATUS_TRANSCRIBED,
    SourceSuperseded,
)

from tests.corpus_cases import CASES, FAILED, IGNORED, SUPERSEDED, TRANSCRIBED

REPO = Path(__file__).resolve().parents[2]
USER_FACING_ERRORS = BAD_INPUT_ERROR_NAMES - {SourceSuperseded.__name__}  # superseded is its own status


def readme_outcomes() -> str:
    text = (REPO / "README.md").read_text()
    section = text.split("\n## Outcomes\n", 1)[1]
    return section.split("\n## ", 1)[0]


def test_the_readme_table_names_every_bad_input_error_and_only_real_ones() -> None:
    # A failed row reads "| no transcript | `FAILED` / `Reason` | meaning |"
    named = set(re.findall(r"`FAILED` / `(\w+)`", readme_outcomes()))
    assert named == USER_FACING_ERRORS


def test_docs_outcomes_names_every_bad_input_error_and_only_real_ones() -> None:
    text = (REPO / "docs" / "OUTCOMES.md").read_text()
    table = text.split("## FAILED, bad input", 1)[1].split("\n## ", 1)[0]
    # The reason table's first column: "| `Reason` | what the upload was | what to do |"
    assert set(re.findall(r"^\| `(\w+)` \|", table, flags=re.MULTILINE)) == USER_FACING_ERRORS


def test_the_documented_statuses_are_the_catalogs() -> None:
    assert {TRANSCRIBED, FAILED, SUPERSEDED} == {STATUS_TRANSCRIBED, STATUS_FAILED, STATUS_SUPERSEDED}
    for status in (STATUS_TRANSCRIBED, STATUS_FAILED, STATUS_SUPERSEDED):
        assert f"`{status}`" in readme_outcomes()


def test_the_corpus_covers_every_outcome_and_every_bad_input_error() -> None:
    assert len(CASES) >= 80
    assert {c.status for c in CASES} == {TRANSCRIBED, FAILED, SUPERSEDED, IGNORED}
    errors = {c.error for c in CASES if c.status == FAILED}
    assert errors == USER_FACING_ERRORS
    assert all(c.error is None for c in CASES if c.status != FAILED)
