"""The engine's front end on the accelerator: resampling to 16 kHz and the VAD, batched across items.

Why: on a 4-vCPU GPU instance the CPU side of the engine must outrun the GPU (docs/CPU_STAGE.md).
Measured per CPU thread (benchmarks/results/cpu_stage.json), FFmpeg's resampling and the onnx
Silero VAD cost more than decoding itself; both are a few convolutions and an LSTM step per 32 ms,
nothing for a GPU. So on a GPU host a CPU worker only decodes at the track's own rate
(gpu_job.audio, `native_rate`) and hands its blocks here:

- `StreamResampler`: julius' windowed-sinc polyphase filter (one strided conv1d, any torch device),
  streamed block by block: each block is filtered with the `width` samples of context before it and
  the output is exactly what filtering the whole signal at once gives (tests check this), so block
  edges leave no clicks. Channels are resampled apart (the channel router mixes after).
- `BatchedDetector`: the sectioned Silero model (gpu_job.engine.vad `Sections`/`score_sections`, the
  `torch` backend's numerics); the sections of every stream with a block in flight are scored as
  one batch on the device.

Both run on one `DeviceFrontEnd` thread, the only thread that touches the device's front-end
models (the TorchScript VAD is not thread-safe; one stream of kernels keeps launches cheap). Workers
submit and wait on a future, so while one worker waits another decodes; whatever requests are
queued when the thread wakes run together. On a CPU-only host the engine keeps FFmpeg's resampler
and the exact onnx VAD in its worker threads instead (the same work here costs more CPU: measured).
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, cast

import numpy as np
import torch

from gpu_job.engine.vad import SAMPLE_RATE, Sections, _Framed, load_torch_model, score_sections


class StreamResampler:
    """`push(block)` at `rate` ((samples,) or (samples, channels) float32) -> the 16 kHz samples it
    completes; `finish()` -> the rest. Concatenated, the outputs equal `julius.resample_frac` of the
    whole signal (floor(n x 16000 / rate) samples, edges replicated as julius pads them)."""

    def __init__(self, rate: int, device: torch.device):
        import julius

        self.rate = rate
        self.device = device
        self._filter = julius.ResampleFrac(rate, SAMPLE_RATE).to(device)
        self._identity = self._filter.old_sr == self._filter.new_sr
        self._old = self._filter.old_sr
        self._width = 0 if self._identity else int(self._filter._width)
        self._buf: torch.Tensor | None = None  # (channels, samples) not yet consumed, with left context
        self._seen = 0  # input samples pushed
        self._made = 0  # output samples returned
        self._mono = True
        self._channels = 1

    def _conv(self, x: torch.Tensor) -> torch.Tensor:
        kernel = cast(torch.Tensor, self._filter.kernel)
        groups = torch.nn.functional.conv1d(x[:, None], kernel, stride=self._old)
        return groups.transpose(1, 2).reshape(x.shape[0], -1)

    def _out(self, y: torch.Tensor) -> np.ndarray:
        out = y.cpu().numpy().T  # (samples, channels)
        self._made += out.shape[0]
        return np.ascontiguousarray(out[:, 0] if self._mono else out, dtype=np.float32)

    def push(self, block: np.ndarray) -> np.ndarray:
        self._mono = block.ndim == 1
        self._channels = 1 if self._mono else int(block.shape[1])
        x = torch.from_numpy(np.ascontiguousarray(block, dtype=np.float32)).to(self.device)
        x = x[None] if self._mono else x.T
        self._seen += x.shape[1]
        if self._identity:
            return self._out(x)
        if self._buf is None:  # left edge: replicated first sample, as julius pads
            self._buf = x[:, :1].expand(-1, self._width)
        buf = torch.cat([self._buf, x], dim=1)
        groups = (buf.shape[1] - 2 * self._width) // self._old
        if groups <= 0:
            self._buf = buf
            return self._out(buf[:, :0])
        y = self._conv(buf[:, : groups * self._old + 2 * self._width])
        self._buf = buf[:, groups * self._old :]
        return self._out(y)

    def finish(self) -> np.ndarray:
        total = math.floor(self._seen * SAMPLE_RATE / self.rate)
        if self._identity or self._buf is None or total <= self._made:
            return np.zeros((0,) if self._mono else (0, self._channels), np.float32)
        buf = self._buf
        pad = buf[:, -1:].expand(-1, self._width + self._old)  # right edge: replicated, as julius
        y = self._conv(torch.cat([buf, pad], dim=1))
        return self._out(y[:, : total - self._made])


class DeviceFrontEnd:
    """One thread that runs every front-end request on `device`; `close()` stops it."""

    def __init__(self, device: torch.device | str, section_frames: int = 64, warmup_frames: int = 16):
        self.device = torch.device(device)
        self.section_frames = section_frames
        self.warmup_frames = warmup_frames
        self._requests: queue.Queue[Any] = queue.Queue()
        self._model: Any = None
        self.vad_batches: list[int] = []  # sections per VAD batch run (how much batching happened)
        self.cpu_s = 0.0  # CPU time of this thread (on a GPU host: kernel launches and copies)
        self._thread = threading.Thread(target=self._loop, daemon=True, name="engine-front")
        self._thread.start()

    # ---------------------------------------------------------------- for workers
    def resampler(self, rate: int) -> Any:
        """A per-stream resampler whose work runs on the front-end thread."""
        inner = self.call(StreamResampler, rate, self.device)
        return _Proxy(self, inner)

    def detector(self) -> BatchedDetector:
        return BatchedDetector(self)

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        future: Future[Any] = Future()
        self._requests.put(("call", (fn, args), future))
        return future.result()

    def score(self, rows: np.ndarray) -> np.ndarray:
        future: Future[Any] = Future()
        self._requests.put(("vad", rows, future))
        return future.result()

    def close(self) -> None:
        self._requests.put(None)
        self._thread.join()

    # ---------------------------------------------------------------- the device thread
    def _loop(self) -> None:
        while True:
            first = self._requests.get()
            if first is None:
                return
            batch = [first]
            while True:  # everything already queued runs now: the VAD sections as one batch
                try:
                    nxt = self._requests.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._requests.put(None)
                    break
                batch.append(nxt)
            started = time.thread_time()
            self._run(batch)
            self.cpu_s += time.thread_time() - started

    def _run(self, batch: list[Any]) -> None:
        for kind, payload, future in batch:
            if kind == "call":
                fn, args = payload
                _settle(future, fn, *args)
        vad = [(rows, future) for kind, rows, future in batch if kind == "vad"]
        if vad:
            self._run_vad(vad)

    def _run_vad(self, requests: list[tuple[np.ndarray, Future[Any]]]) -> None:
        try:
            if self._model is None:
                self._model = load_torch_model(self.device)
            rows = torch.from_numpy(np.concatenate([r for r, _ in requests])).to(self.device)
            scored = score_sections(self._model, rows).cpu().numpy()
            self.vad_batches.append(int(rows.shape[0]))
        except BaseException as exc:  # every waiting worker gets the error, the thread goes on
            for _, future in requests:
                future.set_exception(exc)
            return
        first = 0
        for r, future in requests:
            future.set_result(scored[first : first + r.shape[0]])
            first += r.shape[0]


def _settle(future: Future[Any], fn: Callable[..., Any], *args: Any) -> None:
    try:
        future.set_result(fn(*args))
    except BaseException as exc:
        future.set_exception(exc)


class _Proxy:
    """Calls a front-end object's methods on the front-end thread."""

    def __init__(self, front: DeviceFrontEnd, inner: Any):
        self._front, self._inner = front, inner

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._inner, name)
        return lambda *args: self._front.call(method, *args)


class BatchedDetector(_Framed):
    """A stream's VAD (gpu_job.engine.vad's detector interface) whose sections are scored by the front end,
    batched with the other streams' sections."""

    def __init__(self, front: DeviceFrontEnd):
        super().__init__()
        self._front = front
        self._sections = Sections(front.section_frames, front.warmup_frames)

    def _score(self, used: np.ndarray, frames: int) -> np.ndarray:
        return self._sections.probs(self._front.score(self._sections.cut(used, frames)), frames)
