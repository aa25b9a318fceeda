"""The batched inference engine: many audio items in, per-item words with global timestamps out.

Why: per-file, batch-1 inference leaves the GPU waiting on the CPU (download, decode, one window at
a time). Here CPU worker threads open, decode (gpu_job.audio) and VAD-cut (gpu_job.engine.vad,
gpu_job.engine.windows) items while the calling thread runs the GPU; between them a bounded queue of
windows, so memory stays bounded however many items are waiting and however long one is (a long file
is streamed in blocks: only the open window's audio is held). The GPU side gathers a few batches'
worth of windows from any items, sorts them by length and packs them under a padded-audio budget
(gpu_job.engine.batching), runs the encoder (bf16 on GPU, see gpu_job.model) and NeMo's batched
label-looping TDT decoder on each batch (gpu_job.engine.inference.transcribe_batch), and yields an item as
soon as its last window is decoded. Silence and noise never reach the model: the VAD drops them.

Where the CPU and the GPU meet (docs/CPU_STAGE.md): on a CUDA model the workers only decode, at the
track's own rate; resampling to 16 kHz and the VAD run on the device, batched across items
(gpu_job.engine.device_front, `front_end`/`vad_backend` "auto"). On a CPU-only host they stay in the
workers (FFmpeg's resampler, the exact onnx VAD), as cheaper there. Turning tokens into words and
assembling items happen on a post-processing thread, so the GPU thread only packs batches and
launches the encoder and decoder.

Errors are per item: an item whose input is bad (or whose download fails) yields an `ItemError`
and the others go on. An error on the GPU side is not an item's fault and propagates.
"""

from __future__ import annotations

import contextlib
import functools
import os
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from pipeline import throughput
from pipeline.contracts import UploadedObject
from pipeline.outcomes import BadInputError
from pipeline.settings import Settings

from gpu_job.audio import SAMPLE_RATE, AudioDecoder, DeclaredMedia
from gpu_job.channels import ChannelRouter, Decision
from gpu_job.engine.batching import pack
from gpu_job.engine.device_front import DeviceFrontEnd
from gpu_job.engine.inference import transcribe_batch
from gpu_job.engine.tokens import DecodedWord, to_words
from gpu_job.engine.vad import make_detector
from gpu_job.engine.windows import CutSettings, Window, WindowCutter
from gpu_job.speaker_track import SpeakersOutcome, SpeakerTrack
from gpu_job.storage import open_source

CPU_BATCH_AUDIO_S = 240.0
CPU_WORKERS = 2
# Peak encoder working set per second of padded audio in a batch, bf16 (inference_mode). A
# conservative estimate until benchmarks/gpu/run.sh calibrates it on the GPU (see gpu_job/README.md);
# override with GPU_JOB_BYTES_PER_AUDIO_S.
GPU_BYTES_PER_AUDIO_S = 4.0e6
GPU_MEMORY_FRACTION = 0.6  # of the free memory after the model is loaded


