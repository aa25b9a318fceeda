"""Decode any container FFmpeg reads into 16 kHz mono float32, incrementally, with PyAV.

Why PyAV (the FFmpeg libraries in-process) rather than the `ffmpeg` CLI or librosa: it reads from a
Python file object (our S3 range reader), needs no intermediate WAV, and yields fixed-size blocks so
streaming mode holds only the current block. Multi-channel audio is down-mixed by libswresample with
FFmpeg's default matrix (the same as `ffmpeg -ac 1`); per-channel transcripts are future work.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import av
import numpy as np
from contracts.errors import CorruptMedia, DurationOutOfRange, NoAudioStream, NotMedia, ZeroByteObject

SAMPLE_RATE = 16000
_PIECE_SAMPLES = SAMPLE_RATE  # resampler output frame size (1 s)
_DRAIN_EVERY = 32  # input frames pushed between pulls from the graph
MAX_SKIPPED_PACKETS = 100


class _Resampler:
    """FFmpeg filter graph `abuffer -> aresample=16000 -> aformat=flt:mono -> asetnsamples -> abuffersink`.

    Why not `av.AudioResampler`: it returns one small frame per decoded frame (1152 samples for MP3), and
    the per-frame Python work (pull, exception for EAGAIN, to_ndarray) made decoding a 1 h MP3 ~1.4x
    slower than the ffmpeg CLI. Grouping the output into 1 s frames (`asetnsamples`) and pulling only every
    `_DRAIN_EVERY` pushes brings it level with the CLI (benchmarks/gpu_job_memory.py, decode section).
    """

    def __init__(self, template: av.AudioFrame):
        graph = av.filter.Graph()
        source = graph.add_abuffer(
            format=template.format.name,
            layout=template.layout.name,
            channels=template.layout.nb_channels,
            sample_rate=template.sample_rate,
            time_base=template.time_base,
        )
        chain = [
            source,
            graph.add("aresample", str(SAMPLE_RATE)),
            graph.add("aformat", "sample_fmts=flt:channel_layouts=mono"),
            graph.add("asetnsamples", f"n={_PIECE_SAMPLES}:p=0"),
            graph.add("abuffersink"),
        ]
        for upstream, downstream in itertools.pairwise(chain):
            upstream.link_to(downstream)
        graph.configure()
        # Keep the graph referenced: its filter contexts die with it (a dangling push segfaults).
        self._graph = graph
        self._source, self._sink = source, chain[-1]
        self._pushed = 0

    def push(self, frame: av.AudioFrame) -> bool:
        """Push one decoded frame; True when it is time to `drain()` (every `_DRAIN_EVERY` frames).

        A plain method, not a generator: this runs once per decoded frame (138k times for a 1 h MP3)."""
        self._source.push(frame)
        self._pushed += 1
        return self._pushed % _DRAIN_EVERY == 0

    def drain(self) -> Iterator[np.ndarray]:
        while True:
            try:
                out = self._sink.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return
            yield out.to_ndarray().reshape(-1)

    def flush(self) -> Iterator[np.ndarray]:
        self._source.push(None)
        yield from self.drain()


@dataclass
class MediaInfo:
    """What the container declares; `duration_s` may be None (e.g. live-muxed webm) or approximate."""

    duration_s: float | None
    codec: str | None
    sample_rate: int | None
    channels: int | None
    container: str | None


class AudioDecoder:
    """One input's audio stream, decoded and resampled on demand.

    `blocks(n)` yields float32 arrays of exactly `n` samples (the last may be shorter) and counts the
    samples produced, so `duration_s` is the decoded length, not the container's claim. Time spent
    inside FFmpeg (excluding the byte source's own read time) is accumulated in `seconds`.
    """

    def __init__(self, stream: BinaryIO, size: int | None, max_duration_s: float):
        if size == 0:
            raise ZeroByteObject("the object is empty (0 bytes)")
        self.max_duration_s = max_duration_s
        self.samples_decoded = 0
        self.skipped_packets = 0
        self.seconds = 0.0
        started = time.perf_counter()
        try:
            self._container = av.open(stream, mode="r", metadata_errors="ignore")
        except (av.error.InvalidDataError, av.error.EOFError) as exc:
            raise NotMedia(f"FFmpeg cannot read this as media: {exc}") from exc
        except av.error.FFmpegError as exc:
            raise CorruptMedia(f"FFmpeg failed to open the input: {exc}") from exc
        if not self._container.streams.audio:
            self._container.close()
            raise NoAudioStream("the input has no audio stream")
        self._stream = self._container.streams.audio[0]
        self._stream.thread_type = "AUTO"
        self.info = self._media_info()
        self.seconds += time.perf_counter() - started
        if self.info.duration_s is not None and self.info.duration_s > max_duration_s:
            self.close()
            raise DurationOutOfRange(
                f"declared duration {self.info.duration_s:.1f} s exceeds the limit of {max_duration_s:.0f} s"
            )

    def _media_info(self) -> MediaInfo:
        stream = self._stream
        duration_s: float | None = None
        if stream.duration is not None and stream.time_base is not None:
            duration_s = float(stream.duration * stream.time_base)
        elif self._container.duration is not None:
            duration_s = self._container.duration / av.time_base
        ctx = stream.codec_context
        return MediaInfo(
            duration_s=duration_s,
            codec=ctx.name if ctx is not None else None,
            sample_rate=ctx.sample_rate or None,
            channels=ctx.channels or None,
            container=self._container.format.name if self._container.format else None,
        )

    @property
    def duration_s(self) -> float:
        return self.samples_decoded / SAMPLE_RATE

    def _decoded_frames(self) -> Iterator[av.AudioFrame]:
        """Like `container.decode(stream)`, but a packet the decoder rejects is skipped, as the ffmpeg
        CLI does, so one damaged frame (or a concatenated file whose format changes) does not lose a
        long recording. Too many rejected packets mean the input is corrupt."""
        decode = self._stream.decode
        for packet in self._container.demux(self._stream):
            try:
                frames = decode(packet)
            except av.error.InvalidDataError as exc:
                self.skipped_packets += 1
                if self.skipped_packets > MAX_SKIPPED_PACKETS:
                    raise CorruptMedia(f"more than {MAX_SKIPPED_PACKETS} undecodable packets: {exc}") from exc
                continue
            yield from frames

    def _frames(self) -> Iterator[np.ndarray]:
        """Resampled mono float32 pieces (about `_PIECE_SAMPLES` each) as FFmpeg produces them."""
        max_samples = int(self.max_duration_s * SAMPLE_RATE)
        resampler: _Resampler | None = None
        try:
            for frame in self._decoded_frames():
                if resampler is None:
                    resampler = _Resampler(frame)
                try:
                    drain = resampler.push(frame)
                except av.error.FFmpegError:
                    # abuffer refuses frames whose format/layout/rate changed mid-stream: flush what the
                    # old graph holds and continue with a graph built for the new parameters.
                    yield from resampler.flush()
                    resampler = _Resampler(frame)
                    drain = resampler.push(frame)
                if drain:
                    yield from resampler.drain()
                    if self.samples_decoded > max_samples:
                        raise DurationOutOfRange(
                            f"decoded audio exceeds the limit of {self.max_duration_s:.0f} s"
                        )
            if resampler is not None:
                yield from resampler.flush()
        except av.error.FFmpegError as exc:
            raise CorruptMedia(f"decoding failed after {self.duration_s:.1f} s: {exc}") from exc

    def blocks(self, block_samples: int) -> Iterator[np.ndarray]:
        """Yield float32 blocks of `block_samples` (last one shorter); raise if nothing decodes."""
        pending: list[np.ndarray] = []
        pending_n = 0
        frames = self._frames()
        while True:
            started = time.perf_counter()
            piece = next(frames, None)
            self.seconds += time.perf_counter() - started
            if piece is None:
                break
            self.samples_decoded += piece.shape[0]
            pending.append(piece)
            pending_n += piece.shape[0]
            if pending_n >= block_samples:
                merged = np.concatenate(pending)
                start = 0
                while merged.shape[0] - start >= block_samples:
                    yield merged[start : start + block_samples]
                    start += block_samples
                rest = merged[start:]
                pending, pending_n = ([rest], rest.shape[0]) if rest.shape[0] else ([], 0)
        if pending_n:
            yield np.concatenate(pending)
        if self.samples_decoded == 0:
            raise DurationOutOfRange("the audio stream decodes to no samples (empty audio)")

    def read_all(self) -> np.ndarray:
        """The whole signal (full and local-attention modes need it at once anyway)."""
        parts = list(self.blocks(SAMPLE_RATE * 60))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def close(self) -> None:
        self._container.close()

    def __enter__(self) -> AudioDecoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
