"""Per-upload settings: the one rule by which an upload overrides a stack setting (docs/SETTINGS.md).

An upload's value for a setting is, first found wins:

1. its S3 object tag named after the setting (e.g. ``channel-mode``; key case-insensitive, value stripped);
2. the longest matching key prefix of the setting's ``<NAME>_BY_PREFIX`` stack setting, written
   ``calls/=split,meetings/=auto`` (comma-separated ``key-prefix=value`` pairs);
3. the stack default (the template parameter).

Every per-upload setting (channel mode, and the ones added beside it) is resolved here, once, by the
Probe, and travels on in its ProbeResult. A tag value the setting does not accept is bad input
(``UnsupportedInput``, naming the tag and the values allowed): retrying cannot help, and ignoring it
would transcribe the file other than its uploader asked. A prefix rule or default that does not parse
is the stack's misconfiguration, a ValueError that names the setting (an internal failure, loudly).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from pipeline.outcomes import UnsupportedInput

T = TypeVar("T")


@dataclass(frozen=True)
class UploadSetting(Generic[T]):
    """A setting an upload may override. ``parse`` turns a written value into the typed one and raises
    ValueError saying what is allowed."""

    tag: str
    parse: Callable[[str], T]


@dataclass(frozen=True)
class Written:
    """A value as written, and where: ``tag``, ``prefix <p>`` or ``default``."""

    value: str
    source: str


def prefix_rules(spec: str, name: str) -> list[tuple[str, str]]:
    """``key-prefix=value`` pairs of a ``<NAME>_BY_PREFIX`` setting, longest prefix first."""
    rules = []
    for entry in spec.split(","):
        if not entry.strip():
            continue
        prefix, sep, value = entry.partition("=")
        if not sep or not prefix.strip() or not value.strip():
            raise ValueError(f"{name} entry {entry!r} is not key-prefix=value")
        rules.append((prefix.strip(), value.strip()))
    return sorted(rules, key=lambda rule: len(rule[0]), reverse=True)


def tag_value(tags: Mapping[str, str], tag: str) -> str | None:
    """The value of the object tag ``tag`` (key case-insensitive, blanks stripped), or None."""
    matching = [value.strip() for key, value in tags.items() if key.strip().lower() == tag]
    return matching[0] if matching else None


def written_value(
    tag: str,
    tags: Mapping[str, str],
    key: str,
    by_prefix: str = "",
    default: str = "",
    by_prefix_name: str = "",
) -> Written | None:
    """The value the rule picks for an upload, as written (None: none anywhere)."""
    tagged = tag_value(tags, tag)
    if tagged is not None:
        return Written(tagged, "tag")
    name = by_prefix_name or f"{tag.upper().replace('-', '_')}_BY_PREFIX"
    for prefix, value in prefix_rules(by_prefix, name):
        if key.startswith(prefix):
            return Written(value, f"prefix {prefix}")
    return Written(default.strip(), "default") if default.strip() else None


def resolve(
    setting: UploadSetting[T], tags: Mapping[str, str], key: str, by_prefix: str = "", default: str = ""
) -> T | None:
    """The upload's typed value of ``setting`` by the module's rule (None: not set anywhere)."""
    written = written_value(setting.tag, tags, key, by_prefix, default)
    if written is None:
        return None
    try:
        return setting.parse(written.value)
    except ValueError as exc:
        if written.source == "tag":
            raise UnsupportedInput(
                f"S3 object tag {setting.tag}={written.value!r}: {exc} (or remove the tag)"
            ) from exc
        raise ValueError(f"{setting.tag} {written.source}: {written.value!r}: {exc}") from exc


def choice(allowed: tuple[str, ...], what: str) -> Callable[[str], str]:
    """A parser for a setting with a fixed set of values (case-insensitive)."""

    def parse(value: str) -> str:
        lowered = value.strip().lower()
        if lowered not in allowed:
            raise ValueError(f"not {what}; use one of {', '.join(allowed)}")
        return lowered

    return parse


def flag() -> Callable[[str], bool]:
    """A parser for a true/false setting (case-insensitive)."""
    words = choice(("true", "false"), "true or false")

    def parse(value: str) -> bool:
        return words(value) == "true"

    return parse
