"""Encoder and decoder cost apart, and peak accelerator memory per mode and length.

Why apart: the engine's end-to-end throughput (benchmarks/engine_throughput.py) is bounded by the
encoder (the FLOPs), the TDT decoder (a sequential loop per token), and the CPU side (decode + VAD).
Measuring the first two alone says which bound the engine is at, and what fraction of encoder-only
throughput it reaches. Audio content does not change the encoder's cost, so windows are synthetic
(seeded noise); with random weights the decoder's token count is not a real model's (it is reported,
tokens/s, as an upper-bound-ish figure for the loop, not a prediction).

Sections (`--sections`, all by default):
- `encoder`: preprocessor + encoder, `--window-s` windows at each `--batch-sizes`, RTFx, GFLOP per
  audio second (torch's FlopCounterMode on one batch) and achieved TFLOP/s.
- `decoder`: NeMo's batched label-looping TDT decoder on the encoder output of one batch: seconds,
  tokens emitted, tokens/s, RTFx of the decoder alone.
- `windows`: batched mode, per window length: best RTFx and peak memory per window / per audio second
  (what `GPU_JOB_BYTES_PER_AUDIO_S` and the planner need).
- `modes`: peak memory and wall time of full / local_attention / streaming / batched per length.
Rows go to `--out` (JSON). On CPU (`--device cpu`, tiny model, small sizes) the same code runs as a
check of the script (benchmarks/gpu/run.sh with BENCH_DEVICE=cpu).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402

RATE = 16000


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def reset_peak(device: torch.device) -> None:
    sync(device)
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def peak_gb(device: torch.device) -> float | None:
    sync(device)
    return round(torch.cuda.max_memory_allocated() / 2**30, 3) if device.type == "cuda" else None


def noise(batch: int, seconds: float, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, int(seconds * RATE), generator=g) * 0.1


def encode(model: Any, signal: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    length = torch.full((signal.shape[0],), signal.shape[1], device=model.device)
    with torch.inference_mode():
        return model(input_signal=signal.to(model.device), input_signal_length=length)


def timed(fn: Any, device: torch.device, repeats: int) -> float:
    fn()  # warm-up
    sync(device)
    started = time.perf_counter()
    for _ in range(repeats):
        fn()
    sync(device)
    return (time.perf_counter() - started) / repeats


def flops_per_audio_s(model: Any, window_s: float) -> float | None:
    from torch.utils.flop_counter import FlopCounterMode

    try:
        counter = FlopCounterMode(display=False)
        with counter:
            encode(model, noise(2, window_s))
        return counter.get_total_flops() / (2 * window_s)
    except Exception as exc:  # FLOP counting is an extra; never let it stop the measurements
        print(f"flop count failed: {exc}", flush=True)
        return None


def timing_row(section: str, batch: int, window_s: float, seconds: float) -> dict[str, Any]:
    audio = batch * window_s
    return {
        "section": section,
        "batch_size": batch,
        "window_s": window_s,
        "audio_s": audio,
        "wall_s": round(seconds, 5),
        "rtfx": round(audio / seconds, 1),
    }


def is_oom(exc: BaseException) -> bool:
    return isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower()


def section_encoder(model: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    from gpu_job.modes import configure_attention

    configure_attention(model, "batched")
    rows = []
    flops = flops_per_audio_s(model, args.window_s)
    for batch in args.batch_sizes:
        signal = noise(batch, args.window_s).to(model.device)
        reset_peak(model.device)
        try:
            seconds = timed(lambda s=signal: encode(model, s), model.device, args.repeats)
        except RuntimeError as exc:
            if not is_oom(exc):
                raise
            rows.append(
                {"section": "encoder", "batch_size": batch, "window_s": args.window_s, "error": "OOM"}
            )
            break
        audio = batch * args.window_s
        row = {
            **timing_row("encoder", batch, args.window_s, seconds),
            "gflop_per_audio_s": round(flops / 1e9, 2) if flops else None,
            "tflops": round(flops * audio / seconds / 1e12, 1) if flops else None,
            "peak_vram_gb": peak_gb(model.device),
        }
        rows.append(row)
        print(row, flush=True)
    return rows


def section_decoder(model: Any, args: argparse.Namespace, batch: int) -> list[dict[str, Any]]:
    from nemo.collections.asr.parts.utils.rnnt_utils import batched_hyps_to_hypotheses

    from gpu_job.engine.inference import _decoding_computer

    encoded, encoded_len = encode(model, noise(batch, args.window_s, seed=1))
    x = encoded.transpose(1, 2)
    computer = _decoding_computer(model)
    out: dict[str, Any] = {}

    def run() -> None:
        with torch.inference_mode():
            hyps, _ = computer(x=x, out_len=encoded_len)
        out["hyps"] = hyps

    seconds = timed(run, model.device, args.repeats)
    hyps = batched_hyps_to_hypotheses(out["hyps"], batch_size=batch)
    tokens = sum(len(h.y_sequence) for h in hyps)
    audio = batch * args.window_s
    row = {
        **timing_row("decoder", batch, args.window_s, seconds),
        "tokens": tokens,
        "tokens_per_s": round(tokens / seconds, 1),
        "tokens_per_audio_s": round(tokens / audio, 2),
    }
    print(row, flush=True)
    return [row]


def section_windows(model: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Batched mode per window length: the largest batch that fits `--audio-per-batch-s`, its RTFx
    and peak memory, and bytes per padded audio second above the weights."""
    from gpu_job.engine.inference import transcribe_batch
    from gpu_job.modes import configure_attention

    configure_attention(model, "batched")
    rows = []
    sync(model.device)
    weights = torch.cuda.memory_allocated() if model.device.type == "cuda" else 0
    for window in args.window_lengths:
        batch = max(1, int(args.audio_per_batch_s // window))
        signals = [noise(1, window, seed=i)[0].numpy() for i in range(batch)]
        reset_peak(model.device)
        try:
            seconds = timed(lambda s=signals: transcribe_batch(model, s), model.device, 1)
        except RuntimeError as exc:
            if not is_oom(exc):
                raise
            rows.append({"section": "windows", "window_s": window, "batch_size": batch, "error": "OOM"})
            continue
        peak = peak_gb(model.device)
        row = {
            "section": "windows",
            "mode": "batched",
            "window_s": window,
            "batch_size": batch,
            "audio_s": batch * window,
            "wall_s": round(seconds, 4),
            "rtfx": round(batch * window / seconds, 1),
            "peak_vram_gb": peak,
            "vram_per_window_gb": round((peak * 2**30 - weights) / batch / 2**30, 4) if peak else None,
            "bytes_per_audio_s": round((peak * 2**30 - weights) / (batch * window)) if peak else None,
        }
        rows.append(row)
        print(row, flush=True)
    return rows


def section_modes(model: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    from gpu_job.engine.inference import SampleChunking, transcribe_signal, transcribe_stream
    from gpu_job.modes import configure_attention

    rows = []
    plan = [("full", s) for s in args.full_s] + [("local_attention", s) for s in args.local_s]
    plan += [("streaming", s) for s in args.streaming_s]
    for mode, seconds in plan:
        configure_attention(model, mode)
        samples = noise(1, seconds, seed=2)[0].numpy()
        reset_peak(model.device)
        started = time.perf_counter()
        try:
            if mode == "streaming":
                chunking = SampleChunking.for_model(model, 20.0, 5.0, 3.0)
                blocks = (samples[i : i + 5 * RATE] for i in range(0, samples.shape[0], 5 * RATE))
                transcribe_stream(model, blocks, chunking)
            else:
                transcribe_signal(model, samples)
            sync(model.device)
            row: dict[str, Any] = {"wall_s": round(time.perf_counter() - started, 3)}
            row["peak_vram_gb"] = peak_gb(model.device)
        except RuntimeError as exc:
            if not is_oom(exc):
                raise
            row = {"error": "OOM"}
        row = {"section": "modes", "mode": mode, "audio_s": seconds, **row}
        if "wall_s" in row:
            row["rtfx"] = round(seconds / row["wall_s"], 1)
        rows.append(row)
        print(row, flush=True)
        del samples
    configure_attention(model, "batched")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--model", required=True)
    parser.add_argument("--sections", nargs="+", default=["encoder", "decoder", "windows", "modes"])
    parser.add_argument("--window-s", type=float, default=20.0)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8, 32, 64, 128, 256, 512])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--window-lengths", type=float, nargs="+", default=[10, 20, 30, 45, 60])
    parser.add_argument("--audio-per-batch-s", type=float, default=3600.0)
    parser.add_argument("--full-s", type=float, nargs="*", default=[60, 600, 1440])
    parser.add_argument("--local-s", type=float, nargs="*", default=[600, 3600])
    parser.add_argument("--streaming-s", type=float, nargs="*", default=[600])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    os.environ.setdefault("GPU_JOB_CPU_THREADS", "1")

    from gpu_job import api

    model = api.load_model(args.model, args.device)
    info = model.gpu_job_info
    params_m = round(sum(p.numel() for p in model.parameters()) / 1e6, 1)
    meta = {
        "device": info.device,
        "gpu": info.gpu,
        "dtype": info.dtype,
        "model": Path(args.model).name,
        "params_m": params_m,
        "torch": torch.__version__,
    }
    print(meta, flush=True)
    rows: list[dict[str, Any]] = []

    def save() -> None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")

    if "encoder" in args.sections:
        rows += section_encoder(model, args)
        save()
    if "decoder" in args.sections:
        fitted = [r for r in rows if r["section"] == "encoder" and "rtfx" in r]
        best = max(fitted, key=lambda r: r["rtfx"])["batch_size"] if fitted else args.batch_sizes[0]
        rows += section_decoder(model, args, best)
        save()
    if "windows" in args.sections:
        rows += section_windows(model, args)
        save()
    if "modes" in args.sections:
        rows += section_modes(model, args)
        save()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
