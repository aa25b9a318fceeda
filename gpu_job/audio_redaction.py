"""A copy of the upload's transcribed track with the redacted spans silenced (docs/REDACTION.md).

The copy is FLAC in a .flac file, whatever the upload's container: lossless (silence is exact, the
rest of the audio is the upload's samples, bit for bit after decoding), one codec every player and
browser reads, and no lossy re-encode smearing a span's edges into the neighbouring speech. It
keeps the track's sample rate and channels. Each span is widened, ``PAD_S`` before and ``END_PAD_S`` after,
because word times are the model's estimates (±1 encoder frame and the TDT duration head), and a word's end
comes early: benchmarks/pii.py measured the span's end 0.08-0.37 s before the spoken entity's (its start
within 0.11 s), so a symmetric 0.15 s left the last digit's tail audible in most calls. The upload itself
is only read, through the same guarded demuxer as transcription.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any, BinaryIO

import av
import numpy as np
from pipeline.media import transcribed_audio_stream

from gpu_job.demuxers import open_input

PAD_S = 0.15
END_PAD_S = 0.4
AUDIO_NAME = "redacted_audio.flac"
CONTENT_TYPE = "audio/flac"


def silence_windows(
    spans: Sequence[dict[str, Any]], pad_s: float = PAD_S, end_pad_s: float = END_PAD_S
) -> list[tuple[float, float]]:
    """The spans (``start``, ``end`` in seconds) widened by ``pad_s`` before and ``end_pad_s`` after,
    merged where they touch."""
    windows: list[tuple[float, float]] = []
    for start, end in sorted((max(0.0, s["start"] - pad_s), s["end"] + end_pad_s) for s in spans):
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(windows[-1][1], end))
        else:
            windows.append((start, end))
    return windows


def redacted_flac(stream: BinaryIO, spans: Sequence[dict[str, Any]]) -> bytes:
    """The transcribed track of ``stream`` as FLAC with every span (seconds) silenced."""
    windows = silence_windows(spans)
    out = io.BytesIO()
    with open_input(stream) as source, av.open(out, mode="w", format="flac") as sink:
        track = transcribed_audio_stream(source.streams)
        if track is None:  # transcription found this same track, so this is our bug, not bad input
            raise RuntimeError("the upload has no audio stream to redact")
        rate = track.codec_context.sample_rate
        layout = track.codec_context.layout.name
        encoder = sink.add_stream("flac", rate=rate, layout=layout)
        encoder.format = "s16"  # FLAC's 16-bit samples; the decoder's float planes converted
        resampler = av.AudioResampler(format="s16", layout=layout, rate=rate)
        position = 0  # samples written so far
        for frame in source.decode(track):
            assert isinstance(frame, av.AudioFrame)  # an audio stream decodes to audio frames
            for converted in resampler.resample(frame):
                position = _write(sink, encoder, converted, position, rate, windows)
        for converted in resampler.resample(None):
            position = _write(sink, encoder, converted, position, rate, windows)
        for packet in encoder.encode(None):
            sink.mux(packet)
    return out.getvalue()


def _write(
    sink: Any,
    encoder: Any,
    frame: av.AudioFrame,
    position: int,
    rate: int,
    windows: list[tuple[float, float]],
) -> int:
    samples = frame.to_ndarray()  # packed s16: shape (1, samples * channels)
    channels = frame.layout.nb_channels
    count = samples.shape[1] // channels
    interleaved = samples.reshape(count, channels).copy()
    for start_s, end_s in windows:
        first = max(int(start_s * rate) - position, 0)
        last = min(int(np.ceil(end_s * rate)) - position, count)
        if first < last:
            interleaved[first:last] = 0
    silenced = av.AudioFrame.from_ndarray(interleaved.reshape(1, -1), format="s16", layout=frame.layout.name)
    silenced.sample_rate = rate
    silenced.pts = position
    for packet in encoder.encode(silenced):
        sink.mux(packet)
    return position + count
