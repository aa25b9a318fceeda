"""Python API of gpu_job: the CLI, the local emulator, the pool worker, tests, benchmarks (docs/CONTRACTS.md).

`transcribe` opens the source (an `UploadedObject`, read pinned to that exact upload; or a local
path or s3:// URI a person gives) as a stream, decodes it incrementally, runs the chosen mode and
returns the transcript document. `transcribe_request` does the same for a `TranscriptionRequest`
(what a Batch job or a pool worker is given). Bad input surfaces as a `pipeline.outcomes.BadInputError`
subclass; anything else is an internal error for the caller to report. Limits and defaults are
`pipeline.settings.Settings`.

`transcribe_many` runs many sources through the batched engine (gpu_job.engine.engine) per model load and
returns, in input order, a document or an `ItemError` for each: one bad item never fails the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from pipeline.contracts import TranscriptionRequest, UploadedObject
from pipeline.settings import Settings
from pipeline.transcript import TranscriptDocument

from gpu_job import model as model_mod
from gpu_job.audio import SAMPLE_RATE, AudioDecoder
from gpu_job.boosting import Vocabulary, trees
from gpu_job.channels import ChannelRouter, Decision, drop_crosstalk
from gpu_job.engine.engine import Engine, EngineSettings, ItemError, ItemResult
from gpu_job.engine.inference import SampleChunking, transcribe_signal, transcribe_stream
from gpu_job.engine.tokens import DecodedWord, to_words
from gpu_job.engine.vad import make_detector
from gpu_job.modes import choose_mode, configure_attention
from gpu_job.speaker_track import SpeakersOutcome, SpeakerTrack
from gpu_job.speakers import assign_speakers, speaker_count
from gpu_job.storage import open_source
from gpu_job.transcript import PhaseSeconds, build_document, merge_channels, normalise_words

STREAM_BLOCK_S = 5.0


def load_model(name_or_path: str, device: str | None = None) -> Any:
    """The NeMo ASR model, ready for inference, memoised per process (see gpu_job.model)."""
    return model_mod.load_model(name_or_path, device)


def _take_load_seconds(model: Any) -> float:
    """The first job after a (memoised) load pays for it; later jobs in the same process report 0."""
    seconds = float(getattr(model, "gpu_job_load_seconds", 0.0))
    model.gpu_job_load_seconds = 0.0
    return seconds


def _track(track: Any) -> dict[str, Any]:
    return {
        "index": track.index,
        "codec": track.codec,
        "channels": track.channels,
        "sample_rate": track.sample_rate,
        "language": track.language,
        "default": track.default,
    }


def _document(
    model: Any,
    channel_words: dict[int | None, list[DecodedWord]],
    duration_s: float,
    media_info: Any,
    source_doc: dict[str, Any],
    mode: str,
    chunking: dict[str, Any] | None,
    timings: PhaseSeconds,
    decision: Decision | None,
    extra: dict[str, Any] | None = None,
    expected_languages: list[str] | None = None,
    speakers: SpeakersOutcome | None = None,
) -> dict[str, Any]:
    """`channel_words`: the words of each transcribed channel of a split file, else {None: words};
    `expected_languages`: what language ID is restricted to (None: any; docs/LANGUAGES.md);
    `speakers`: who spoke (gpu_job.speaker_track; None: not asked, no `speakers` block)."""
    info = model_mod.model_info(model)
    normalised = merge_channels({c: normalise_words(w, duration_s) for c, w in channel_words.items()})
    speakers_doc: dict[str, Any] | None = None
    if speakers is not None:
        if speakers.used != "off":  # channels or turns -> every word's speaker (gpu_job.speakers)
            normalised = assign_speakers(normalised, speakers.turns)
        speakers_doc = {**speakers.info, "count": speaker_count(normalised)}
    media = {
        "duration_s": round(duration_s, 3),
        "codec": media_info.codec,
        "sample_rate": media_info.sample_rate,
        "channels": media_info.channels,
    }
    document = build_document(
        source=source_doc,
        media=media,
        model={"name": info.name, "revision": info.revision},
        mode=mode,
        chunking=chunking,
        words=normalised,
        timings=timings,
        hardware={"device": info.device, "gpu": info.gpu, "dtype": info.dtype},
        expected_languages=expected_languages,
        speakers=speakers_doc,
    )
    language_warnings = document.pop("warnings")
    document.update(extra or {})
    if media_info.track is not None:
        document["track"] = _track(media_info.track)
    document["other_tracks"] = [_track(t) for t in media_info.other_tracks]
    if decision is not None:
        document["channel_mode"] = decision.as_dict()
    document["warnings"] = [*(decision.warnings if decision is not None else []), *language_warnings]
    # The contract itself, not a copy of it: a document gpu_job cannot validate is its own bug (exit 70),
    # found here rather than by the first consumer.
    TranscriptDocument.model_validate(document)
    return document


def _channel_words(
    decision: Decision | None, words: dict[int | None, list[DecodedWord]], power: Any = None
) -> dict[int | None, list[DecodedWord]]:
    """Route -> words as the document labels them: channels only for a split file, without the
    other channels' echo (gpu_job.channels.drop_crosstalk; the count goes to the measurements)."""
    if decision is None or decision.used != "split":
        return {None: [w for ws in words.values() for w in ws]}
    kept, dropped = drop_crosstalk({c: words.get(c, []) for c in decision.routes}, power)
    decision.measurements = {**(decision.measurements or {}), "crosstalk_words_dropped": dropped}
    return kept


