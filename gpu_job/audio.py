"""Decode any container FFmpeg reads into 16 kHz mono float32, incrementally, with PyAV.

Why PyAV (the FFmpeg libraries in-process) rather than the `ffmpeg` CLI or librosa: it reads from a
Python file object (our S3 range reader), needs no intermediate WAV, and yields fixed-size blocks so
streaming mode holds only the current block. Only allowed media demuxers run and FFmpeg opens
nothing but the given stream (`gpu_job.demuxers`). By default multi-channel audio is down-mixed by
libswresample with FFmpeg's default matrix (the same as `ffmpeg -ac 1`); with `keep_channels` a
multi-channel track is decoded as (samples, channels) blocks instead, so that gpu_job.channels can
split, mix or pick channels (docs/CHANNELS.md). With `native_rate` the track is decoded at its own
rate (no resampling on the CPU): a GPU host resamples on the device (gpu_job.engine.device_front,
docs/CPU_STAGE.md).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, cast

import av
import numpy as np
from pipeline.media import transcribed_audio_stream
from pipeline.outcomes import CorruptMedia, DurationOutOfRange, NoAudioStream, NotMedia, ZeroByteObject

from gpu_job.demuxers import AudioTrack, audio_tracks, open_input

SAMPLE_RATE = 16000
_PIECE_SAMPLES = SAMPLE_RATE  # resampler output frame size (1 s)
_DRAIN_EVERY = 32  # input frames pushed between pulls from the graph
MAX_SKIPPED_PACKETS = 100
# bits/s: slower than any speech codec (Speex 2.15 kbps, AMR-NB 4.75, Opus 6), so that `size_bound_s`
# stays an upper bound when FFmpeg knows no bitrate (the Probe uses the same floor).
MIN_AUDIO_BITRATE = 2000


# A declared length this much over the bound is not believed (rounding and headers stay far below).
BOUND_SLACK = 1.05


def size_bound_s(size: int | None, codec: str | None, bitrate: int | None) -> float | None:
    """The longest the track can play in `size` bytes: at its bitrate when that is constant by
    construction (PCM, G.711), else at MIN_AUDIO_BITRATE (a VBR codec's nominal rate is no floor)."""
    if not size:
        return None
    constant = bool(codec and codec.startswith("pcm_") and bitrate and bitrate > 0)
    return size * 8 / (bitrate if constant and bitrate else MIN_AUDIO_BITRATE)


class _Resampler:
    """FFmpeg filter graph `abuffer -> aresample=16000 -> aformat=flt:mono -> asetnsamples -> abuffersink`.

    Why not `av.AudioResampler`: it returns one small frame per decoded frame (1152 samples for MP3), and
    the per-frame Python work (pull, exception for EAGAIN, to_ndarray) made decoding a 1 h MP3 ~1.4x
    slower than the ffmpeg CLI. Grouping the output into 1 s frames (`asetnsamples`) and pulling only every
    `_DRAIN_EVERY` pushes brings it level with the CLI (benchmarks/gpu_job_memory.py, decode section).
    """

    def __init__(self, template: av.AudioFrame, layout: str | None = None, rate: int = SAMPLE_RATE):
        """`layout` None: mono (FFmpeg's down-mix); else every frame converted to that channel layout and
        pulled as (samples, channels) arrays. `rate`: the output rate (the first frame's own rate for a
        native-rate decode, so a rate change mid-stream is still resampled to one rate)."""
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
            graph.add("aresample", str(rate)),
            graph.add("aformat", f"sample_fmts=flt:channel_layouts={layout or 'mono'}"),
            graph.add("asetnsamples", f"n={_PIECE_SAMPLES * rate // SAMPLE_RATE}:p=0"),
            graph.add("abuffersink"),
        ]
        for upstream, downstream in itertools.pairwise(chain):
            upstream.link_to(downstream)
        graph.configure()
        # Keep the graph referenced: its filter contexts die with it (a dangling push segfaults).
        self._graph = graph
        self._source, self._sink = source, chain[-1]
        self._pushed = 0
        self._channels = av.AudioLayout(layout).nb_channels if layout else 1

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
            array = cast(av.AudioFrame, out).to_ndarray()
            yield array.reshape(-1) if self._channels == 1 else array.reshape(-1, self._channels)

    def flush(self) -> Iterator[np.ndarray]:
        self._source.push(None)
        yield from self.drain()


@dataclass
class DeclaredMedia:
    """What the container declares about the decoded track, and which track that is.

    `duration_s` is the declared length, None when the container declares none (live-muxed WebM);
    when the declared length is more than the object can hold (a header written by a streaming
    capture), it is replaced by the size bound and `duration_is_estimate` is True. The decoder's
    own `AudioDecoder.duration_s` is the measured length; the limit is applied to that.
    """

    duration_s: float | None
    codec: str | None
    sample_rate: int | None
    channels: int | None
    container: str | None
    duration_is_estimate: bool = False
    track_index: int | None = None  # container stream index of the decoded audio track
    other_tracks: tuple[AudioTrack, ...] = ()  # the other audio tracks, not decoded
    track: AudioTrack | None = None  # the decoded track itself


