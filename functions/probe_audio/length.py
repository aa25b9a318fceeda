"""How long to plan for when the container states no length, or one its size cannot hold.

Live recordings have no usable length header: browser MediaRecorder WebM has no Duration element,
a streaming WAV capture leaves its data size at 0 or 0xFFFFFFFF. Rejecting them would reject valid
audio, and believing a header that claims hours for a 5 s object plans the wrong GPU. So Probe
plans with an upper bound and says so (``duration_is_estimate``); gpu_job measures the real length
by decoding and applies ``MAX_DURATION_S`` to what it measured.

The bound is the tighter of two, both cheap: a bounded tail read where the container allows one
(Matroska: the last cluster's timestamp, ``parsers/matroska_tail.py``), and the object size at the
track's bitrate where that is constant (PCM), else at ``MIN_AUDIO_BITRATE``, slower than any
speech codec we accept, so that the bound stays a bound.
"""

from __future__ import annotations

from dataclasses import replace

from pipeline.outcomes import DurationOutOfRange

from probe_audio.finding import ProbeFinding

# bits/s. Below every codec and mode that records speech (Speex's lowest mode is 2.15 kbps, AMR-NB's
# 4.75, Opus's 6): no such stream plays longer than its object's size at this rate.
MIN_AUDIO_BITRATE = 2000


# A stated length this much over the bound is not believed (rounding and headers stay far below).
BOUND_SLACK = 1.05


def constant_bitrate(codec: str, bitrate: int | None) -> int | None:
    """The track's bitrate when it is constant by construction (PCM, G.711), else None: a VBR
    codec's nominal rate is no floor."""
    return bitrate if codec.startswith("pcm_") and bitrate and bitrate > 0 else None


def size_bound_s(size: int, codec: str, bitrate: int | None) -> float:
    """The longest a track can play in ``size`` bytes: at its constant bitrate, else at
    ``MIN_AUDIO_BITRATE``."""
    return size * 8 / (constant_bitrate(codec, bitrate) or MIN_AUDIO_BITRATE)


def checked(result: ProbeFinding, max_duration_s: float) -> ProbeFinding:
    """The finding as the contract returns it, or the typed error for a length out of range.

    A stated length must be positive and within the limit. An estimate is an upper bound, so it
    can only prove "no audio at all"; above the limit it is capped, not rejected: the job decides
    on the measured length.
    """
    if result.duration_is_estimate:
        if not result.duration_s > 0:
            raise DurationOutOfRange(f"no audio after the {result.container} header")
        return replace(result, duration_s=round(min(result.duration_s, max_duration_s), 6))
    if not result.duration_s or result.duration_s <= 0:
        raise DurationOutOfRange(f"no usable duration ({result.duration_s!r}) in {result.container}")
    if result.duration_s > max_duration_s:
        raise DurationOutOfRange(
            f"duration {result.duration_s:.1f} s exceeds the limit of {max_duration_s:.0f} s"
        )
    return result
