"""Generate the acceptance corpus (tests/corpus_cases.py) deterministically, cached by recipe hash.

Every file is made from a :class:`Recipe`, a frozen description (maker name + parameters) whose
SHA-256 names the output file, so a recipe is generated once per machine and a changed recipe
gets a new file: no stale fixture survives an edit. Media come from ffmpeg, espeak-ng and a few
byte-level makers (AMR frames, header patches, truncations); the generators the unit and gpu_job
tests already use are imported, not copied (scripts/make_probe_fixtures.py, tests/gpu_job/
channel_support.py, tests/unit/hostile_inputs.py). Clips are 1-3 s so the whole corpus runs
through the local workflow in a couple of minutes.

    python scripts/make_corpus.py [--out tests/fixtures/generated/corpus]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import struct
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from scripts import make_probe_fixtures as probe_fixtures  # noqa: E402
from tests.gpu_job import channel_support  # noqa: E402
from tests.unit import hostile_inputs  # noqa: E402

DEFAULT_OUT = REPO / "tests" / "fixtures" / "generated" / "corpus"
# Bump when a maker changes what it writes for the same recipe (the hash covers recipes, not code).
GENERATOR_VERSION = 1
# Words the tiny speech model knows (docs/TINY_MODEL.md: digits and everyday words), two phrases
# so that two tracks or two call legs say different things.
PHRASES = {"a": "one two three four five", "b": "six seven eight nine"}
SAMPLE_RATE = 16000
Params = tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class Recipe:
    """How one corpus file is made: a maker of MAKERS and its parameters (hashable, printable)."""

    maker: str
    params: Params = ()

    def get(self, name: str, default: object = None) -> object:
        return dict(self.params).get(name, default)

    def digest(self) -> str:
        text = json.dumps([GENERATOR_VERSION, self.maker, _jsonable(self.params)], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _jsonable(value: object) -> object:
    if isinstance(value, Recipe):
        return {"maker": value.maker, "params": _jsonable(value.params)}
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    return value


def recipe(maker: str, **params: object) -> Recipe:
    return Recipe(maker, tuple(sorted(params.items())))


# ---------------------------------------------------------------- recipe shorthands for the case table
def ff(
    ext: str,
    *args: str,
    source: str = "speech",
    video: bool = False,
    pipe: bool = False,
    seconds: float | None = None,
) -> Recipe:
    """``ffmpeg -i SOURCE [video] ARGS out.EXT``: EXT picks the muxer unless ARGS name one (-f)."""
    return recipe("ffmpeg", ext=ext, args=args, source=source, video=video, pipe=pipe, seconds=seconds)


def raw(data: bytes) -> Recipe:
    return recipe("bytes", data=data)


def noise_bytes(size: int, seed: int, prefix: bytes = b"") -> Recipe:
    return recipe("random", size=size, seed=seed, prefix=prefix)


def truncated(base: Recipe, keep: int | float) -> Recipe:
    """The first ``keep`` bytes of ``base`` (a float: that fraction of it), as an interrupted upload."""
    return recipe("truncate", base=base, keep=keep)


def patched(base: Recipe, patch: str) -> Recipe:
    """``base`` with one of PATCHES applied (streamed-WAV sizes, absurd header fields, noise body)."""
    return recipe("patch", base=base, patch=patch)


# ---------------------------------------------------------------- sources
def _run(*cmd: str, stdout: object = None) -> None:
    subprocess.run(list(cmd), check=True, stdout=stdout)  # type: ignore[call-overload]


def _ffmpeg(*args: str, stdout: object = None) -> None:
    _run("ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args, stdout=stdout)


def _speech(out_dir: Path, phrase: str) -> Path:
    path = out_dir / f"_speech_{phrase}.wav"
    if not path.exists():
        spoken = path.with_suffix(".espeak.wav")
        _run("espeak-ng", "-v", "en", "-s", "150", "-w", str(spoken), PHRASES[phrase])
        _ffmpeg("-i", str(spoken), "-ar", str(SAMPLE_RATE), "-ac", "1", "-c:a", "pcm_s16le", str(path))
        spoken.unlink()
    return path


def _samples(path: Path) -> np.ndarray:
    import wave

    with wave.open(str(path), "rb") as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / 32768.0


def source_path(out_dir: Path, source: str, seconds: float | None) -> list[str]:
    """ffmpeg input arguments for a named source."""
    if source in ("speech", "speech_b"):
        wav = _speech(out_dir, "a" if source == "speech" else "b")
        if seconds:  # a longer clip: the phrase looped (only the cap cases need length)
            return ["-stream_loop", "-1", "-t", f"{seconds}", "-i", str(wav)]
        return ["-i", str(wav)]
    length = seconds or 2.0
    lavfi = {
        "silence": f"anullsrc=r={SAMPLE_RATE}:cl=mono:d={length}",
        "noise": f"anoisesrc=color=brown:sample_rate={SAMPLE_RATE}:duration={length}:amplitude=0.02",
        "tone": f"sine=frequency=440:sample_rate={SAMPLE_RATE}:duration={length}",
        "surround": f"sine=frequency=300:sample_rate=48000:duration={length}",
    }
    if source not in lavfi:
        raise ValueError(f"unknown source {source!r}")
    return ["-f", "lavfi", "-i", lavfi[source]]


# ---------------------------------------------------------------- makers
def make_ffmpeg(r: Recipe, out: Path, out_dir: Path) -> None:
    source, args = str(r.get("source")), tuple(r.get("args") or ())
    seconds = r.get("seconds")
    inputs = [] if source == "none" else source_path(out_dir, source, seconds)  # type: ignore[arg-type]
    if r.get("video") or source == "none":
        inputs += ["-f", "lavfi", "-i", f"testsrc2=size=64x48:rate=5:duration={seconds or 2.0}"]
    if source == "surround":  # 5.1 speech: the phrase in front left/right and centre, tone elsewhere
        inputs = ["-i", str(_speech(out_dir, "a")), *inputs]
        args = (
            "-filter_complex",
            "[0:a]aresample=48000,asplit=3[l][r][c];[1:a]asplit=3[lfe][bl][br];"
            "[l][r][c][lfe][bl][br]join=inputs=6:channel_layout=5.1[a]",
            "-map",
            "[a]",
            *args,
        )
    if r.get("pipe"):
        with out.open("wb") as sink:
            _ffmpeg(*inputs, *args, "pipe:1", stdout=sink)
    else:
        _ffmpeg(*inputs, *args, str(out))


def make_bytes(r: Recipe, out: Path, out_dir: Path) -> None:
    out.write_bytes(r.get("data"))  # type: ignore[arg-type]


def make_random(r: Recipe, out: Path, out_dir: Path) -> None:
    rng = random.Random(r.get("seed"))
    out.write_bytes(bytes(r.get("prefix")) + rng.randbytes(int(r.get("size"))))  # type: ignore[arg-type, call-overload]


def make_truncate(r: Recipe, out: Path, out_dir: Path) -> None:
    data = build(r.get("base"), out_dir).read_bytes()  # type: ignore[arg-type]
    keep = r.get("keep")
    count = int(len(data) * keep) if isinstance(keep, float) else int(keep)  # type: ignore[arg-type, call-overload]
    out.write_bytes(data[:count])


def make_patch(r: Recipe, out: Path, out_dir: Path) -> None:
    data = bytearray(build(r.get("base"), out_dir).read_bytes())  # type: ignore[arg-type]
    out.write_bytes(bytes(PATCHES[str(r.get("patch"))](data)))


def make_amr(r: Recipe, out: Path, out_dir: Path) -> None:
    """AMR-NB (make_probe_fixtures.make_amr_nb: no AMR encoder here) or AMR-WB by hand: the magic, then
    20 ms frames of the highest mode with seeded random payloads (no checksum: they decode, to noise).
    ``container=3gp`` remuxes the AMR-NB stream into 3GPP, as phones store voice memos."""
    if r.get("band") == "nb":
        amr = out.with_suffix(".amr") if r.get("container") == "3gp" else out
        probe_fixtures.make_amr_nb(amr, 2.0)
        if r.get("container") == "3gp":
            _ffmpeg("-i", str(amr), "-c:a", "copy", "-f", "3gp", str(out))
            amr.unlink()
        return
    rng = random.Random(16)  # AMR-WB mode 8 (23.85 kbps): header byte 8 << 3 | 0x04, 60 payload bytes
    out.write_bytes(b"#!AMR-WB\n" + b"".join(b"\x44" + rng.randbytes(60) for _ in range(100)))


def make_stereo(r: Recipe, out: Path, out_dir: Path) -> None:
    """Two channels from the phrases: ``same`` (one voice in both), ``inverted`` (right = -left: the
    mix cancels) or ``call`` (left says phrase a, then right says phrase b, each over faint line
    noise: an agent/customer recording)."""
    a, b = _samples(_speech(out_dir, "a")), _samples(_speech(out_dir, "b"))
    kind = r.get("kind")
    if kind == "same":
        channel_support.write_stereo(out, a, a)
    elif kind == "inverted":
        channel_support.write_stereo(out, a, -a)
    elif kind == "call":
        gap = np.zeros(int(0.6 * SAMPLE_RATE), dtype=np.float32)
        left = np.concatenate([gap, a, gap, np.zeros_like(b), gap])
        right = np.concatenate([gap, np.zeros_like(a), gap, b, gap])
        rng = np.random.default_rng(7)
        floor = np.float32(10 ** (-60 / 20))
        left += rng.standard_normal(left.shape[0]).astype(np.float32) * floor
        right += rng.standard_normal(right.shape[0]).astype(np.float32) * floor
        channel_support.write_stereo(out, left, right)
    else:
        raise ValueError(f"unknown stereo kind {kind!r}")


def make_tracks(r: Recipe, out: Path, out_dir: Path) -> None:
    """Two audio tracks saying different phrases. Matroska: tests/gpu_job/channel_support (second
    default); MP4 and 'no default': scripts/make_probe_fixtures.make_two_tracks."""
    work = out_dir / f"_tracks_{r.digest()}{r.get('ext')}"
    if r.get("ext") == ".mkv" and r.get("default_second"):
        channel_support.write_two_tracks(work, _speech(out_dir, "b"), _speech(out_dir, "a"))
    else:
        probe_fixtures.make_two_tracks(work, default_second=bool(r.get("default_second")))
    shutil.move(work, out)


def make_hostile(r: Recipe, out: Path, out_dir: Path) -> None:
    """One of tests/unit/hostile_inputs.py's playlists, file lists and manifests (port 9: discard;
    nothing may connect anyway)."""
    root = out_dir / "_hostile"
    root.mkdir(exist_ok=True)
    inputs = hostile_inputs.write_inputs(root, 9)
    out.write_bytes(inputs[str(r.get("name"))].read_bytes())


MAKERS: dict[str, Callable[[Recipe, Path, Path], None]] = {
    "ffmpeg": make_ffmpeg,
    "bytes": make_bytes,
    "random": make_random,
    "truncate": make_truncate,
    "patch": make_patch,
    "amr": make_amr,
    "stereo": make_stereo,
    "tracks": make_tracks,
    "hostile": make_hostile,
}


# ---------------------------------------------------------------- byte patches
def _wav_data_size(value: int) -> Callable[[bytearray], bytearray]:
    def patch(data: bytearray) -> bytearray:
        struct.pack_into("<I", data, 4, value if value in (0, 0xFFFFFFFF) else len(data) - 8)
        struct.pack_into("<I", data, data.index(b"data", 12) + 4, value)
        return data

    return patch


def _wav_fmt_field(offset: int, fmt: str, value: int) -> Callable[[bytearray], bytearray]:
    """Set a field of the WAV ``fmt `` chunk (offset from the chunk's body)."""

    def patch(data: bytearray) -> bytearray:
        struct.pack_into(fmt, data, data.index(b"fmt ") + 8 + offset, value)
        return data

    return patch


def _flac_total_samples(samples: int) -> Callable[[bytearray], bytearray]:
    """STREAMINFO's 36-bit total sample count (bytes 13-17 of the block body, low nibble of 13 on)."""

    def patch(data: bytearray) -> bytearray:
        body = 8  # "fLaC" + the block header
        high = data[body + 13] & 0xF0
        data[body + 13] = high | ((samples >> 32) & 0x0F)
        struct.pack_into(">I", data, body + 14, samples & 0xFFFFFFFF)
        return data

    return patch


def _noise_after(offset: int) -> Callable[[bytearray], bytearray]:
    def patch(data: bytearray) -> bytearray:
        rng = random.Random(1)
        data[offset:] = rng.randbytes(len(data) - offset)
        return data

    return patch


def _wav_header_only(data: bytearray) -> bytearray:
    """Everything up to the data chunk's header: a WAV that holds no sample."""
    return data[: data.index(b"data", 12) + 8]


PATCHES: dict[str, Callable[[bytearray], bytearray]] = {
    "wav_header_only": _wav_header_only,
    "wav_size_ffffffff": _wav_data_size(0xFFFFFFFF),
    "wav_size_zero": _wav_data_size(0),
    "wav_size_huge": _wav_data_size(0x7FFF0000),
    "wav_channels_zero": _wav_fmt_field(2, "<H", 0),
    "wav_rate_zero": _wav_fmt_field(4, "<I", 0),
    "flac_claims_30h": _flac_total_samples(30 * 3600 * SAMPLE_RATE),
    "flac_total_samples_unknown": _flac_total_samples(0),
    "noise_after_4k": _noise_after(4096),
}


# ---------------------------------------------------------------- build
def build(r: Recipe, out_dir: Path = DEFAULT_OUT) -> Path:
    """The file for ``r`` (made now unless a file with its hash exists)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    ext = str(r.get("ext") or ".bin")
    out = out_dir / f"{r.digest()}{ext}"
    if not out.exists():
        partial = out.with_name(f"_partial_{out.name}")
        MAKERS[r.maker](r, partial, out_dir)
        partial.rename(out)
    return out


def build_all(recipes: dict[str, Recipe], out_dir: Path = DEFAULT_OUT) -> dict[str, Path]:
    missing = [tool for tool in ("ffmpeg", "espeak-ng") if shutil.which(tool) is None]
    if missing:
        raise RuntimeError(f"{', '.join(missing)} not found: scripts/setup.sh installs them")
    return {name: build(r, out_dir) for name, r in recipes.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    from tests.corpus_cases import CASES

    paths = build_all({c.name: c.recipe for c in CASES}, args.out)
    for case in CASES:
        print(f"{case.name}\t{paths[case.name].stat().st_size}\t{case.key}")


if __name__ == "__main__":
    main()