class AudioDecoder:
    """One input's audio track, decoded and resampled on demand.

    The track is the one marked default, else the first (`gpu_job.demuxers`, the Probe's rule too).
    `blocks(n)` yields float32 arrays of exactly `n` samples (the last may be shorter) and counts the
    samples produced, so `duration_s` is the decoded length, not the container's claim. Time spent
    inside FFmpeg (excluding the byte source's own read time) is accumulated in `seconds`.

    Set `keep_channels` before reading to get multi-channel tracks as (samples, channels) blocks
    (`channels_out` says how many; a mono track stays 1-D). Set `native_rate` before reading to get
    the blocks at the track's own rate (`output_rate`, fixed by the first decoded frame) instead of
    16 kHz; `duration_s` and the length limit count in that rate.
    """

    def __init__(self, stream: BinaryIO, size: int | None, max_duration_s: float):
        if size == 0:
            raise ZeroByteObject("the object is empty (0 bytes)")
        self.max_duration_s = max_duration_s
        self.samples_decoded = 0
        self.skipped_packets = 0
        self.seconds = 0.0
        self.keep_channels = False
        self.native_rate = False
        self._rate: int | None = None  # the output rate, fixed by the first frame
        self._layout: str | None = None  # the output layout of every resampler, fixed by the first frame
        started = time.perf_counter()
        try:
            self._container = open_input(stream, metadata_errors="ignore")
        except (av.error.InvalidDataError, av.error.EOFError) as exc:
            raise NotMedia(f"FFmpeg cannot read this as media: {exc}") from exc
        except av.error.FFmpegError as exc:
            raise CorruptMedia(f"FFmpeg failed to open the input: {exc}") from exc
        chosen = transcribed_audio_stream(self._container.streams)
        if chosen is None:
            streams = len(self._container.streams)
            self._container.close()
            if not streams:  # the Probe's rule: a container without any stream is cut off, not silent video
                raise CorruptMedia("the input holds no stream at all (truncated or corrupt)")
            raise NoAudioStream("the input has no audio stream")
        self._stream = chosen
        self._stream.thread_type = "AUTO"
        self.info = self._media_info(size)
        self.seconds += time.perf_counter() - started
        declared = self.info.duration_s
        if declared is not None and not self.info.duration_is_estimate and declared > max_duration_s:
            self.close()
            raise DurationOutOfRange(
                f"declared duration {declared:.1f} s exceeds the limit of {max_duration_s:.0f} s"
            )

    def _media_info(self, size: int | None) -> DeclaredMedia:
        stream = self._stream
        duration_s: float | None = None
        if stream.duration is not None and stream.time_base is not None:
            duration_s = float(stream.duration * stream.time_base)
        elif self._container.duration is not None:
            duration_s = self._container.duration / av.time_base
        ctx = stream.codec_context
        bound = size_bound_s(size, ctx.name, ctx.bit_rate) if ctx is not None else None
        estimate = duration_s is not None and bound is not None and duration_s > bound * BOUND_SLACK
        tracks = audio_tracks(self._container)
        return DeclaredMedia(
            duration_s=bound if estimate else duration_s,
            codec=ctx.name if ctx is not None else None,
            sample_rate=ctx.sample_rate or None,
            channels=ctx.channels or None,
            container=self._container.format.name if self._container.format else None,
            duration_is_estimate=estimate,
            track_index=int(stream.index),
            other_tracks=tuple(t for t in tracks if t.index != stream.index),
            track=next((t for t in tracks if t.index == stream.index), None),
        )

    @property
    def output_rate(self) -> int:
        """Samples per second of the blocks: 16 kHz, or with `native_rate` the track's (before the first
        frame, the rate the codec declares)."""
        if not self.native_rate:
            return SAMPLE_RATE
        return self._rate or self.info.sample_rate or SAMPLE_RATE

    @property
    def duration_s(self) -> float:
        return self.samples_decoded / self.output_rate

    @property
    def channels_out(self) -> int:
        """Channels per decoded block: the track's own with `keep_channels` (once decoding started),
        else 1."""
        return av.AudioLayout(self._layout).nb_channels if self._layout else 1

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
        resampler: _Resampler | None = None
        max_samples = 0
        try:
            for frame in self._decoded_frames():
                if resampler is None:
                    if self.keep_channels and frame.layout.nb_channels > 1:
                        self._layout = frame.layout.name
                    if self.native_rate:
                        self._rate = int(frame.sample_rate)
                    max_samples = int(self.max_duration_s * self.output_rate)
                    resampler = _Resampler(frame, self._layout, self.output_rate)
                try:
                    drain = resampler.push(frame)
                except av.error.FFmpegError:
                    # abuffer refuses frames whose format/layout/rate changed mid-stream: flush what the
                    # old graph holds and continue with a graph built for the new parameters.
                    yield from resampler.flush()
                    resampler = _Resampler(frame, self._layout, self.output_rate)
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
        declared = self.info.duration_s if not self.info.duration_is_estimate else None
        if self.samples_decoded == 0 and (self.skipped_packets or (declared or 0) > 0):
            # Not an empty recording: the header states a length, or packets were there, and nothing
            # decoded (e.g. a valid header over a body of noise).
            raise CorruptMedia(
                f"the audio stream decodes to no samples although it declares"
                f" {declared or 0:.1f} s ({self.skipped_packets} undecodable packets)"
            )
        if self.samples_decoded == 0:
            raise DurationOutOfRange("the audio stream decodes to no samples (empty audio)")

    def read_all(self) -> np.ndarray:
        """The whole signal (full and local-attention modes need it at once anyway)."""
        parts = list(self.blocks(self.output_rate * 60))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def close(self) -> None:
        self._container.close()

    def __enter__(self) -> AudioDecoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