def _env(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


@dataclass(frozen=True)
class EngineSettings:
    cut: CutSettings = field(default_factory=CutSettings)
    batch_audio_s: float | None = None  # padded audio seconds per batch; None: from GPU memory or CPU default
    max_batch_windows: int = 256
    # CPU threads that open, decode and cut items; None: sized by pipeline.throughput on CUDA (enough to
    # outrun this GPU, within the vCPUs this process may use), CPU_WORKERS on a CPU-only host
    workers: int | None = None
    queue_windows: int = 64  # prepared windows waiting for the GPU, at most
    gather_batches: int = 4  # batches' worth of windows sorted together
    linger_s: float = 0.05  # how long windows in hand wait for more before a batch runs
    block_s: float = 60.0  # decode/VAD block
    # gpu_job.engine.vad: "onnx" (exact, CPU threads), "torch" (sections, any device, per worker), "batched"
    # (sections of all items in one batch on the front end's device); "auto": batched on CUDA, else onnx
    vad_backend: str = "auto"
    vad_device: str = "cpu"  # the "torch" backend's device
    # where resampling to 16 kHz runs: "cpu" (FFmpeg, in the workers), "device" (gpu_job.engine.device_front);
    # "auto": device on CUDA, else cpu
    front_end: str = "auto"
    front_device: str | None = None  # the front end's device; None: the model's

    @classmethod
    def from_env(cls) -> EngineSettings:
        batch = os.environ.get("GPU_JOB_BATCH_AUDIO_S")
        return cls(
            cut=CutSettings(max_window_s=_env("GPU_JOB_MAX_WINDOW_S", CutSettings.max_window_s)),
            batch_audio_s=float(batch) if batch else None,
            workers=int(os.environ["GPU_JOB_WORKERS"]) if os.environ.get("GPU_JOB_WORKERS") else None,
            queue_windows=int(_env("GPU_JOB_QUEUE_WINDOWS", cls.queue_windows)),
            vad_backend=os.environ.get("GPU_JOB_VAD_BACKEND") or cls.vad_backend,
            vad_device=os.environ.get("GPU_JOB_VAD_DEVICE") or cls.vad_device,
            front_end=os.environ.get("GPU_JOB_FRONT_END") or cls.front_end,
            front_device=os.environ.get("GPU_JOB_FRONT_DEVICE") or cls.front_device,
        )

    def resolved(self, device: torch.device) -> EngineSettings:
        """`auto` made concrete for a model on `device`: the device front end on CUDA, the CPU one else."""
        on_gpu = device.type == "cuda"
        front = self.front_end if self.front_end != "auto" else ("device" if on_gpu else "cpu")
        vad = self.vad_backend if self.vad_backend != "auto" else ("batched" if on_gpu else "onnx")
        if front not in ("cpu", "device"):
            raise ValueError(f"unknown front_end {self.front_end!r}; expected auto, cpu or device")
        if vad not in ("onnx", "torch", "batched"):
            raise ValueError(f"unknown VAD backend {self.vad_backend!r}; expected auto, onnx, torch, batched")
        workers = self.workers
        if workers is None:
            workers = cuda_workers(device) if on_gpu else CPU_WORKERS
        return replace(
            self,
            front_end=front,
            vad_backend=vad,
            front_device=self.front_device or str(device),
            workers=workers,
        )


def cuda_workers(device: torch.device) -> int:
    """CPU workers for this GPU on the vCPUs this process may use (taskset/cgroup included): what the
    planner's throughput model says keeps it fed; for a GPU it has no figure for, every spare vCPU."""
    vcpus = len(os.sched_getaffinity(0))
    gpu = throughput.class_gpu(torch.cuda.get_device_name(device))
    if gpu is None:
        return max(1, vcpus - throughput.RESERVED_VCPUS)
    return throughput.cpu_workers(gpu, vcpus)


def batch_budget_samples(settings: EngineSettings, device: torch.device) -> int:
    """Padded samples per batch: configured, or on CUDA a fraction of the free memory over the measured
    bytes per audio second."""
    if settings.batch_audio_s is not None:
        seconds = settings.batch_audio_s
    elif device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        seconds = free * GPU_MEMORY_FRACTION / _env("GPU_JOB_BYTES_PER_AUDIO_S", GPU_BYTES_PER_AUDIO_S)
    else:
        seconds = CPU_BATCH_AUDIO_S
    return max(int(seconds * SAMPLE_RATE), int(settings.cut.max_window_s * SAMPLE_RATE))


@dataclass
class ItemError:
    """A typed per-item failure. `error` is the exception's class name (`CorruptMedia`, `NotMedia`, ... the
    names of pipeline.outcomes, or e.g. `NoSuchKey` for a download error); `bad_input` says whether
    retrying can help (never for bad input)."""

    index: int
    source: str
    error: str
    message: str
    bad_input: bool
    exception: BaseException

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.error, "message": self.message, "input": self.source}


@dataclass
class Prepared:
    """What the CPU side learned about an item while decoding and cutting it."""

    source: dict[str, Any]
    media: DeclaredMedia
    duration_s: float
    speech_s: float
    windows: int
    download_s: float
    decode_s: float
    vad_s: float
    started: float
    resample_s: float = 0.0  # the device front end's resampling, waited for (0: FFmpeg resampled)
    channels: Decision | None = None  # how the channels were transcribed (gpu_job.channels)
    frame_power: Any = None  # split files: per-frame channel power (gpu_job.channels.drop_crosstalk)
    speakers: SpeakersOutcome | None = None  # who spoke (gpu_job.speaker_track); None: not asked


