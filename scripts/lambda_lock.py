"""The Lambda functions' dependency lock: the closure of functions/requirements.txt (boto3 included).

`functions/Makefile` (every function's `BuildMethod: makefile`) installs `functions/requirements.lock`
with `pip --no-deps`, so the lock must hold every distribution the requirements need, transitively,
except what RUNTIME_PROVIDED leaves to the Lambda python3.12 runtime (nothing: boto3 and botocore are
bundled, see functions/requirements.txt). The closure is computed from the distribution metadata
installed in this venv (`importlib.metadata`), evaluating markers for python3.12 on Linux x86_64 and
following extras; the pinned versions are the ones installed here, so the tests exercise what the
functions ship.

    .venv/bin/python scripts/lambda_lock.py           # exit 1 with a diff when the lock is stale
    .venv/bin/python scripts/lambda_lock.py --write   # rewrite functions/requirements.lock
"""

from __future__ import annotations

import argparse
import difflib
import importlib.metadata
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "functions" / "requirements.txt"
LOCK = ROOT / "functions" / "requirements.lock"

# What the functions take from the python3.12 runtime's /var/runtime instead of shipping it: nothing.
# The runtime does ship boto3 and its closure, but at a version that varies by region and date, and the
# conditional writes need PutObject's IfMatch / IfNoneMatch (issue 22): the tested version is bundled.
RUNTIME_PROVIDED: frozenset[str] = frozenset()

# PEP 508 marker environment of the Lambda python3.12 x86_64 runtime (Amazon Linux 2023).
LAMBDA_MARKERS = {
    "implementation_name": "cpython",
    "implementation_version": "3.12.0",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_python_implementation": "CPython",
    "platform_release": "",
    "platform_system": "Linux",
    "platform_version": "",
    "python_full_version": "3.12.0",
    "python_version": "3.12",
    "sys_platform": "linux",
}


@dataclass(frozen=True)
class Installed:
    """Name, version and requirement strings of one installed distribution."""

    name: str
    version: str
    requires: list[str]


def installed(name: str) -> Installed:
    dist = importlib.metadata.distribution(name)
    return Installed(dist.metadata["Name"], dist.version, list(dist.requires or []))


@dataclass
class Closure:
    pins: dict[str, str] = field(default_factory=dict)  # display name -> version, to ship
    provided: dict[str, set[str]] = field(default_factory=dict)  # runtime package -> who needs it


def read_requirements(path: Path = REQUIREMENTS) -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line]


def _applies(requirement: Requirement, extras: Iterable[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({**LAMBDA_MARKERS, "extra": extra}) for extra in {"", *extras})


def closure(
    roots: Iterable[Requirement],
    provided: frozenset[str] = RUNTIME_PROVIDED,
    lookup: Callable[[str], Installed] = installed,
) -> Closure:
    """Every distribution `roots` need on the Lambda runtime, with the version installed here."""
    result = Closure()
    extras: dict[str, set[str]] = {}
    pending: list[tuple[Requirement, str]] = [(r, "functions/requirements.txt") for r in roots]
    while pending:
        requirement, needed_by = pending.pop()
        if not _applies(requirement, ()):
            continue
        key = canonicalize_name(requirement.name)
        if key in provided:
            result.provided.setdefault(key, set()).add(needed_by)
            continue
        try:
            dist = lookup(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            raise SystemExit(f"{requirement} (needed by {needed_by}) is not installed in this venv") from None
        if not requirement.specifier.contains(dist.version, prereleases=True):
            raise SystemExit(f"{dist.name} {dist.version} is installed, {needed_by} needs {requirement}")
        seen = extras.get(key)
        wanted = set(requirement.extras)
        if seen is not None and wanted <= seen:
            continue
        extras[key] = (seen or set()) | wanted
        result.pins[dist.name] = dist.version
        for line in dist.requires:
            child = Requirement(line)
            if _applies(child, extras[key]):
                child.marker = None
                pending.append((child, dist.name))
    return result


def lock_text(locked: Closure) -> str:
    provided = ", ".join(f"{name} ({', '.join(sorted(by))})" for name, by in sorted(locked.provided.items()))
    header = [
        "# Generated by scripts/lambda_lock.py from functions/requirements.txt: do not edit by hand.",
        "# The whole dependency closure for python3.12 on Linux x86_64, installed with pip --no-deps by",
        "# functions/Makefile, minus what is left to the Lambda runtime (RUNTIME_PROVIDED):",
        f"# not shipped: {provided or 'nothing'}",
    ]
    pins = [
        f"{name}=={version}"
        for name, version in sorted(locked.pins.items(), key=lambda item: canonicalize_name(item[0]))
    ]
    return "\n".join([*header, *pins]) + "\n"


def read_lock(path: Path = LOCK) -> dict[str, str]:
    """canonical name -> version of every `name==version` line of the lock."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    return pins


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--write", action="store_true", help="rewrite functions/requirements.lock")
    args = parser.parse_args(argv)
    text = lock_text(closure(read_requirements()))
    if args.write:
        LOCK.write_text(text)
        print(f"wrote {LOCK.relative_to(ROOT)}")
        return 0
    current = LOCK.read_text() if LOCK.exists() else ""
    if current == text:
        return 0
    sys.stdout.writelines(
        difflib.unified_diff(
            current.splitlines(True), text.splitlines(True), str(LOCK.relative_to(ROOT)), "computed"
        )
    )
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
