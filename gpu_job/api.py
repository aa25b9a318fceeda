"""Python API shared by the CLI, the local emulator, tests and benchmarks (docs/CONTRACTS.md).

`transcribe` opens the source (local path or s3:// URI) as a stream, decodes it incrementally, runs
the chosen mode and returns the transcript document. Bad input surfaces as a `BadInputError`
subclass; anything else is an internal error for the caller to report.
"""

from __future__ import annotations

import time
from typing import Any

from gpu_job import model as model_mod
from gpu_job.audio import SAMPLE_RATE, AudioDecoder
from gpu_job.config import Limits
from gpu_job.inference import Chunking, transcribe_signal, transcribe_stream
from gpu_job.modes import choose_mode, configure_attention
from gpu_job.storage import open_source
from gpu_job.tokens import to_words
from gpu_job.transcript import Timings, build_document, normalise_words

STREAM_BLOCK_S = 5.0


def load_model(name_or_path: str, device: str | None = None) -> Any:
    """The NeMo ASR model, ready for inference, memoised per process (see gpu_job.model)."""
    return model_mod.load_model(name_or_path, device)


def transcribe(
    source: str,
    model: Any,
    mode: str = "auto",
    chunk_s: float = 20.0,
    left_s: float = 5.0,
    right_s: float = 3.0,
    limits: Limits | None = None,
) -> dict[str, Any]:
    limits = limits or Limits.from_env()
    info = model_mod.model_info(model)
    started = time.perf_counter()
    # The first job after a (memoised) load pays for it; later jobs in the same process report 0.
    timings = Timings(load=float(getattr(model, "gpu_job_load_seconds", 0.0)))
    model.gpu_job_load_seconds = 0.0
    with (
        open_source(source) as opened,
        AudioDecoder(opened.stream, opened.info.size, limits.max_duration_s) as dec,
    ):
        chosen = choose_mode(mode, dec.info.duration_s, limits)
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
