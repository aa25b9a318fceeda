#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: system packages, the test venv, the SAM CLI venv and the
# security scanners' venv.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(ffmpeg espeak-ng sox strace)  # strace: tests/unit/test_demuxer_allow_list.py
# node + npm: asl-validator in `make lint` (scripts/service_lint.sh); any node >= 18 will do.
command -v node >/dev/null 2>&1 || APT_PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(npm)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-python3.11}

# The tools' venvs (SAM CLI, AWS CLI, checkov, parliament) and asl-validator install in the background while
# the test venv (torch, NeMo) installs here: on the 2-core CI machine that saves about a minute and a half.
tools() {
  # The SAM CLI pins its own boto3/pydantic ranges: keep it out of the test venv.
  if [ ! -x .venv-sam/bin/sam ]; then
    "$PY" -m venv .venv-sam
    .venv-sam/bin/pip install -q --upgrade pip
    .venv-sam/bin/pip install -q aws-sam-cli==1.170.0
  fi

  # The real `aws` CLI (v1 from PyPI), for tests/workflow/test_serve.py against `make serve`: it pins its
  # own botocore, so it lives in its own venv too.
  if [ ! -x .venv-awscli/bin/aws ]; then
    "$PY" -m venv .venv-awscli
    .venv-awscli/bin/pip install -q awscli==1.46.3
  fi

  # checkov + hadolint (make security): checkov's own boto3/pydantic pins stay out of the test venv.
  if [ ! -f .venv-checkov/.installed ] || [ requirements/checkov.txt -nt .venv-checkov/.installed ]; then
    [ -x .venv-checkov/bin/python ] || "$PY" -m venv .venv-checkov
    .venv-checkov/bin/pip install -q --upgrade pip
    .venv-checkov/bin/pip install -q -r requirements/checkov.txt
    touch .venv-checkov/.installed
  fi

  # make lint (scripts/service_lint.sh): asl-validator from the committed lock, into tools/node/node_modules
  # (gitignored), and parliament in its own venv (requirements/lint.txt says why).
  if [ ! -x tools/node/node_modules/.bin/asl-validator ] || [ tools/node/package-lock.json -nt tools/node/node_modules ]; then
    (cd tools/node && npm ci --no-audit --no-fund --loglevel=error)
    touch tools/node/node_modules
  fi
  if [ ! -f .venv-lint/.installed ] || [ requirements/lint.txt -nt .venv-lint/.installed ]; then
    [ -x .venv-lint/bin/python ] || "$PY" -m venv .venv-lint
    .venv-lint/bin/pip install -q -r requirements/lint.txt
    touch .venv-lint/.installed
  fi
}
mkdir -p build
tools > build/setup-tools.log 2>&1 &
tools_pid=$!
trap 'kill "$tools_pid" 2>/dev/null || true' EXIT  # a failed install here stops the tools too

if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
if [ ! -f .venv/.installed ] || [ requirements/dev.txt -nt .venv/.installed ] \
   || [ functions/requirements.txt -nt .venv/.installed ] || [ layers/probe_media/requirements.txt -nt .venv/.installed ] \
   || [ gpu_job/requirements.txt -nt .venv/.installed ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q torch==2.13.0
  (cd requirements && ../.venv/bin/pip install -q -r dev.txt)
  touch .venv/.installed
fi

# The `parakeet` console script (pyproject.toml [project.scripts]), installed editable so it runs this
# checkout. --no-deps: what it imports is pinned in requirements/dev.txt (above); --no-build-isolation:
# setuptools is already in the venv, so nothing is downloaded to build it.
if [ ! -x .venv/bin/parakeet ] || [ pyproject.toml -nt .venv/bin/parakeet ]; then
  .venv/bin/pip install -q --no-deps --no-build-isolation -e .
  touch .venv/bin/parakeet
fi

# moto's Step Functions interpreter (the local emulator) needs the ANTLR 4.13 runtime, while NeMo pins
# the 4.9 runtime in the venv; local_emulator/bridges.py loads 4.13 from this side directory.
if [ ! -d build/antlr4-4.13/antlr4 ]; then
  .venv/bin/pip install -q --no-deps --target build/antlr4-4.13 antlr4-python3-runtime==4.13.2
fi

if ! wait "$tools_pid"; then
  cat build/setup-tools.log >&2
  echo "setup: installing the tools failed (build/setup-tools.log above)" >&2
  exit 1
fi
