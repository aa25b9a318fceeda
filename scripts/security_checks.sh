#!/usr/bin/env bash
# `make security` (part of `make test`): checkov on the template as CloudFormation deploys it and
# hadolint on gpu_job/Dockerfile. Offline; any finding that is not skipped inline fails the build.
# Skips live next to what they excuse: `checkov: skip:` (id + comment) in a resource's Metadata,
# `# hadolint ignore=DLxxxx` with a reason above the Dockerfile instruction.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# template.yaml -> Fn::ForEach expanded -> SAM transform -> plain CloudFormation JSON (see the script).
AWS_DEFAULT_REGION=us-east-1 .venv-sam/bin/python scripts/render_template.py "$out/template.json"
# --skip-download: no Prisma Cloud guideline/policy download (no network here; results are the same).
status=0
.venv-checkov/bin/checkov --quiet --compact --skip-download --framework cloudformation \
  --file "$out/template.json" -o cli -o json --output-file-path "console,$out/checkov.json" || status=$?
# checkov exits 0 when it could not parse the file; a scan of nothing must not pass.
.venv-checkov/bin/python - "$out/checkov.json" <<'PY'
import json, sys
summary = json.load(open(sys.argv[1]))["summary"]
print("checkov:", summary)
if summary["parsing_errors"] or summary["resource_count"] < 30:
    sys.exit("checkov did not scan the template's resources")
PY
[ "$status" -eq 0 ] || { echo "checkov: new findings (fix them or skip them inline with a reason)"; exit "$status"; }

.venv-checkov/bin/hadolint --failure-threshold style gpu_job/Dockerfile
echo "hadolint: gpu_job/Dockerfile clean"
