#!/usr/bin/env bash
# Every GPU measurement of the batched engine, in one prepared run (< 8 min on one H100/H200).
#
# Prepare here (pip reaches PyPI, espeak-ng and ffmpeg exist):
#   bash benchmarks/gpu/fetch_wheels.sh            # .whl/ (git-ignored), prints the total size
#   .venv/bin/python benchmarks/engine_media.py    # build/engine_media: held-out speech, Opus + truth
#   .venv/bin/python benchmarks/boosting.py --media build/boosting_media --out /tmp/boosting_cpu.json
#                                                  # build/boosting_media: rare-word utterances (~15 MB)
# Run on the GPU machine (carry .whl, build/engine_media and build/boosting_media):
#   bash benchmarks/gpu/run.sh
# Check the script on CPU with the tiny random model (same code, small sizes, nothing installed):
#   BENCH_DEVICE=cpu PYTHON=.venv/bin/python bash benchmarks/gpu/run.sh
#
# Steps (each under its own timeout, so one failure still leaves the others' JSON):
#  1. full-size random-weight Parakeet-TDT-0.6B shapes (scripts/build_tiny_random_model.py --full-size)
#  2. benchmarks/gpu/encoder_decoder.py: encoder RTFx in bf16 per batch size (+ GFLOP per audio
#     second), the decoder alone (tokens/s), batched mode per window length (RTFx, memory per window),
#     peak memory of full / local_attention / streaming per length
#  3. benchmarks/engine_throughput.py: the engine end to end (decode, VAD, inference overlapped) at
#     several batch sizes against the per-file modes on the same audio
#  4. benchmarks/gpu/summarise.py: end-to-end RTFx as a fraction of encoder-only
#  4b. benchmarks/confidence.py --speed-only: the batched label-looping TDT decoder with word confidence
#     off vs on, same encoder outputs, alternating -> confidence_cost.json; exits 1 (logged) when
#     confidence changes the tokens, lacks a value per token or knocks the CUDA graphs off
#  5. the engine with the whole process on 4 vCPUs (taskset -c 0-3: a g6.xlarge / g6e.xlarge stand-in),
#     GPU utilisation sampled by nvidia-smi, as a fraction of encoder+decoder alone
#     (benchmarks/gpu/cpu_capped.py -> cpu_capped.json; goal >= 0.8, docs/CPU_STAGE.md)
#  6. benchmarks/boosting.py: phrase boosting on the tiny speech model (keyword F, control WER) and the
#     decoder's speed with and without per-stream trees (Triton kernel where installed), from the
#     utterances in build/boosting_media (no espeak-ng on the GPU machine); skipped without them
#  7. benchmarks/gpu/diarization_cost.py: the engine with Speakers off vs 4 on the same 10-minute file,
#     a random full-size streaming Sortformer fed block by block: diarizer GPU seconds per audio hour
#     and its ratio to ASR (-> diarization_cost.json)
# Anything step 5 needs that is missing (taskset, nvidia-smi, the media, the CPUs) fails the script
# (exit 1) after the other steps ran: a lent GPU is rare, a silent skip wastes it.
# Time budget (the timeouts): 90 + 110 + 70 + 40 + 60 + 50 + 30 s = 7.5 min at most, inside the 8-min goal
# with the wheel install (the steps usually end well before their timeouts; none has run on a GPU yet).
# JSON goes to benchmarks/results/gpu/ (CPU check: build/gpu_check/) and, when set, to $OUT.
set -uo pipefail
cd "$(dirname "$0")/../.."
device="${BENCH_DEVICE:-cuda}"
py="${PYTHON:-python3}"
export HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1 GPU_JOB_CPU_THREADS="${GPU_JOB_CPU_THREADS:-1}"
started=$(date +%s)
log() { echo "[run.sh +$(( $(date +%s) - started ))s] $*"; }