def batched_document(
    model: Any,
    result: ItemResult,
    settings: EngineSettings,
    load_s: float = 0.0,
    vocabulary: Vocabulary | None = None,
    expected_languages: list[str] | None = None,
) -> dict[str, Any]:
    """The transcript document of one engine result (mode `batched`)."""
    prepared = result.prepared
    assert prepared is not None and result.words is not None
    timings = PhaseSeconds(
        download=prepared.download_s,
        decode=prepared.decode_s,
        vad=prepared.vad_s,
        load=load_s,
        inference=result.inference_s,
        total=time.perf_counter() - prepared.started + load_s,
    )
    windows = {"max_window_s": settings.cut.max_window_s, "count": result.windows}
    return _document(
        model,
        _channel_words(prepared.channels, result.channel_words, prepared.frame_power),
        prepared.duration_s,
        prepared.media,
        prepared.source,
        "batched",
        None,
        timings,
        prepared.channels,
        extra={
            "speech_seconds": round(prepared.speech_s, 3),
            "windows": windows,
            "vocabulary": vocabulary.used if vocabulary else None,
        },
        expected_languages=expected_languages,
        speakers=prepared.speakers,
    )


def transcribe_many(
    sources: list[UploadedObject | str],
    model: Any,
    settings: EngineSettings | None = None,
    limits: Settings | None = None,
    channel_modes: list[str] | None = None,
    on_item: Callable[[int, dict[str, Any] | ItemError], None] | None = None,
    vocabularies: list[Vocabulary | None] | None = None,
    expected_languages: list[list[str] | None] | None = None,
    speakers: list[str | None] | None = None,
) -> list[dict[str, Any] | ItemError]:
    """Each source's transcript document (mode `batched`), or its `ItemError`, in input order.

    A per-item failure (bad input, a missing object) is returned in that item's place; an error of the
    model or the GPU is raised (it would fail every item). `settings` default to EngineSettings.from_env();
    `channel_modes` (one per source, docs/CHANNELS.md) to the CHANNEL_MODE setting. `vocabularies`
    (one per source, None: none) are boosted per stream in shared batches (gpu_job.boosting).
    `on_item(index, document or ItemError)` is called as each item completes (a progress bar).
    `expected_languages`: one list per source (the request's, docs/LANGUAGES.md); None: any language.
    `speakers`: one Speakers setting per source (docs/SPEAKERS.md); None: the SPEAKERS setting for all."""
    languages = expected_languages or [None] * len(sources)
    configure_attention(model, "batched")
    engine = Engine(model, settings, limits)
    who = speakers or [engine.limits.speakers] * len(sources)
    vocabs = vocabularies or [None] * len(sources)
    biasing_ids = trees(model).ids(vocabs, engine.limits.vocabulary_boost)
    load_s = _take_load_seconds(model)
    out: list[dict[str, Any] | ItemError | None] = [None] * len(sources)
    for result in engine.transcribe(sources, channel_modes, biasing_ids, who):
        if result.error is not None:
            out[result.index] = result.error
        else:
            out[result.index] = batched_document(
                model, result, engine.settings, load_s, vocabs[result.index], languages[result.index]
            )
            load_s = 0.0
        if on_item is not None:
            on_item(result.index, out[result.index])  # type: ignore[arg-type]
    assert all(o is not None for o in out)
    return out  # type: ignore[return-value]


