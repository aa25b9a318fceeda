"""Peak memory and wall time of gpu_job vs audio length, per mode; and decode speed vs the ffmpeg CLI.

Why: the planner (functions/plan_job) picks a mode and an instance size from a memory model; these
figures calibrate it, and they check the claim that streaming memory does not grow with length.

Each (mode, minutes) case runs `python -m gpu_job` logic in a fresh child process so that its peak RSS
(`os.wait4` rusage, ru_maxrss) is its own. On CUDA the child also reports torch's peak allocated and
reserved VRAM. Inputs are MP3s generated with ffmpeg (tone + pink noise); long ones are built by
stream-copy concatenation of shorter ones, so a 10 h file costs seconds to make and is decoded
incrementally by the job (the 10 h case never holds the whole signal in streaming mode).

CPU (what CI machines can run):
    python benchmarks/gpu_job_memory.py --minutes 1 10 60 600
GPU (full-size Parakeet-TDT-0.6B-v3 architecture, random weights: 24 layers, d_model 1024, 128 mels,
8x subsampling, TDT durations 0-4, 8192 vocab):
    python benchmarks/gpu_job_memory.py --device cuda --full-size --minutes 1 10 24 60 150 600 \
        --full-max-min 60 --local-max-min 600 --skip-decode
(a case that runs out of memory is recorded with the child's exit code and error, not fatal.)
Decode speed only (1 h MP3, 44.1 kHz stereo 128 kb/s, gpu_job.audio vs
`ffmpeg -i x -ar 16000 -ac 1 -f f32le -`):
    python benchmarks/gpu_job_memory.py --decode-only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MEDIA = REPO / "build" / "bench_media"
TINY_MODEL = REPO / "build" / "models" / "tiny_random_tdt.nemo"
FULL_SIZE_MODEL = REPO / "build" / "models" / "full_size_random_tdt.nemo"
RESULTS = REPO / "benchmarks" / "results"
MODES = ("full", "local_attention", "streaming")


# ---------------------------------------------------------------- media
def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-y", "-loglevel", "error", *args], check=True)


def _generate(path: Path, minutes: float, rate: int, channels: int, bitrate: str) -> None:
    seconds = minutes * 60
    _ffmpeg(
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency=440:sample_rate={rate}:duration={seconds}",
        "-f",
        "lavfi",
        "-i",
        f"anoisesrc=color=pink:sample_rate={rate}:duration={seconds}:amplitude=0.2",
        "-filter_complex",
        "[0:a][1:a]amix=inputs=2[a]",
        "-map",
        "[a]",
        "-ac",
        str(channels),
        "-c:a",
        "libmp3lame",
        "-b:a",
        bitrate,
        str(path),
    )


def _concat(path: Path, part: Path, times: int) -> None:
    listing = path.with_suffix(".txt")
    listing.write_text("".join(f"file '{part.name}'\n" for _ in range(times)))
    _ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(path))
    listing.unlink()


def media_for(minutes: int) -> Path:
    """16 kHz mono 32 kb/s MP3 of `minutes`; lengths that are multiples of 60 (or 10) are concatenated."""
    MEDIA.mkdir(parents=True, exist_ok=True)
    path = MEDIA / f"tone_{minutes}min.mp3"
    if path.exists():
        return path
    for base in (60, 10):
        if minutes > base and minutes % base == 0:
            _concat(path, media_for(base), minutes // base)
            return path
    _generate(path, minutes, 16000, 1, "32k")
    return path


def decode_media() -> Path:
    MEDIA.mkdir(parents=True, exist_ok=True)
    path = MEDIA / "decode_60min.mp3"
    if not path.exists():
        _generate(path, 60, 44100, 2, "128k")
    return path


# ---------------------------------------------------------------- children
def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child_transcribe(args: argparse.Namespace) -> None:
    """Runs in the child: load, transcribe one file, print one JSON line of measurements."""
    import torch

    from gpu_job import api

    model = api.load_model(str(args.model), args.device)
    rss_after_load = _rss_mb()
    cuda = args.device == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        vram_after_load = torch.cuda.memory_allocated() / 2**30
    doc = api.transcribe(str(args.media), model, mode=args.mode)
    out: dict[str, Any] = {
        "rss_after_load_mb": round(rss_after_load, 1),
        "timings": doc["timings"],
        "duration_s": doc["media"]["duration_s"],
        "words": len(doc["words"]),
        "chunks": (doc["chunking"] or {}).get("chunks"),
        "transcript_json_mb": round(len(json.dumps(doc)) / 2**20, 2),
    }
    if cuda:
        torch.cuda.synchronize()
        out["vram_model_gb"] = round(vram_after_load, 3)
        out["vram_peak_allocated_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 3)
        out["vram_peak_reserved_gb"] = round(torch.cuda.max_memory_reserved() / 2**30, 3)
    print("RESULT " + json.dumps(out), flush=True)


def child_decode(args: argparse.Namespace) -> None:
    from gpu_job.audio import AudioDecoder

    with open(args.media, "rb") as f, AudioDecoder(f, None, 1e9) as dec:
        samples = sum(block.shape[0] for block in dec.blocks(16000 * 5))
    print("RESULT " + json.dumps({"samples": samples}), flush=True)


def _run_with_rusage(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a child; wall, CPU seconds and peak RSS come from its own rusage (os.wait4), plus its RESULT."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    stdout = proc.stdout.read()
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    result: dict[str, Any] = {
        "wall_s": round(wall, 2),
        "exit": proc.returncode,
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            result.update(json.loads(line[len("RESULT ") :]))
    if proc.returncode != 0:
        result["error"] = stderr.strip().splitlines()[-3:]
    return result


# ---------------------------------------------------------------- parent
def skip_reason(mode: str, minutes: int, args: argparse.Namespace) -> str | None:
    if mode == "full" and minutes > args.full_max_min:
        return (
            f"full attention memory is quadratic in length (> {args.full_max_min} min does not fit "
            "this host; the planner never sends it there)"
        )
    if mode == "local_attention" and minutes > args.local_max_min:
        return (
            f"local attention holds the whole signal; > {args.local_max_min} min skipped for time on this CPU"
        )
    return None


def memory_table(args: argparse.Namespace) -> list[dict[str, Any]]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    if args.device == "cpu":
        env["GPU_JOB_CPU_THREADS"] = str(args.threads)
    rows = []
    for minutes in args.minutes:
        media = media_for(minutes)
        for mode in args.modes:
            row: dict[str, Any] = {"mode": mode, "minutes": minutes, "device": args.device}
            reason = skip_reason(mode, minutes, args)
            if reason:
                row["skipped"] = reason
            else:
                child = ["--child", "transcribe", "--mode", mode, "--media", str(media)]
                cmd = [sys.executable, __file__, *child, "--model", str(args.model), "--device", args.device]
                row.update(_run_with_rusage(cmd, env))
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def decode_comparison(repeats: int) -> dict[str, Any]:
    media = decode_media()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    ours_cmd = [sys.executable, __file__, "--child", "decode", "--media", str(media)]
    ffmpeg_cmd = [
        "ffmpeg",
        "-nostdin",
        "-loglevel",
        "error",
        "-i",
        str(media),
        "-ar",
        "16000",
        "-ac",
        "1",
        "-f",
        "f32le",
        "-",
    ]
    ours, theirs = [], []
    for _ in range(repeats):  # alternate, so both see the same background load
        theirs.append(_run_ffmpeg(ffmpeg_cmd))
        ours.append(_run_with_rusage(ours_cmd, env))
    best_ours = min(ours, key=lambda r: r["wall_s"])
    best_theirs = min(theirs, key=lambda r: r["wall_s"])
    # Python interpreter + import time is part of "ours" wall/CPU; reported separately as a floor.
    startup = _run_with_rusage([sys.executable, "-c", "import av, numpy"], env)
    return {
        "media": media.name,
        "repeats": repeats,
        "gpu_job_audio": {
            "wall_s": best_ours["wall_s"],
            "cpu_s": best_ours["cpu_s"],
            "samples": best_ours.get("samples"),
        },
        "ffmpeg_cli": {"wall_s": best_theirs["wall_s"], "cpu_s": best_theirs["cpu_s"]},
        "python_startup": {"wall_s": startup["wall_s"], "cpu_s": startup["cpu_s"]},
        "ratio_wall": round(best_ours["wall_s"] / best_theirs["wall_s"], 3),
        "ratio_cpu": round(best_ours["cpu_s"] / best_theirs["cpu_s"], 3),
        "all_wall_s": {
            "gpu_job_audio": [r["wall_s"] for r in ours],
            "ffmpeg_cli": [r["wall_s"] for r in theirs],
        },
    }


def _run_ffmpeg(cmd: list[str]) -> dict[str, Any]:
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    return {
        "wall_s": round(time.perf_counter() - started, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "exit": os.waitstatus_to_exitcode(status),
    }


COLUMNS = [
    ("mode", 16),
    ("min", 5),
    ("peak RSS MB", 12),
    ("RSS@load MB", 12),
    ("wall s", 8),
    ("infer s", 8),
    ("decode s", 9),
    ("VRAM GB", 8),
]


def _line(cells: list[Any], note: str) -> str:
    widths = [w for _, w in COLUMNS]
    parts = [
        f"{c!s:<{w}}" if i == 0 else f"{c!s:>{w}}" for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    ]
    return " ".join(parts) + "  " + note


def print_table(rows: list[dict[str, Any]]) -> None:
    print("\n" + _line([name for name, _ in COLUMNS], "note"))
    for r in rows:
        if "skipped" in r:
            print(_line([r["mode"], r["minutes"], *["-"] * 6], f"skipped: {r['skipped']}"))
            continue
        t = r.get("timings", {})
        note = f"exit {r['exit']} {r.get('error', '')}" if r.get("exit") else f"{r.get('words', 0)} words"
        vram = r.get("vram_peak_allocated_gb", "-")
        cells = [r["mode"], r["minutes"], r["peak_rss_mb"], r.get("rss_after_load_mb", "-"), r["wall_s"]]
        cells += [t.get("inference", "-"), t.get("decode", "-"), vram]
        print(_line(cells, note))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--child", choices=["transcribe", "decode"], help=argparse.SUPPRESS)
    parser.add_argument("--media", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--minutes", type=int, nargs="+", default=[1, 10, 60, 600])
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument(
        "--model", type=Path, default=None, help="default: tiny model (cpu) / full-size (--full-size)"
    )
    parser.add_argument(
        "--full-size", action="store_true", help="build/use the full-size random Parakeet-TDT"
    )
    parser.add_argument("--full-max-min", type=int, default=10, help="skip full mode above this length")
    parser.add_argument(
        "--local-max-min", type=int, default=60, help="skip local attention above this length"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads in children")
    parser.add_argument("--decode-only", action="store_true")
    parser.add_argument("--skip-decode", action="store_true")
    parser.add_argument("--decode-repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    if args.child == "transcribe":
        child_transcribe(args)
        return 0
    if args.child == "decode":
        child_decode(args)
        return 0

    if args.model is None:
        args.model = FULL_SIZE_MODEL if args.full_size else TINY_MODEL
    if not args.model.exists():
        extra = ["--full-size"] if args.full_size else []
        subprocess.run(
            [
                sys.executable,
                str(REPO / "scripts" / "build_tiny_random_model.py"),
                "--out",
                str(args.model),
                *extra,
            ],
            check=True,
        )
    report: dict[str, Any] = {
        "host": {"cpus": os.cpu_count(), "device": args.device, "threads": args.threads},
        "model": args.model.name,
    }
    if not args.decode_only:
        report["memory"] = memory_table(args)
        print_table(report["memory"])
    if not args.skip_decode:
        report["decode"] = decode_comparison(args.decode_repeats)
        print("\ndecode 1 h MP3:", json.dumps(report["decode"]))
    suffix = "_cuda" if args.device == "cuda" else ""
    out = args.out or RESULTS / f"gpu_job_memory{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