@dataclass
class ItemResult:
    index: int
    source: str
    words: list[DecodedWord] | None = None  # in time order, global timestamps (None when `error`)
    # the same words per route (a channel of a split file; None: the one signal transcribed)
    channel_words: dict[int | None, list[DecodedWord]] = field(default_factory=dict)
    prepared: Prepared | None = None
    # (route, start, words)
    parts: list[tuple[int | None, int, list[DecodedWord]]] = field(default_factory=list)
    windows: int = 0
    inference_s: float = 0.0
    error: ItemError | None = None


@dataclass
class _WindowMsg:
    item: int
    window: Window
    route: int | None = None  # the channel of a split file; None: the file's one signal


@dataclass
class _EndMsg:
    item: int
    source: str
    prepared: Prepared | None = None
    error: ItemError | None = None


@dataclass
class _Words:
    item: int
    route: int | None
    start: int  # the window's global start sample
    words: list[DecodedWord]


class _Stopped(Exception):
    pass


class Engine:
    """`Engine(model, settings).transcribe(sources)` yields one `ItemResult` per source, in completion
    order (each has its input `index`). `model` comes from gpu_job.api.load_model."""

    def __init__(self, model: Any, settings: EngineSettings | None = None, limits: Settings | None = None):
        self.model = model
        self.settings = (settings or EngineSettings.from_env()).resolved(model.device)
        self.limits = limits or Settings.from_env()
        self.budget = batch_budget_samples(self.settings, model.device)
        self.batches: list[int] = []  # batch sizes run
        self._front: DeviceFrontEnd | None = None
        self._front_lock = threading.Lock()

    def front(self) -> DeviceFrontEnd:
        """The device front end (started on first use; `close()` stops it)."""
        with self._front_lock:
            if self._front is None:
                self._front = DeviceFrontEnd(self.settings.front_device or "cpu")
            return self._front

    def close(self) -> None:
        with self._front_lock:
            front, self._front = self._front, None
        if front is not None:
            front.close()

    def _detector_factory(self) -> Any:
        settings = self.settings
        if settings.vad_backend == "batched":
            return self.front().detector
        return functools.partial(make_detector, settings.vad_backend, settings.vad_device)

    # ---------------------------------------------------------------- CPU side
    def _prepare(self, index: int, source: str, put: Any, channel_mode: str, speakers: str | None) -> None:
        started = time.perf_counter()
        settings = self.settings
        track = (
            SpeakerTrack(speakers, self.limits.speakers_auto_min_s, device=self.model.device)
            if speakers
            else None
        )
        try:
            with (
                open_source(source) as opened,
                AudioDecoder(opened.stream, opened.info.size, self.limits.max_duration_s) as dec,
            ):
                # A multi-channel track is decoded per channel; the router decides what is transcribed.
                dec.keep_channels = (dec.info.channels or 1) > 1
                dec.native_rate = settings.front_end == "device"
                router = ChannelRouter(channel_mode, self._detector_factory())
                cutters: dict[int | None, WindowCutter] = {}
                vad_s, resample_s, count = 0.0, 0.0, 0
                resampler: Any = None

                def cut(routed: list[Any], final: bool = False) -> int:
                    windows = []
                    for route, samples, probs in routed:
                        if route is None and track is not None:  # the one signal: what diarization hears
                            track.push(samples)
                        cutter = cutters.setdefault(route, WindowCutter(settings.cut))
                        windows += [(route, w) for w in cutter.push(samples, probs)]
                    if final:
                        windows += [(route, w) for route, cutter in cutters.items() for w in cutter.finish()]
                    for route, w in windows:
                        put(_WindowMsg(index, w, route))
                    return len(windows)

                def route(block: Any) -> int:
                    nonlocal vad_s, resample_s, resampler
                    t0 = time.perf_counter()
                    if dec.native_rate:  # to 16 kHz on the device
                        if resampler is None:
                            resampler = self.front().resampler(dec.output_rate)
                        block = resampler.push(block) if block is not None else resampler.finish()
                        resample_s += time.perf_counter() - t0
                        t0 = time.perf_counter()
                    routed = router.push(block) if block is not None and block.shape[0] else []
                    vad_s += time.perf_counter() - t0
                    return cut(routed)

                for block in dec.blocks(int(settings.block_s * dec.output_rate)):
                    count += route(block)
                if resampler is not None:
                    count += route(None)  # the resampler's last samples
                t0 = time.perf_counter()
                routed = router.finish()
                vad_s += time.perf_counter() - t0
                count += cut(routed, final=True)
                speech_s = sum(c.speech_samples for c in cutters.values()) / SAMPLE_RATE
                decision = router.decision
                found = (
                    track.finish(decision.used if decision else None, speech_s, dec.duration_s)
                    if track is not None
                    else None
                )
                prepared = Prepared(
                    source={"uri": opened.info.uri, "etag": opened.info.etag, "size": opened.info.size},
                    media=dec.info,
                    duration_s=dec.duration_s,
                    speech_s=speech_s,
                    windows=count,
                    download_s=opened.read_seconds,
                    decode_s=dec.seconds - opened.read_seconds,
                    vad_s=vad_s,
                    resample_s=resample_s,
                    started=started,
                    channels=router.decision,
                    frame_power=router.frame_power(),
                    speakers=found,
                )
            put(_EndMsg(index, source, prepared=prepared))
        except _Stopped:
            raise
        except Exception as exc:  # per-item: bad input, or a download/decode failure of this item only
            bad = isinstance(exc, BadInputError)
            error = ItemError(index, source, type(exc).__name__, str(exc), bad, exc)
            put(_EndMsg(index, source, error=error))

    def _worker(
        self,
        sources: Iterator[tuple[int, tuple[str, str, str | None]]],
        lock: threading.Lock,
        q: queue.Queue[Any],
        stop: threading.Event,
    ) -> None:
        def put(msg: Any) -> None:
            while True:
                if stop.is_set():
                    raise _Stopped
                try:
                    q.put(msg, timeout=0.1)
                    return
                except queue.Full:
                    continue

        try:
            while not stop.is_set():
                with lock:
                    nxt = next(sources, None)
                if nxt is None:
                    return
                self._prepare(nxt[0], nxt[1][0], put, nxt[1][1], nxt[1][2])
        except _Stopped:
            return
        finally:
            q.put(None)  # this worker is done (a sentinel may wait for room; the consumer drains on stop)

    # ---------------------------------------------------------------- GPU side
    def transcribe(
        self,
        sources: Iterable[UploadedObject | str],
        channel_modes: Iterable[str] | None = None,
        biasing_ids: Iterable[int] | None = None,
        speakers: Iterable[str | None] | None = None,
    ) -> Iterator[ItemResult]:
        """`channel_modes` (mix, split, auto; docs/CHANNELS.md) per source; default CHANNEL_MODE.
        `biasing_ids` per source: its vocabulary's phrase-boosting tree (gpu_job.boosting), -1 for none;
        windows of items with different vocabularies still share batches (per-stream biasing).
        `speakers` per source: its Speakers setting (docs/SPEAKERS.md); None (or a None item): no
        speaker labels. Diarization hears the samples the CPU side decoded for ASR."""
        settings = self.settings
        sources = list(sources)
        modes = [self.limits.channel_mode] * len(sources) if channel_modes is None else list(channel_modes)
        if len(modes) != len(sources):
            raise ValueError(f"{len(modes)} channel modes for {len(sources)} sources")
        biasing = [-1] * len(sources) if biasing_ids is None else list(biasing_ids)
        if len(biasing) != len(sources):
            raise ValueError(f"{len(biasing)} biasing ids for {len(sources)} sources")
        q: queue.Queue[Any] = queue.Queue(maxsize=settings.queue_windows)
        stop = threading.Event()
        lock = threading.Lock()
        who = [None] * len(sources) if speakers is None else list(speakers)
        if len(who) != len(sources):
            raise ValueError(f"{len(who)} speakers settings for {len(sources)} sources")
        numbered = iter(enumerate(zip(sources, modes, who, strict=True)))
        threads = [
            threading.Thread(
                target=self._worker, args=(numbered, lock, q, stop), daemon=True, name=f"engine-cpu-{i}"
            )
            for i in range(max(1, settings.workers or 1))
        ]
        for t in threads:
            t.start()
        alive = len(threads)
        items: dict[int, ItemResult] = {}
        ended: set[int] = set()
        pending: list[_WindowMsg] = []
        gather = self.budget * settings.gather_batches
        post = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine-post")
        inflight: list[Future[list[_Words]]] = []
        try:
            while alive or pending or inflight:
                pending_samples = sum(m.window.samples.shape[0] for m in pending)
                # Block while there is nothing to run; with some windows in hand, wait at most `linger_s`
                # for more (dynamic batching: a fuller batch costs the GPU little more than a small one).
                deadline: float | None = None
                while alive and pending_samples < gather:
                    if (pending or inflight) and deadline is None:
                        deadline = time.monotonic() + settings.linger_s
                    timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                    try:
                        msg = q.get(timeout=timeout)
                    except queue.Empty:
                        break
                    if msg is None:
                        alive -= 1
                    elif isinstance(msg, _WindowMsg):
                        pending.append(msg)
                        items.setdefault(msg.item, ItemResult(msg.item, ""))
                        pending_samples += msg.window.samples.shape[0]
                    else:
                        result = items.setdefault(msg.item, ItemResult(msg.item, msg.source))
                        result.source = msg.source
                        result.prepared, result.error = msg.prepared, msg.error
                        ended.add(msg.item)
                    self._collect(inflight, items, wait=False)
                    yield from self._finished(items, ended)
                if pending:
                    inflight += self._run(pending, items, post, biasing)
                    pending = []
                self._collect(inflight, items, wait=not alive and not pending)
                yield from self._finished(items, ended)
        finally:
            stop.set()
            while any(t.is_alive() for t in threads):
                with contextlib.suppress(queue.Empty):
                    q.get(timeout=0.05)
            for t in threads:
                t.join()
            post.shutdown(wait=True, cancel_futures=True)
            self.close()

    def _run(
        self,
        pending: list[_WindowMsg],
        items: dict[int, ItemResult],
        post: ThreadPoolExecutor,
        biasing: list[int],
    ) -> list[Future[list[_Words]]]:
        """Run the batches; their tokens become words on the `post` thread (one future per batch)."""
        # An item that failed after some of its windows were queued has already been reported: drop those.
        pending = [m for m in pending if m.item in items]
        if not pending:
            return []
        lengths = [m.window.samples.shape[0] for m in pending]
        futures = []
        for batch in pack(lengths, self.budget, self.settings.max_batch_windows):
            t0 = time.perf_counter()
            tokens = transcribe_batch(
                self.model,
                [pending[i].window.samples for i in batch],
                [biasing[pending[i].item] for i in batch],
            )
            futures.append(
                post.submit(self._words, [(pending[i], toks) for i, toks in zip(batch, tokens, strict=True)])
            )
            elapsed = time.perf_counter() - t0
            total = sum(lengths[i] for i in batch)
            for i in batch:  # each item is charged its share of the batch's time
                items[pending[i].item].inference_s += elapsed * lengths[i] / total
            self.batches.append(len(batch))
        return futures

    def _words(self, decoded: list[tuple[_WindowMsg, Any]]) -> list[_Words]:
        """On the post-processing thread: each window's words with global timestamps."""
        out = []
        for msg, toks in decoded:
            offset = msg.window.start_s
            words = [
                replace(w, start=w.start + offset, end=w.end + offset) for w in to_words(self.model, toks)
            ]
            out.append(_Words(msg.item, msg.route, msg.window.start, words))
        return out

    @staticmethod
    def _collect(inflight: list[Future[list[_Words]]], items: dict[int, ItemResult], wait: bool) -> None:
        """Hand the words of finished batches to their items, in batch order (all of them if `wait`).
        An error on the post thread (not an item's fault) propagates, as one on the GPU side does."""
        while inflight and (wait or inflight[0].done()):
            for part in inflight.pop(0).result():
                result = items.get(part.item)
                if result is None:  # the item failed meanwhile and was reported
                    continue
                result.parts.append((part.route, part.start, part.words))
                result.windows += 1

    @staticmethod
    def _finished(items: dict[int, ItemResult], ended: set[int]) -> Iterator[ItemResult]:
        for index in sorted(ended):
            result = items[index]
            if result.error is None and (result.prepared is None or result.windows < result.prepared.windows):
                continue
            ended.discard(index)
            del items[index]
            if result.error is None:  # a route's windows never overlap: their order is its words' order
                for route, _start, words in sorted(result.parts, key=lambda part: (part[1], part[0] or 0)):
                    result.channel_words.setdefault(route, []).extend(words)
                result.words = sorted(
                    (w for ws in result.channel_words.values() for w in ws), key=lambda w: w.start
                )
            result.parts = []
            yield result
