"""CPU seconds per audio second of the engine's CPU stage, per format, next to the ffmpeg CLI.

Why: a 4-vCPU GPU instance (g6.xlarge, g6e.xlarge) keeps its GPU busy only if the CPU side of the
engine (download, decode, VAD, window cutting) outruns the GPU. CPU *time* (getrusage), not wall
time, is measured, so the figures hold on a shared machine; the ffmpeg CLI's decode-only cost for
the same file (`ffmpeg -threads 1 -i f -ar 16000 -ac 1 -f null -`, the CPU time of the child) is
the physical anchor on this CPU: compare ratios within one run, not figures across machines.

Columns (CPU seconds per audio second, the best of `--repeats`):
- `ffmpeg_cli`: the CLI decoding and resampling to 16 kHz mono, writing nothing.
- `decode`: gpu_job.audio.AudioDecoder as the engine runs it (16 kHz, channels kept for the router).
- `vad`: the onnx Silero detector (gpu_job.engine.vad) on the file's 16 kHz mono signal.
- `cpu_worker`: one engine CPU worker on the file, CPU-only path (decode, channel router with its
  VAD per channel and mix, window cutting: `Engine._prepare`), the whole process's CPU time.
- `native_decode`: AudioDecoder at the track's own rate (no resampling; what a GPU host decodes).
- `gpu_host_worker`: the same worker on the device path (native decode on the worker thread;
  resampling and the batched VAD in gpu_job.engine.device_front's device thread). The process's CPU time
  less the device thread's own (`DeviceFrontEnd.cpu_s`): on a GPU host that thread only launches
  kernels and copies (benchmarks/gpu/run.sh measures the whole on 4 vCPUs).
  Here the device is the CPU (`--front-device cpu`), so its work is reported apart as
  `front_on_cpu` (what it costs when no GPU is there: the reason CPU-only runs keep today's path).

Run: `.venv/bin/python benchmarks/cpu_stage.py` (about 5 minutes on 2 shared cores); prints a table
and writes benchmarks/results/cpu_stage.json, the figures the planner reads (functions/plan_job/
cpu_stage.json is generated from it by `--planner-figures`).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "functions"))

RESULTS = REPO / "benchmarks" / "results" / "cpu_stage.json"
HEADLINE = "mp3_44k_stereo_128k"


@dataclass(frozen=True)
class Format:
    name: str
    suffix: str
    args: tuple[str, ...]  # ffmpeg output options


FORMATS = (
    Format(HEADLINE, ".mp3", ("-ar", "44100", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k")),
    Format("wav_44k_stereo_s16", ".wav", ("-ar", "44100", "-ac", "2", "-c:a", "pcm_s16le")),
    Format("flac_44k_stereo", ".flac", ("-ar", "44100", "-ac", "2", "-c:a", "flac")),
    Format("m4a_aac_44k_stereo_128k", ".m4a", ("-ar", "44100", "-ac", "2", "-c:a", "aac", "-b:a", "128k")),
    Format("opus_48k_stereo_64k", ".opus", ("-ar", "48000", "-ac", "2", "-c:a", "libopus", "-b:a", "64k")),
    Format("webm_opus_48k_mono_32k", ".webm", ("-ar", "48000", "-ac", "1", "-c:a", "libopus", "-b:a", "32k")),
    Format("telephony_8k_mulaw_wav", ".wav", ("-ar", "8000", "-ac", "1", "-c:a", "pcm_mulaw")),
)


def cpu_self() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def make_speech(seconds: float, seed_minutes: float = 2.0) -> Any:
    """Held-out corpus speech with pauses (scripts/make_speech_corpus.py), 16 kHz mono, tiled to
    `seconds`: decoding and VAD cost do not depend on which words are said."""
    import numpy as np

    from tests.gpu_job import accuracy_support as acc

    gen = acc.corpus_generator()
    bank = gen.WordBank(acc.ESPEAK_CACHE)
    audio = gen.make_long_recording(seed_minutes, acc.long_split_seed(), bank).audio.astype(np.float32)
    reps = -(-int(seconds * 16000) // audio.shape[0])
    return np.tile(audio, reps)[: int(seconds * 16000)]


def write_media(
    out: Path, headline_s: float, other_s: float, only: list[str] | None = None
) -> dict[str, Path]:
    """Stereo speech (right = left delayed 3 ms and 2 dB down: one voice, two mics) encoded per format."""
    import numpy as np

    from tests.gpu_job import accuracy_support as acc

    mono = make_speech(max(headline_s, other_s))
    right = np.concatenate([np.zeros(48, np.float32), mono[:-48]]) * np.float32(10 ** (-2 / 20))
    stereo = np.stack([mono, right], axis=1)
    pcm = (np.clip(stereo, -1, 1) * 32767).round().astype("<i2")
    raw = out / "speech_16k_stereo.s16"
    raw.write_bytes(pcm.tobytes())
    files = {}
    for fmt in FORMATS:
        if only and fmt.name not in only:
            continue
        path = out / f"{fmt.name}{fmt.suffix}"
        seconds = headline_s if fmt.name == HEADLINE else other_s
        subprocess.run(
            [
                "ffmpeg",
                "-nostdin",
                "-y",
                "-loglevel",
                "error",
                "-f",
                "s16le",
                "-ar",
                "16000",
                "-ac",
                "2",
                "-i",
                str(raw),
                "-t",
                str(seconds),
                *fmt.args,
                str(path),
            ],
            check=True,
        )
        files[fmt.name] = path
    del acc
    return files


def ffmpeg_cli_cpu(path: Path) -> float:
    before = cpu_children()
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-threads",
            "1",
            "-loglevel",
            "error",
            "-i",
            str(path),
            "-ar",
            "16000",
            "-ac",
            "1",
            "-f",
            "null",
            "-",
        ],
        check=True,
    )
    return cpu_children() - before


def best(fn: Callable[[], float], repeats: int) -> float:
    return min(fn() for _ in range(repeats))


def decode_cpu(path: Path, native: bool = False) -> tuple[float, float]:
    """(CPU seconds, audio seconds) of AudioDecoder as the engine drives it."""
    from gpu_job.audio import AudioDecoder

    before = cpu_self()
    with path.open("rb") as f, AudioDecoder(f, path.stat().st_size, 86400.0) as dec:
        dec.keep_channels = (dec.info.channels or 1) > 1
        if native:
            dec.native_rate = True
        for _ in dec.blocks(int(60 * getattr(dec, "output_rate", 16000))):
            pass
        return cpu_self() - before, dec.duration_s


def decode_16k_mono(path: Path) -> Any:
    import numpy as np

    from gpu_job.audio import AudioDecoder

    with path.open("rb") as f, AudioDecoder(f, path.stat().st_size, 86400.0) as dec:
        return np.asarray(dec.read_all(), dtype=np.float32)


def vad_cpu(audio: Any) -> float:
    import numpy as np

    from gpu_job.engine.vad import make_detector

    detector = make_detector("onnx")
    block = 60 * 16000
    before = cpu_self()
    for i in range(0, audio.shape[0], block):
        detector.push(audio[i : i + block])
    detector.push(np.zeros(0, np.float32), final=True)
    return cpu_self() - before


def worker_cpu(path: Path, settings: Any) -> tuple[float, float, int]:
    """(process CPU seconds, of which the device front end's thread, windows) of one `Engine._prepare`
    call. The rest is the worker's own thread and FFmpeg's decoder threads."""
    import torch

    from gpu_job.engine.engine import Engine, _EndMsg, _WindowMsg

    engine = Engine(SimpleNamespace(device=torch.device("cpu")), settings)
    windows = []
    ended: list[Any] = []

    def put(msg: Any) -> None:
        (windows if isinstance(msg, _WindowMsg) else ended).append(msg)

    before, front = cpu_self(), 0.0
    try:
        engine._prepare(0, str(path), put, engine.limits.channel_mode)
    finally:
        if getattr(engine, "_front", None) is not None:
            front = engine._front.cpu_s
        getattr(engine, "close", lambda: None)()  # the code before the device front end had none
    total = cpu_self() - before
    end = ended[-1]
    assert isinstance(end, _EndMsg) and end.error is None, end.error
    return total, front, len(windows)


def measure(files: dict[str, Path], repeats: int, device_path: bool) -> list[dict[str, Any]]:
    from gpu_job.engine.engine import EngineSettings

    today = {"front_end": "cpu"} if device_path else {}  # (the code before the front end had no such field)
    cpu_settings = EngineSettings(workers=1, vad_backend="onnx", **today)
    rows = []
    for name, path in files.items():
        audio_s = decode_cpu(path)[1]
        mono = decode_16k_mono(path)
        row: dict[str, Any] = {"format": name, "audio_s": round(audio_s, 2), "bytes": path.stat().st_size}
        per_s: dict[str, float] = {
            "ffmpeg_cli": best(lambda p=path: ffmpeg_cli_cpu(p), repeats),
            "decode": best(lambda p=path: decode_cpu(p)[0], repeats),
            "vad": best(lambda a=mono: vad_cpu(a), repeats),
            "cpu_worker": best(lambda p=path: worker_cpu(p, cpu_settings)[0], repeats),
        }
        if device_path:
            gpu_settings = EngineSettings(
                workers=1, vad_backend="batched", vad_device="cpu", front_end="device", front_device="cpu"
            )
            per_s["native_decode"] = best(lambda p=path: decode_cpu(p, native=True)[0], repeats)
            runs = [worker_cpu(path, gpu_settings) for _ in range(repeats)]
            per_s["gpu_host_worker"] = min(total - front for total, front, _ in runs)
            per_s["front_on_cpu"] = min(front for _, front, _ in runs)
        for key, seconds in per_s.items():
            row[key] = round(seconds / audio_s * 1000, 4)  # ms of CPU per audio second
        row["cpu_worker_vs_ffmpeg"] = round(per_s["cpu_worker"] / per_s["ffmpeg_cli"], 2)
        if device_path:
            row["gpu_host_worker_vs_ffmpeg"] = round(per_s["gpu_host_worker"] / per_s["ffmpeg_cli"], 2)
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


PATHS = {
    "cpu_only": {"front_end": "cpu", "vad_backend": "onnx"},  # today's path, kept for CPU-only hosts
    "device_front": {"front_end": "device", "vad_backend": "batched"},  # a GPU host's, here on the CPU
}


def frame_agreement(files: dict[str, Path], speech: Path) -> dict[str, Any]:
    """Share of 32 ms frames on the same side of 0.5: the exact onnx VAD on FFmpeg's 16 kHz signal
    (today) against the batched sections on the device front end's signal (julius resampling)."""
    import numpy as np

    from gpu_job.audio import AudioDecoder
    from gpu_job.engine.device_front import DeviceFrontEnd

    out: dict[str, Any] = {}
    front = DeviceFrontEnd("cpu")
    try:
        for name, path in {"heldout_long_16k_wav": speech, HEADLINE: files[HEADLINE]}.items():
            today = decode_16k_mono(path)
            with path.open("rb") as f, AudioDecoder(f, path.stat().st_size, 86400.0) as dec:
                dec.native_rate = True
                blocks = list(dec.blocks(dec.output_rate * 60))
                rate = dec.output_rate
            resampler = front.resampler(rate)
            device = np.concatenate([resampler.push(b) for b in blocks] + [resampler.finish()])
            exact = stream_probs(today, lambda: _onnx())
            batched = stream_probs(device, front.detector)
            frames = min(exact.shape[0], batched.shape[0])
            same = float(((exact[:frames] >= 0.5) == (batched[:frames] >= 0.5)).mean())
            out[name] = {
                "frames": int(frames),
                "same_side_of_0_5": round(same, 4),
                "speech_share_onnx": round(float((exact >= 0.5).mean()), 4),
                "speech_share_batched": round(float((batched >= 0.5).mean()), 4),
            }
            print(name, out[name], flush=True)
    finally:
        front.close()
    return out


def _onnx() -> Any:
    from gpu_job.engine.vad import make_detector

    return make_detector("onnx")


def stream_probs(audio: Any, make: Callable[[], Any]) -> Any:
    import numpy as np

    detector = make()
    block = 60 * 16000
    probs = [detector.push(audio[i : i + block]) for i in range(0, audio.shape[0], block)]
    probs.append(detector.push(np.zeros(0, np.float32), final=True))
    return np.concatenate(probs)


def accuracy(tmp: Path, long_minutes: float) -> dict[str, Any]:
    """The accuracy suite's audio and scoring (tests/gpu_job/test_accuracy.py, accuracy_support.py)
    through the batched engine on both paths: WER and word starts of the tiny speech model."""
    from gpu_job import api
    from gpu_job.engine.engine import EngineSettings
    from tests.gpu_job import accuracy_support as acc

    model = api.load_model(str(acc.SPEECH_MODEL), device="cpu")
    heldout = acc.heldout_utterances(60, tmp / "heldout")
    rec, _parts = acc.long_recording(long_minutes, tmp / "long")
    out: dict[str, Any] = {"heldout_utterances": len(heldout), "long_minutes": long_minutes}
    for path_name, fields in PATHS.items():
        settings = EngineSettings(**fields)
        scores = {"heldout": acc.Score(), "long": acc.Score()}
        for r, doc in zip(
            heldout, api.transcribe_many([str(r.path) for r in heldout], model, settings), strict=True
        ):
            assert isinstance(doc, dict), doc
            scores["heldout"].add(r.words, doc)
        scores["long"].add(rec.words, api.transcribe(str(rec.path), model, mode="batched", settings=settings))
        out[path_name] = {
            k: {
                "wer": round(sc.wer, 4),
                "errors": sc.errors,
                "ref_words": sc.ref_words,
                "starts_within_0_25s": round(sc.within(0.25), 4),
                "start_err_p90_s": round(sc.percentile(90), 3),
                "start_err_max_s": round(sc.percentile(100), 3),
            }
            for k, sc in scores.items()
        }
        print(path_name, out[path_name], flush=True)
    out["speech_wav"] = rec.path
    return out


def print_table(rows: list[dict[str, Any]]) -> None:
    keys = [
        k
        for k in (
            "ffmpeg_cli",
            "decode",
            "vad",
            "cpu_worker",
            "native_decode",
            "gpu_host_worker",
            "front_on_cpu",
        )
        if k in rows[0]
    ]
    print("\nms of CPU per audio second (x real time = 1000 / ms)")
    print(f"{'format':26}" + "".join(f"{k:>16}" for k in keys) + f"{'worker/ffmpeg':>15}")
    for row in rows:
        ratio = row.get("gpu_host_worker_vs_ffmpeg", row["cpu_worker_vs_ffmpeg"])
        print(f"{row['format']:26}" + "".join(f"{row[k]:16.3f}" for k in keys) + f"{ratio:15.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--headline-s", type=float, default=600.0, help="length of the headline MP3")
    parser.add_argument("--other-s", type=float, default=180.0, help="length of the other formats' files")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--formats", nargs="*", default=None, help="subset of format names")
    parser.add_argument("--no-device-path", action="store_true", help="only today's CPU-only columns")
    parser.add_argument(
        "--accuracy",
        action="store_true",
        help="also both paths' WER/word starts on the accuracy suite, VAD frame agreement",
    )
    parser.add_argument("--long-minutes", type=float, default=20.0, help="the accuracy suite's long file")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)  # one CPU worker = one thread, as the ffmpeg CLI with -threads 1
    with tempfile.TemporaryDirectory() as tmp:
        files = write_media(Path(tmp), args.headline_s, args.other_s, args.formats)
        started = time.perf_counter()
        rows = measure(files, args.repeats, device_path=not args.no_device_path)
        quality: dict[str, Any] = {}
        if args.accuracy:
            quality["accuracy"] = accuracy(Path(tmp), args.long_minutes)
            speech = quality["accuracy"].pop("speech_wav")
            quality["vad_agreement"] = frame_agreement(files, speech)
    print_table(rows)
    head = next((r for r in rows if r["format"] == HEADLINE), rows[0])
    doc = {
        "what": "ms of CPU time per audio second per stage (benchmarks/cpu_stage.py docstring)",
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "threads": threading.active_count(),
        },
        "headline": head["format"],
        "rows": rows,
        **quality,
        "wall_s": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
