"""parliament on every IAM policy the rendered template deploys (make lint: scripts/service_lint.sh).

parliament checks each statement against AWS's IAM reference: actions that exist, resource ARNs that
match the resource types an action takes, condition keys, malformed documents. Any finding fails the
lint unless SKIPS below excuses it, each with its reason (one place, reviewed like code).

    .venv-lint/bin/python scripts/iam_lint.py POLICY_DIR    # POLICY_DIR: local_emulator.rendered's output
"""

from __future__ import annotations

import fnmatch
import json
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
import parliament  # noqa: E402


@dataclass(frozen=True)
class Skip:
    issue: str
    files: str  # fnmatch on the policy file name (<role>.<policy>.json)
    action: str  # fnmatch on the finding's action ("*": any, or a finding without one)
    reason: str


SKIPS = (
    Skip(
        "NO_VERSION",
        "*RolePolicy[0-9]*.json",
        "*",
        "SAM writes the documents it generates from a resource's `Policies` (<Resource>RolePolicy<N>: "
        "policy templates such as LambdaInvokePolicy, and `Statement:` lists) without a Version; IAM "
        "then applies 2008-10-17, which differs from 2012-10-17 only in policy variables (${aws:...}), "
        "and none of these policies uses one. The template's own roles state 2012-10-17.",
    ),
    Skip(
        "RESOURCE_MISMATCH",
        "*",
        "batch:SubmitJob",
        "SubmitJob is authorised on the job queue and the job definition (AWS Batch User Guide, "
        "'Resource: job-queue, job-definition'), which is what is granted; parliament's table expects "
        "the job ARN, which does not exist before the call.",
    ),
    Skip(
        "RESOURCE_MISMATCH",
        "BackfillStateMachineRole.*",
        "states:DescribeExecution",
        "A Distributed Map's child executions are named execution:<machine>/<map label>:<id>; the "
        "Step Functions guide grants them as execution:<machine>/*, which parliament's format "
        "(execution:<machine>:<id>, or express:...) does not recognise.",
    ),
)


def findings(policy_dir: Path) -> list[tuple[str, str, str, str]]:
    """(file, issue, action, detail) of every finding no skip excuses."""
    left: list[tuple[str, str, str, str]] = []
    for path in sorted(policy_dir.glob("*.json")):
        policy = parliament.analyze_policy_string(path.read_text(), filepath=str(path))
        for finding in policy.findings:
            details = finding.detail if isinstance(finding.detail, list) else [finding.detail]
            for detail in details or [""]:
                action = detail.get("action", "*") if isinstance(detail, dict) else "*"
                excused = any(
                    s.issue == finding.issue
                    and fnmatch.fnmatch(path.name, s.files)
                    and fnmatch.fnmatch(action, s.action)
                    for s in SKIPS
                )
                if not excused:
                    left.append((path.name, finding.issue, action, json.dumps(detail)))
    return left


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        raise SystemExit(__doc__)
    policy_dir = Path(argv[0])
    count = len(list(policy_dir.glob("*.json")))
    if count == 0:
        raise SystemExit(f"parliament: no policy in {policy_dir}: nothing was checked")
    left = findings(policy_dir)
    for name, issue, action, detail in left:
        print(f"parliament: {name}: {issue} {action} {detail}")
    print(f"parliament: {count} policies, {len(left)} findings not skipped (scripts/iam_lint.py SKIPS)")
    return 1 if left else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
