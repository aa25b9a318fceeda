"""`parakeet transcribe`: gpu_job on local files, no AWS; writes json/srt/vtt/txt and reports RTFx.

Mode ``batched`` (the default, as in production) sends every file through one batched engine per model
load (gpu_job.api.transcribe_many); the other modes run file by file (gpu_job.api.transcribe), as the
pipeline would for that mode. Outputs go to ``<out>/<name>.<format>``: a file given by name keeps its
file name's stem (``talk.mp3`` -> ``talk.srt``, which video players pick up next to ``talk.mp4``); files
found in a directory keep their path below that directory. gpu_job is imported only here and only
when a command transcribes, so the stack commands start fast and need no torch.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parakeet_cli.exits import NotFound, UsageError
from parakeet_cli.render import render

MODES = ("batched", "auto", "full", "local_attention", "streaming")
# What a directory walk picks up (a file named on the command line is always tried: content decides).
MEDIA_SUFFIXES = frozenset(
    {
        ".wav",
        ".wave",
        ".mp3",
        ".m4a",
        ".mp4",
        ".m4v",
        ".mov",
        ".aac",
        ".flac",
        ".ogg",
        ".oga",
        ".opus",
        ".webm",
        ".mkv",
        ".mka",
        ".wma",
        ".wmv",
        ".amr",
        ".3gp",
        ".aif",
        ".aiff",
        ".aifc",
        ".caf",
        ".ac3",
        ".mpga",
        ".mpeg",
        ".mpg",
        ".ts",
        ".avi",
        ".flv",
        ".spx",
        ".au",
    }
)

Progress = Callable[[float, str], None]  # (audio seconds done, file name)


@dataclass(frozen=True)
class Input:
    path: Path
    stem: Path  # output path below --out, without the format's suffix


@dataclass
class FileResult:
    input: str
    ok: bool
    duration_s: float | None = None
    words: int = 0
    mode: str | None = None
    language: str | None = None
    processing_s: float | None = None
    rtfx: float | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    error: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "status": "ok" if self.ok else "failed",
            "duration_s": self.duration_s,
            "words": self.words,
            "mode": self.mode,
            "language": self.language,
            "processing_s": self.processing_s,
            "rtfx": self.rtfx,
            "outputs": self.outputs,
            "error": self.error,
        }


def expand_inputs(paths: Sequence[str | Path]) -> list[Input]:
    """Files as given, and the media files under directories (sorted, hidden files skipped)."""
    inputs: list[Input] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in MEDIA_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            inputs.extend(Input(p, p.relative_to(path).with_suffix("")) for p in found)
        elif path.is_file():
            inputs.append(Input(path, Path(path.stem)))
        else:
            raise NotFound(f"no such file or directory: {raw}", path=str(raw))
    if not inputs:
        raise NotFound("no media files found in " + ", ".join(map(str, paths)), paths=[str(p) for p in paths])
    stems: dict[Path, Path] = {}
    for item in inputs:
        if item.stem in stems:
            raise UsageError(
                f"{stems[item.stem]} and {item.path} would write the same outputs ({item.stem}.*): "
                "transcribe them into different --out folders",
                paths=[str(stems[item.stem]), str(item.path)],
            )
        stems[item.stem] = item.path
    return inputs


def declared_duration(path: Path, max_duration_s: float) -> float | None:
    """The container's declared length (opening it is cheap; nothing is decoded), None if unknown."""
    from gpu_job.audio import AudioDecoder
    from gpu_job.storage import open_source

    try:
        with open_source(str(path)) as src, AudioDecoder(src.stream, src.info.size, max_duration_s) as dec:
            return dec.info.duration_s
    except Exception:  # bad input: the transcription reports it properly
        return None


def _quiet_nemo() -> None:
    """NeMo logs INFO lines on stdout, where --json output goes: import its logger (which sets itself up
    at INFO) first, then raise only that logger to WARNING (as gpu_job.cli does)."""
    with contextlib.suppress(ImportError):
        import nemo.utils  # noqa: F401

    logging.getLogger("nemo_logger").setLevel(logging.WARNING)