if [ -d .whl ] && [ -z "${SKIP_WHEELS:-}" ] && [ "$device" = cuda ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site || { log "wheel install failed"; exit 1; }
fi
# functions/ for `contracts` (the image has it at /app/contracts; here it must win over any installed copy)
export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$PWD:$PWD/functions"

if [ "$device" = cuda ]; then
  results=benchmarks/results/gpu
  model=build/models/full_size_random_tdt.nemo
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
  enc_args=(--batch-sizes 1 16 64 128 256 512 --window-lengths 10 20 30 45 60 --audio-per-batch-s 3600
            --full-s 60 600 1440 --local-s 600 3600 --streaming-s 600)
  tp_args=(--repeat 6 --rounds 1 --batch-sizes 1 16 64 256 --workers "${GPU_JOB_WORKERS:-12}")
  cap_args=(--workloads long --repeat 4 --rounds 1 --batch-sizes 256 --skip-per-file --workers 3)
  conf_args=(--utterances 64 --batch 32 --rounds 3)
  log "1. full-size random model"
  timeout 90 "$py" scripts/build_tiny_random_model.py --full-size --if-missing --out "$model" || log "model build failed"
else
  results=build/gpu_check
  model=build/models/tiny_random_tdt.nemo
  enc_args=(--batch-sizes 1 4 --repeats 1 --window-lengths 10 30 --audio-per-batch-s 120
            --full-s 30 --local-s 60 --streaming-s 60)
  tp_args=(--workloads pool --rounds 1 --batch-sizes 1 8 --skip-per-file --workers 2)
  cap_args=(--workloads pool --rounds 1 --batch-sizes 8 --skip-per-file --workers 3)
  conf_args=(--utterances 4 --batch 2 --rounds 1)
  [ -f "$model" ] || "$py" scripts/build_tiny_random_model.py --if-missing --out "$model"
fi
mkdir -p "$results"

log "2. encoder / decoder / windows / modes"
timeout 110 "$py" benchmarks/gpu/encoder_decoder.py --device "$device" --model "$model" "${enc_args[@]}" \
  --out "$results/encoder_decoder.json" || log "encoder_decoder failed (rc $?)"

log "3. engine end to end"
if [ -f build/engine_media/manifest.json ]; then
  timeout 70 "$py" benchmarks/engine_throughput.py --device "$device" --model "$model" \
    --media build/engine_media "${tp_args[@]}" --out "$results/engine_throughput.json" \
    || log "engine_throughput failed (rc $?)"
else
  log "no build/engine_media (make it with benchmarks/engine_media.py and carry it): skipped"
fi

log "4. summary"
"$py" benchmarks/gpu/summarise.py "$results" || true

log "4b. word confidence: decoder cost off vs on"
timeout 40 "$py" benchmarks/confidence.py --speed-only --device "$device" --model "$model" "${conf_args[@]}" \
  --out "$results/confidence_cost.json" || log "confidence cost failed (rc $?)"

log "5. engine on 4 vCPUs (taskset -c 0-3), GPU utilisation"
failed=""
command -v taskset >/dev/null || failed="$failed taskset"
cpus=$(nproc --all)
if [ "$device" = cuda ]; then
  [ "$cpus" -ge 4 ] || failed="$failed 4-CPUs"
  cpu_list=0-3
else
  cpu_list="0-$(( (cpus < 4 ? cpus : 4) - 1 ))"  # the CPU check: as many of 4 as this machine has
fi
[ -f build/engine_media/manifest.json ] || failed="$failed build/engine_media"
[ -f "$results/encoder_decoder.json" ] || failed="$failed encoder_decoder.json(step-2)"
sampler=""
if [ "$device" = cuda ]; then
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits -lms 200 > "$results/gpu_util_cpu4.csv" &
    sampler=$!
  else
    failed="$failed nvidia-smi"
  fi
fi
if [ -z "$failed" ]; then
  timeout 60 taskset -c "$cpu_list" "$py" benchmarks/engine_throughput.py --device "$device" --model "$model" \
    --media build/engine_media "${cap_args[@]}" --out "$results/engine_cpu4.json" \
    || failed="$failed engine_throughput(rc-$?)"
fi
[ -n "$sampler" ] && kill "$sampler" 2>/dev/null
if [ -z "$failed" ]; then
  require=(); [ "$device" = cuda ] && require=(--require-utilisation)
  "$py" benchmarks/gpu/cpu_capped.py "$results" "${require[@]}" || failed="$failed cpu_capped"
fi
log "6. phrase boosting"
if [ -f build/boosting_media/manifest.json ]; then
  boost_args=(--weights 7 --speed-rounds 5)
  [ "$device" = cuda ] || boost_args=(--rare 8 --control 8 --weights 7 --speed-rounds 1)
  timeout 50 "$py" benchmarks/boosting.py --device "$device" --media build/boosting_media "${boost_args[@]}" \
    --out "$results/boosting.json" || log "boosting failed (rc $?)"
else
  log "no build/boosting_media (make it with benchmarks/boosting.py --media build/boosting_media): skipped"
fi

log "7. diarization cost (Speakers off vs 4, same file)"
diar_args=(--seconds 600 --rounds 3)
[ "$device" = cuda ] || diar_args=(--seconds 30 --rounds 1 --small)
timeout 30 "$py" benchmarks/gpu/diarization_cost.py --device "$device" --model "$model" "${diar_args[@]}" \
  --out "$results/diarization_cost.json" || log "diarization cost failed (rc $?)"

if [ -n "${OUT:-}" ]; then cp "$results"/*.json "$results"/*.csv "$OUT"/ 2>/dev/null || true; fi
if [ -n "$failed" ]; then log "FAILED step 5: missing or failed:$failed"; exit 1; fi
log "done"
