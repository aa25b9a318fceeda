"""Python API shared by the CLI, the local emulator, tests and benchmarks (docs/CONTRACTS.md).

`transcribe` opens the source (an `UploadedObject`, read pinned to that exact upload; or a local
path or s3:// URI a person gives) as a stream, decodes it incrementally, runs the chosen mode and
returns the transcript document. `transcribe_request` does the same for a `TranscriptionRequest`
(what a Batch job or a pool worker is given). Bad input surfaces as a `contracts.errors.BadInputError`
subclass; anything else is an internal error for the caller to report. Limits and defaults are
`contracts.settings.Settings`.
"""

from __future__ import annotations

import time
from typing import Any

from contracts.models import TranscriptionRequest, UploadedObject
from contracts.settings import Settings

from gpu_job import model as model_mod
from gpu_job.audio import SAMPLE_RATE, AudioDecoder
from gpu_job.inference import Chunking, transcribe_signal, transcribe_stream
from gpu_job.modes import choose_mode, configure_attention
from gpu_job.storage import open_source
from gpu_job.tokens import to_words
from gpu_job.transcript import Timings, build_document, normalise_words

STREAM_BLOCK_S = 5.0


def load_model(name_or_path: str, device: str | None = None) -> Any:
    """The NeMo ASR model, ready for inference, memoised per process (see gpu_job.model)."""
    return model_mod.load_model(name_or_path, device)


def transcribe_request(
    request: TranscriptionRequest, model: Any, settings: Settings | None = None
) -> dict[str, Any]:
    """Exactly what the request says: its upload, its mode, its streaming window."""
    chunking = request.chunking
    return transcribe(
        request.source, model, mode=request.mode, settings=settings,
        chunk_s=chunking.chunk_s if chunking else None,
        left_s=chunking.left_s if chunking else None,
        right_s=chunking.right_s if chunking else None,
    )  # fmt: skip


def transcribe(
    source: UploadedObject | str,
    model: Any,
    mode: str = "auto",
    chunk_s: float | None = None,
    left_s: float | None = None,
    right_s: float | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Streaming window values left as None take the settings' (CHUNK_S, LEFT_S, RIGHT_S)."""
    settings = settings or Settings.from_env()
    chunk_s = settings.chunk_s if chunk_s is None else chunk_s
    left_s = settings.left_s if left_s is None else left_s
    right_s = settings.right_s if right_s is None else right_s
    info = model_mod.model_info(model)
    started = time.perf_counter()
    # The first job after a (memoised) load pays for it; later jobs in the same process report 0.
    timings = Timings(load=float(getattr(model, "gpu_job_load_seconds", 0.0)))
    model.gpu_job_load_seconds = 0.0
    with (
        open_source(source) as opened,
        AudioDecoder(opened.stream, opened.info.size, settings.max_duration_s) as dec,
    ):
        chosen = choose_mode(mode, dec.info.duration_s, settings)
        configure_attention(model, chosen)
        chunking_doc: dict[str, Any] | None = None
        if chosen == "streaming":
            chunking = Chunking.for_model(model, chunk_s, left_s, right_s)
            t0 = time.perf_counter()
            result = transcribe_stream(model, dec.blocks(int(STREAM_BLOCK_S * SAMPLE_RATE)), chunking)
            timings.inference = time.perf_counter() - t0 - dec.seconds
            tokens = result.tokens
            chunking_doc = {**chunking.seconds(), "chunks": result.chunks}
        else:
            samples = dec.read_all()
            t0 = time.perf_counter()
            tokens = transcribe_signal(model, samples)
            timings.inference = time.perf_counter() - t0
            del samples
        timings.download = opened.read_seconds
        timings.decode = dec.seconds - opened.read_seconds
        duration_s = dec.duration_s
        t0 = time.perf_counter()
        words = normalise_words(to_words(model, tokens), duration_s)
        timings.inference += time.perf_counter() - t0
        media = {
            "duration_s": round(duration_s, 3),
            "codec": dec.info.codec,
            "sample_rate": dec.info.sample_rate,
            "channels": dec.info.channels,
        }
        source_doc = {"uri": opened.info.uri, "etag": opened.info.etag, "size": opened.info.size}
    timings.total = time.perf_counter() - started + timings.load
    return build_document(
        source=source_doc,
        media=media,
        model={"name": info.name, "revision": info.revision},
        mode=chosen,
        chunking=chunking_doc,
        words=words,
        timings=timings,
        hardware={"device": info.device, "gpu": info.gpu, "dtype": info.dtype},
    )