def _ok_result(item: Input, document: dict[str, Any], out: Path, formats: Sequence[str]) -> FileResult:
    duration = float(document["media"]["duration_s"])
    timings = document["timings"]  # `load` is charged to the first document after a load: not this file's
    processing = max(float(timings["total"]) - float(timings.get("load", 0.0)), 0.0)
    outputs = {}
    for name, text in render(document, formats).items():
        target = out / item.stem.with_name(f"{item.stem.name}.{name}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        outputs[name] = str(target)
    return FileResult(
        input=str(item.path),
        ok=True,
        duration_s=round(duration, 3),
        words=len(document.get("words", [])),
        mode=document.get("mode"),
        language=document.get("language"),
        processing_s=round(processing, 3),
        rtfx=round(duration / processing, 1) if processing > 0 else None,
        outputs=outputs,
    )


def _failed_result(item: Input, error: str, message: str, bad_input: bool) -> FileResult:
    return FileResult(
        input=str(item.path), ok=False, error={"error": error, "message": message, "bad_input": bad_input}
    )


def transcribe_files(
    inputs: Sequence[Input],
    out: Path,
    formats: Sequence[str],
    mode: str = "batched",
    model_name: str | None = None,
    device: str | None = None,
    on_start: Callable[[float | None], None] | None = None,
    on_progress: Progress | None = None,
    vocabulary: Path | None = None,
    languages: str | None = None,
    speakers: str | None = None,
) -> dict[str, Any]:
    """Transcribe, write the outputs, and return the summary (`parakeet transcribe --json` prints it).
    ``vocabulary``: a phrase file (docs/VOCABULARY.md) boosted for every file.

    ``languages`` ('en de', 'any'; None: the EXPECTED_LANGUAGES setting) restricts language ID
    (docs/LANGUAGES.md); an unknown code is a UsageError naming it. ``speakers`` (off, auto, 1-4; None:
    the SPEAKERS setting) labels who spoke (docs/SPEAKERS.md).

    ``on_start(total audio seconds or None)`` is called once the model is loaded and the files are
    probed; ``on_progress(audio seconds, file)`` as each file completes."""
    from pipeline.languages import parse_expected_languages
    from pipeline.outcomes import BadInputError
    from pipeline.settings import Settings
    from pipeline.speakers import parse_speakers

    from gpu_job import api
    from gpu_job.boosting import Vocabulary
    from gpu_job.config import default_device, default_model
    from gpu_job.engine.engine import ItemError

    if mode not in MODES:
        raise UsageError(f"unknown mode {mode!r}: choose from {', '.join(MODES)}")
    limits = Settings.from_env()
    try:
        listed = parse_expected_languages(languages) if languages is not None else None
    except ValueError as exc:
        raise UsageError(f"--languages: {exc}") from None
    expected = (list(listed) or None) if listed is not None else limits.expected_language_list()
    try:
        who = parse_speakers(speakers) if speakers is not None else limits.speakers
    except ValueError as exc:
        raise UsageError(f"--speakers: {exc}") from None
    phrases = None
    if vocabulary is not None:
        try:
            phrases = Vocabulary.from_file(vocabulary, limits)
        except (OSError, BadInputError) as exc:
            raise UsageError(f"--vocabulary {vocabulary}: {type(exc).__name__}: {exc}") from None
    model_name = model_name or default_model()
    _quiet_nemo()
    t0 = time.perf_counter()
    model = api.load_model(model_name, device or default_device())
    load_s = time.perf_counter() - t0
    declared = [declared_duration(i.path, limits.max_duration_s) for i in inputs]
    known = [d for d in declared if d is not None]
    if on_start is not None:
        on_start(sum(known) if known else None)
    results: list[FileResult | None] = [None] * len(inputs)

    def finished(index: int, result: FileResult) -> None:
        results[index] = result
        if on_progress is not None:
            seconds = declared[index] if declared[index] is not None else (result.duration_s or 0.0)
            on_progress(float(seconds or 0.0), inputs[index].path.name)

    started = time.perf_counter()
    if mode == "batched":

        def on_item(index: int, outcome: dict[str, Any] | ItemError) -> None:
            item = inputs[index]
            if isinstance(outcome, ItemError):
                finished(index, _failed_result(item, outcome.error, outcome.message, outcome.bad_input))
            else:
                finished(index, _ok_result(item, outcome, out, formats))

        api.transcribe_many(
            [str(i.path) for i in inputs],
            model,
            limits=limits,
            on_item=on_item,
            vocabularies=[phrases] * len(inputs),
            expected_languages=[expected] * len(inputs),
            speakers=[who] * len(inputs),
        )
    else:
        for index, item in enumerate(inputs):
            try:
                document = api.transcribe(
                    str(item.path),
                    model,
                    mode=mode,
                    limits=limits,
                    vocabulary=phrases,
                    expected_languages=expected,
                    speakers=who,
                )
            except BadInputError as exc:
                finished(index, _failed_result(item, type(exc).__name__, str(exc), True))
                continue
            except Exception as exc:  # this file only (an unreadable path, a decoder crash)
                finished(index, _failed_result(item, type(exc).__name__, str(exc), False))
                continue
            finished(index, _ok_result(item, document, out, formats))
    wall_s = time.perf_counter() - started

    done = [r for r in results if r is not None]
    ok = [r for r in done if r.ok]
    audio_s = sum(r.duration_s or 0.0 for r in ok)
    total = {
        "files": len(done),
        "ok": len(ok),
        "failed": len(done) - len(ok),
        "audio_s": round(audio_s, 3),
        "words": sum(r.words for r in ok),
        "processing_s": round(wall_s, 3),
        "rtfx": round(audio_s / wall_s, 1) if wall_s > 0 and audio_s > 0 else None,
    }
    info = {}
    with contextlib.suppress(Exception):
        from gpu_job.model import model_info

        mi = model_info(model)
        info = {
            "name": mi.name,
            "revision": mi.revision,
            "device": mi.device,
            "gpu": mi.gpu,
            "dtype": mi.dtype,
        }
    return {
        "model": {"requested": model_name, **info, "load_s": round(load_s, 3)},
        "mode": mode,
        "formats": list(formats),
        "out": str(out),
        "files": [r.as_dict() for r in done],
        "total": total,
    }