def _transcribe_one_batched(
    source: UploadedObject | str,
    model: Any,
    settings: EngineSettings | None,
    limits: Settings,
    channel_mode: str,
    vocabulary: Vocabulary | None,
    expected_languages: list[str] | None,
    speakers: str,
) -> dict[str, Any]:
    """The engine's errors are typed per item; for one item, raise as the other modes do."""
    (only,) = transcribe_many(
        [source],
        model,
        settings,
        limits,
        [channel_mode],
        vocabularies=[vocabulary],
        expected_languages=[expected_languages],
        speakers=[speakers],
    )
    if isinstance(only, ItemError):
        raise only.exception
    return only


def transcribe_request(
    request: TranscriptionRequest, model: Any, settings: Settings | None = None
) -> dict[str, Any]:
    """Exactly what the request says: its upload, its mode, its streaming window, its vocabulary (read
    at the version the Probe pinned)."""
    chunking = request.chunking
    limits = settings or Settings.from_env()
    vocabulary = Vocabulary.from_ref(request.vocabulary, limits) if request.vocabulary else None
    return transcribe(
        request.source,
        model,
        mode=request.mode,
        limits=limits,
        chunk_s=chunking.chunk_s if chunking else None,
        left_s=chunking.left_s if chunking else None,
        right_s=chunking.right_s if chunking else None,
        channel_mode=request.channel_mode,
        vocabulary=vocabulary,
        expected_languages=request.expected_languages,
        speakers=request.speakers,
    )


def transcribe(
    source: UploadedObject | str,
    model: Any,
    mode: str = "auto",
    chunk_s: float | None = None,
    left_s: float | None = None,
    right_s: float | None = None,
    limits: Settings | None = None,
    settings: EngineSettings | None = None,
    channel_mode: str | None = None,
    vocabulary: Vocabulary | None = None,
    expected_languages: list[str] | None = None,
    speakers: str | None = None,
) -> dict[str, Any]:
    """`vocabulary`: phrases to boost (gpu_job.boosting), in every mode. `speakers`: the Speakers
    setting (docs/SPEAKERS.md; None: SPEAKERS), in every mode, on the samples decoded for ASR.
    `limits` are the pipeline's Settings (streaming window values left as None take its CHUNK_S,
    LEFT_S, RIGHT_S; `channel_mode` None its CHANNEL_MODE); `settings` are the batched engine's
    (gpu_job.engine.engine.EngineSettings). `expected_languages` is what the request says, resolved
    already (the Probe's rule, or the command line's --languages): None is any language, never a
    fallback to EXPECTED_LANGUAGES, so that an upload's `expected-languages=any` stays any."""
    limits = limits or Settings.from_env()
    channel_mode = channel_mode or limits.channel_mode
    speakers = speakers or limits.speakers
    chunk_s = limits.chunk_s if chunk_s is None else chunk_s
    left_s = limits.left_s if left_s is None else left_s
    right_s = limits.right_s if right_s is None else right_s
    if mode == "batched" or (mode == "auto" and limits.batched_max_s >= limits.max_duration_s):
        return _transcribe_one_batched(
            source, model, settings, limits, channel_mode, vocabulary, expected_languages, speakers
        )
    started = time.perf_counter()
    with (
        open_source(source) as opened,
        AudioDecoder(opened.stream, opened.info.size, limits.max_duration_s) as dec,
    ):
        chosen = choose_mode(mode, dec.info.duration_s, limits)
        if chosen != "batched":
            return _transcribe_opened(
                model,
                opened,
                dec,
                chosen,
                SampleChunking.for_model(model, chunk_s, left_s, right_s) if chosen == "streaming" else None,
                started,
                channel_mode,
                (settings or EngineSettings.from_env()).vad_backend,
                vocabulary,
                trees(model).ids([vocabulary], limits.vocabulary_boost)[0],
                expected_languages,
                SpeakerTrack(speakers, limits.speakers_auto_min_s, device=model.device),
            )
    # auto with BATCHED_MAX_S below the hard limit, and this file short enough: the engine opens it itself
    return _transcribe_one_batched(
        source, model, settings, limits, channel_mode, vocabulary, expected_languages, speakers
    )


