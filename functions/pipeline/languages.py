"""Expected languages: the per-upload list that language ID is restricted to (docs/LANGUAGES.md).

Parakeet-TDT-0.6B-v3 cannot be told which language to transcribe; what a user can say is which
languages to expect, and the transcript's language identification (gpu_job.language) then only
chooses among those. The list is the EXPECTED_LANGUAGES setting (template parameter
ExpectedLanguages), overridden per upload by the rule of pipeline.upload_settings: the S3 object tag
`expected-languages` (EXPECTED_LANGUAGES_TAG), else the longest matching prefix of
EXPECTED_LANGUAGES_BY_PREFIX, else the setting. Empty (or `any`) means any of the model's languages.

Codes are the model's ISO 639-1 codes. S3 tag values allow no comma, so codes may be separated by
spaces, '+', '/' or ':' as well as commas ("en de", "en+de"). An unknown code is an error naming it:
bad input for a tag (probe_audio.tags), a failed start for a setting (pipeline.settings).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

# Parakeet-TDT-0.6B-v3's languages (ISO 639-1), as its model card lists them.
MODEL_LANGUAGES: tuple[str, ...] = (
    "bg",
    "cs",
    "da",
    "de",
    "el",
    "en",
    "es",
    "et",
    "fi",
    "fr",
    "hr",
    "hu",
    "it",
    "lt",
    "lv",
    "mt",
    "nl",
    "pl",
    "pt",
    "ro",
    "ru",
    "sk",
    "sl",
    "sv",
    "uk",
)
EXPECTED_LANGUAGES_TAG = "expected-languages"  # named after the setting (pipeline.upload_settings)
ANY = "any"
_SEPARATORS = re.compile(r"[\s,+/:]+")


def parse_expected_languages(text: str) -> tuple[str, ...]:
    """'EN, de' / 'en+de' -> ('en', 'de'), in the order given, without repeats; '' or 'any' -> () (any
    language: lets a tag or a prefix rule lift a narrower stack default). Raises ValueError naming every
    code the model does not transcribe."""
    if text.strip().lower() == ANY:
        return ()
    codes: list[str] = []
    for part in _SEPARATORS.split(text.strip().lower()):
        if part and part not in codes:
            codes.append(part)
    unknown = [c for c in codes if c not in MODEL_LANGUAGES]
    if unknown:
        raise ValueError(
            f"not a language the model transcribes: {', '.join(unknown)}; use ISO 639-1 codes from "
            f"{' '.join(MODEL_LANGUAGES)}, separated by spaces or '+', or {ANY!r}"
        )
    return tuple(codes)


def _language_list(codes: list[str] | None) -> list[str] | None:
    """None stays None (any language); a list is checked and normalised by the one parser."""
    return None if codes is None else list(parse_expected_languages(" ".join(codes))) or None


# The languages an upload is expected to be in (docs/LANGUAGES.md); None: any of the model's.
ExpectedLanguages = Annotated[list[str] | None, AfterValidator(_language_list)]
