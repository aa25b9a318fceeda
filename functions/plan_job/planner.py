"""Choose inference mode, GPU size class and path for one upload; build its Plan (pipeline.contracts).

Policy: the most accurate mode the settings' thresholds allow (pipeline.modes.preferred_mode), on
the smallest GPU class that mode fits. If the preferred mode would need more memory than the
largest class has, fall back to the next mode instead of failing: docs/DESIGN.md prefers local
attention over a huge instance because it is cheaper, and streaming always fits. The plan decides;
gpu_job runs exactly the TranscriptionRequest it carries.
"""

from __future__ import annotations

import math

from pipeline.contracts import Plan, PlanRequest, TranscriptionRequest
from pipeline.exact_upload import output_prefix
from pipeline.gpu_classes import GPU_CLASSES, SIZE_ORDER, GpuClass
from pipeline.modes import MODES, preferred_mode
from pipeline.naming import job_name
from pipeline.outcomes import DurationOutOfRange, NoAudioStream
from pipeline.settings import Settings
from pipeline.throughput import INSTANCE_OPTIONS, Throughput, evaluate
from pipeline.types import Chunking, Mode

from plan_job.memory_model import estimate_gb, fits
from plan_job.path import transcribe_path
from plan_job.wiring import Wiring, require


def smallest_fitting_class(estimated_gb: float) -> GpuClass | None:
    for size in SIZE_ORDER:
        if fits(estimated_gb, GPU_CLASSES[size].gpu_memory_gb):
            return GPU_CLASSES[size]
    return None


def choose(duration_s: float | None, settings: Settings) -> tuple[Mode, GpuClass, float]:
    """Return (mode, GPU class, estimated GB), walking down the modes until one fits a class."""
    first = MODES.index(preferred_mode(duration_s, settings))
    length = duration_s or 0.0
    for mode in MODES[first:]:
        estimated = estimate_gb(mode, length, settings.chunk_s, settings.left_s, settings.right_s)
        gpu_class = smallest_fitting_class(estimated)
        if gpu_class is not None:
            return mode, gpu_class, estimated  # type: ignore[return-value]  # MODES are Mode's values
    raise ValueError(
        f"streaming with chunk {settings.chunk_s}+{settings.left_s}+{settings.right_s} s fits no GPU class; "
        "check CHUNK_S/LEFT_S/RIGHT_S"
    )


def validate_duration(duration_s: float | None, max_duration_s: float) -> float | None:
    if duration_s is None:
        return None
    if math.isnan(duration_s) or duration_s <= 0:
        raise DurationOutOfRange(f"duration {duration_s} s is not positive")
    if duration_s > max_duration_s:
        raise DurationOutOfRange(f"duration {duration_s:.1f} s exceeds the maximum of {max_duration_s:.0f} s")
    return duration_s


def build_command(request: TranscriptionRequest) -> list[str]:
    """The per-file job's ContainerOverrides.Command: gpu_job's Batch form reads the request whole."""
    return ["--request", request.model_dump_json()]


def plan(request: PlanRequest, settings: Settings, wiring: Wiring) -> Plan:
    """The Plan; every field the Transcribe and Index states need is ready-made here."""
    source, probe = request.source, request.probe
    if not probe.has_audio:
        raise NoAudioStream(f"{source.uri} has no audio stream")
    duration_s = validate_duration(probe.duration_s, settings.max_duration_s)
    mode, gpu_class, estimated_gb = choose(duration_s, settings)
    chunking = (
        Chunking(chunk_s=settings.chunk_s, left_s=settings.left_s, right_s=settings.right_s)
        if mode == "streaming"
        else None
    )
    instance_types = list(wiring.instance_types.get(gpu_class.name) or gpu_class.instance_types)
    throughput = instance_throughput(gpu_class, instance_types)
    transcription = TranscriptionRequest(
        source=source,
        output_prefix=output_prefix(require(wiring.output_bucket, "OUTPUT_BUCKET"), source.key),
        mode=mode,
        chunking=chunking,
        # the upload's own tag wins over the stack's setting (docs/CHANNELS.md)
        channel_mode=probe.channel_mode or settings.channel_mode,
        # resolved by the Probe (tag > prefix rule > EXPECTED_LANGUAGES, docs/SETTINGS.md); None: any
        expected_languages=probe.expected_languages,
        # the Probe resolved these by pipeline.upload_settings; None only from a ProbeResult made before
        redaction=probe.redaction or settings.redaction,
        redact_audio=settings.redact_audio if probe.redact_audio is None else probe.redact_audio,
        vocabulary=probe.vocabulary,  # resolved and pinned by the Probe (docs/VOCABULARY.md)
        speakers=probe.speakers or settings.speakers,
    )
    return Plan(
        mode=mode,
        size_class=gpu_class.name,
        path=transcribe_path(duration_s, settings, gpu_class.name),
        request=transcription,
        job_queue=require(wiring.job_queues[gpu_class.name], f"JOB_QUEUE_{gpu_class.name.upper()}"),
        job_definition=require(wiring.job_definitions[mode], f"JOB_DEFINITION_{mode.upper()}"),
        job_name=job_name(source.uri, source.etag),
        command=build_command(transcription),
        duration_s=duration_s,
        estimated_gpu_memory_gb=round(estimated_gb, 1),
        gpu=gpu_class.gpu,
        gpu_memory_gb=gpu_class.gpu_memory_gb,
        instance_types=instance_types,
        price_per_hour_usd=gpu_class.price_per_hour_usd,
        throughput_bound=throughput.bound if throughput else None,
        cpu_workers=throughput.cpu_workers if throughput else None,
    )


def instance_throughput(gpu_class: GpuClass, instance_types: list[str]) -> Throughput | None:
    """The throughput model's verdict for the first instance type the queue runs (an operator's
    override included), None when the model does not know that instance."""
    known = {o.name: o for o in INSTANCE_OPTIONS.get(gpu_class.gpu, ())}
    first = known.get(instance_types[0]) if instance_types else None
    return evaluate(gpu_class.gpu, first) if first else None