def _transcribe_opened(
    model: Any,
    opened: Any,
    dec: AudioDecoder,
    chosen: str,
    chunking: SampleChunking | None,
    started: float,
    channel_mode: str,
    vad_backend: str,
    vocabulary: Vocabulary | None,
    biasing_id: int,
    expected_languages: list[str] | None = None,
    track: SpeakerTrack | None = None,
) -> dict[str, Any]:
    """full / local_attention / streaming: one file, batch 1 (the modes the engine is measured against).

    Channels (docs/CHANNELS.md): the same router and rule as the engine. full and local attention hold
    the whole signal anyway and transcribe a split file channel by channel; streaming transcribes one
    stream, so there `split` (asked, or found by `auto`) is mixed instead, with a warning. `track` hears
    the one signal transcribed (not a split file's channels: there the channel is the speaker); these
    modes run no VAD, so Speakers `auto` measures speech as the span of the words."""
    timings = PhaseSeconds(load=_take_load_seconds(model))
    configure_attention(model, chosen)
    dec.keep_channels = (dec.info.channels or 1) > 1
    router = ChannelRouter(
        channel_mode,
        lambda: make_detector(vad_backend),
        mode=chosen,
        split_supported=chunking is None,
        need_probs=False,
    )
    chunking_doc: dict[str, Any] | None = None
    tokens_by_route: dict[int | None, Any] = {}

    def hear(route: int | None, samples: Any) -> None:
        if route is None and track is not None:
            track.push(samples)

    if chunking is not None:

        def one_stream() -> Any:
            for block in dec.blocks(int(STREAM_BLOCK_S * SAMPLE_RATE)):
                for route, samples, _probs in router.push(block):
                    hear(route, samples)
                    yield samples
            for route, samples, _probs in router.finish():
                if samples.shape[0]:
                    hear(route, samples)
                    yield samples

        t0 = time.perf_counter()
        result = transcribe_stream(model, one_stream(), chunking, biasing_id)
        timings.inference = time.perf_counter() - t0 - dec.seconds
        assert router.decision is not None
        tokens_by_route[router.decision.routes[0]] = result.tokens
        chunking_doc = {**chunking.seconds(), "chunks": result.chunks}
    else:
        parts: dict[int | None, list[Any]] = {}
        for block in dec.blocks(SAMPLE_RATE * 60):
            for route, samples, _probs in router.push(block):
                hear(route, samples)
                parts.setdefault(route, []).append(samples)
        for route, samples, _probs in router.finish():
            hear(route, samples)
            parts.setdefault(route, []).append(samples)
        t0 = time.perf_counter()
        for route, pieces in parts.items():
            tokens_by_route[route] = transcribe_signal(model, np.concatenate(pieces), biasing_id)
        timings.inference = time.perf_counter() - t0
        del parts
    timings.download = opened.read_seconds
    timings.decode = dec.seconds - opened.read_seconds
    t0 = time.perf_counter()
    words = {route: to_words(model, tokens) for route, tokens in tokens_by_route.items()}
    timings.inference += time.perf_counter() - t0
    source_doc = {"uri": opened.info.uri, "etag": opened.info.etag, "size": opened.info.size}
    timings.total = time.perf_counter() - started + timings.load
    decision = router.decision
    channel_words = _channel_words(decision, words, router.frame_power())
    found = None
    if track is not None:
        spoken = [w for ws in channel_words.values() for w in ws]
        span = max((w.end for w in spoken), default=0.0) - min((w.start for w in spoken), default=0.0)
        found = track.finish(decision.used if decision else None, span, dec.duration_s)
    return _document(
        model,
        channel_words,
        dec.duration_s,
        dec.info,
        source_doc,
        chosen,
        chunking_doc,
        timings,
        decision,
        extra={"vocabulary": vocabulary.used if vocabulary else None},
        expected_languages=expected_languages,
        speakers=found,
    )
