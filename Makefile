# Two commands on a fresh machine: `make demo` and `make test` (both set up first, offline after installs).
SHELL := /bin/bash
PY := .venv/bin/python
SAM := .venv-sam/bin/sam
PY312 := /root/.pyenv/versions/3.12.1/bin
export PYTHONDONTWRITEBYTECODE := 1
export SAM_CLI_TELEMETRY := 0

.PHONY: setup test unit test-random demo serve lint validate models build security

setup:
	./scripts/setup.sh

models: setup
	$(PY) scripts/build_tiny_random_model.py --if-missing

# ruff (rules and format) + mypy (pyproject.toml [tool.mypy]: strict on the core) + generated contract docs up to
# date + `sam validate --lint` (cfn-lint rules; offline). SAM needs python3.12.
# Then the services' own rules, offline (scripts/service_lint.sh, docs/LINT.md): asl-validator on every
# definition, cfn-lint on the rendered template (definitions inlined, informational rules), parliament on
# every IAM policy, and the permission map (every boto3 call and ASL integration granted).
lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy functions/*/ gpu_job parakeet_cli
	$(PY) scripts/generate_contracts_doc.py --check
	PATH="$(PY312):$$PATH" AWS_DEFAULT_REGION=us-east-1 $(SAM) validate --lint --template template.yaml
	./scripts/service_lint.sh

validate: lint

# Builds the Lambda artifacts into .aws-sam/ (needs python3.12 on PATH, like the Lambda runtime).
build: setup
	PATH="$(PY312):$$PATH" AWS_DEFAULT_REGION=us-east-1 $(SAM) build --template template.yaml

# checkov on the template as CloudFormation deploys it (Fn::ForEach and the SAM transform applied,
# scripts/render_template.py) and hadolint on gpu_job/Dockerfile; skips are inline, with a reason.
security: setup
	./scripts/security_checks.sh

# On both cores (pytest-xdist), each module's tests together on one worker in file order (--dist
# loadscope: module-scoped local stacks are built once); which worker takes which module varies, as
# `make test-random` shows it may.
test: setup models lint security
	$(PY) -m pytest -q -n 2 --dist loadscope

# The inner loop: tests/unit, the pure logic (moto's in-memory S3/DynamoDB at most; no local stack, no
# NeMo model, no make models), without the tests marked slow (make test runs those), on both cores
# (pytest-xdist): under a minute on the 2-core machine.
unit: setup
	$(PY) -m pytest -q -n 2 -m "not slow" tests/unit

# The whole suite in a shuffled order: modules and the tests in each (pytest-random-order; SEED=N
# replays an order; module buckets keep module-scoped stacks built once). CI keeps the
# fixed order: this is how order independence is shown.
SEED ?= $(shell date +%s)
test-random: setup models
	$(PY) -m pytest -q -p random_order --random-order-bucket=module --random-order-seed=$(SEED)

# The whole workflow offline: template resources in moto, the real ASL, Lambdas and gpu_job in-process.
demo: setup models
	$(PY) -m local_emulator.demo

# The same local stack behind moto's HTTP server (PORT=4566): `aws --endpoint-url`, boto3 and
# `parakeet --local` drive it like AWS. Ctrl-C stops it.
PORT ?= 4566
serve: setup models
	$(PY) -m local_emulator.serve --port $(PORT)
