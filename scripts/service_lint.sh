#!/usr/bin/env bash
# The checks AWS services apply at deploy time, offline (`make lint`; docs/LINT.md):
#   1. asl-validator 4.0.0 on every state machine definition as Step Functions receives it (its
#      DefinitionSubstitutions applied), e.g. state names unique across the whole machine;
#   2. cfn-lint on the template as CloudFormation deploys it, definitions inlined (E3601), informational
#      rules included (tools/cfn-lint.yaml says which are skipped and why);
#   3. parliament on every IAM policy the stack creates (scripts/iam_lint.py says what is skipped, why);
#   4. the permission map: every boto3 call and ASL integration is granted (tests/workflow/test_permission_map.py).
# Any finding fails. Needs scripts/setup.sh (node + tools/node, .venv-sam, .venv-lint).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export AWS_DEFAULT_REGION=us-east-1

.venv-sam/bin/python scripts/render_template.py --inline-definitions "$out/template.json"
.venv-sam/bin/python -m local_emulator.rendered "$out/template.json" "$out"

definitions=("$out"/asl/*.json)
[ "${#definitions[@]}" -ge 2 ] || { echo "asl-validator: no state machine definitions extracted"; exit 1; }
args=()
for d in "${definitions[@]}"; do args+=(--json-path "$d"); done
tools/node/node_modules/.bin/asl-validator "${args[@]}"

.venv-sam/bin/cfn-lint --config-file tools/cfn-lint.yaml --format parseable -- "$out/template.json" \
  || { echo "cfn-lint: findings on the rendered template (fix them, or skip in tools/cfn-lint.yaml with a reason)"; exit 1; }
echo "cfn-lint: rendered template clean (definitions inlined, informational rules on)"

.venv-lint/bin/python scripts/iam_lint.py "$out/policies"

.venv/bin/python -m pytest -q -p no:cacheprovider tests/workflow/test_permission_map.py
