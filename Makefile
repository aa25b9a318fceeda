# Two commands on a fresh machine: `make demo` and `make test` (both set up first, offline after installs).
SHELL := /bin/bash
PY := .venv/bin/python
SAM := .venv-sam/bin/sam
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup test demo lint validate models

setup:
	./scripts/setup.sh

models: setup
	$(PY) scripts/build_tiny_random_model.py --if-missing

lint: setup
	.venv/bin/ruff check .
	PATH="/root/.pyenv/versions/3.12.1/bin:$$PATH" $(SAM) validate --lint --template template.yaml

test: setup models lint
	$(PY) -m pytest -q

demo: setup models
	$(PY) -m local_emulator.demo
