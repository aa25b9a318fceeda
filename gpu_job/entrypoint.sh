#!/bin/sh
# Container entry point: expose the baked model revision, then run the job (exit code is the contract).
if [ -z "${GPU_JOB_MODEL_REVISION:-}" ] && [ -r /opt/hf/model_revision ]; then
  GPU_JOB_MODEL_REVISION="$(cat /opt/hf/model_revision)"
  export GPU_JOB_MODEL_REVISION
fi
exec python -m gpu_job "$@"
