"""Speech media for the engine benchmarks, with the truth the corpus generator knows.

Why a module: benchmarks/engine_throughput.py and benchmarks/engine_window_length.py measure on the
same audio, and the GPU run (benchmarks/gpu/run.sh) has no espeak-ng or ffmpeg CLI, so the media is
made here once (`python benchmarks/engine_media.py --out build/engine_media`) and carried there.

Two workloads, both held-out corpus speech (never used in training; scripts/make_speech_corpus.py):
- `pool`: `--pool-files` single utterances (1-15 s), what a pool worker gets;
- `long`: one `--long-minutes` recording of utterances with 0.5-3 s pauses.
Files are Opus at 24 kb/s (small enough to carry; every mode and row decodes the same bytes), and
`manifest.json` lists each file's duration and true words.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DIR = REPO / "build" / "engine_media"


@dataclass
class MediaFile:
    path: Path
    duration: float
    words: list[dict[str, Any]]  # {word, start, end}


def _encode(wav: Path, out: Path) -> None:
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-y",
            "-loglevel",
            "error",
            "-i",
            str(wav),
            "-c:a",
            "libopus",
            "-b:a",
            "24k",
            str(out),
        ],
        check=True,
    )


def make(out_dir: Path, pool_files: int, long_minutes: float) -> None:
    sys.path.insert(0, str(REPO))
    from tests.gpu_job import accuracy_support as acc

    out_dir.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, list[dict[str, Any]]] = {"pool": [], "long": []}
    with tempfile.TemporaryDirectory() as tmp:
        for rec in acc.heldout_utterances(pool_files, Path(tmp)):
            target = out_dir / (rec.path.stem + ".opus")
            _encode(rec.path, target)
            manifest["pool"].append(_entry(target, rec))
        whole, _parts = acc.long_recording(long_minutes, Path(tmp))
        target = out_dir / (whole.path.stem + ".opus")
        _encode(whole.path, target)
        manifest["long"].append(_entry(target, whole))
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1))


def _entry(path: Path, rec: Any) -> dict[str, Any]:
    words = [{"word": w.word, "start": w.start, "end": w.end} for w in rec.words]
    return {"file": path.name, "duration": rec.duration, "words": words}


def load(media_dir: Path) -> dict[str, list[MediaFile]]:
    manifest = json.loads((media_dir / "manifest.json").read_text())
    return {
        name: [MediaFile(media_dir / e["file"], float(e["duration"]), e["words"]) for e in entries]
        for name, entries in manifest.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--pool-files", type=int, default=60)
    parser.add_argument("--long-minutes", type=float, default=10.0)
    args = parser.parse_args()
    make(args.out, args.pool_files, args.long_minutes)
    media = load(args.out)
    for name, files in media.items():
        size = sum(f.path.stat().st_size for f in files) / 1e6
        print(f"{name}: {len(files)} files, {sum(f.duration for f in files):.0f} s, {size:.1f} MB")


if __name__ == "__main__":
    main()
