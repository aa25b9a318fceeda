"""Load a NeMo TDT model once per process and prepare it for inference.

The local emulator runs several jobs in one process, so models are memoised by (name, device).
Decoding is switched to NeMo's batched label-looping greedy TDT decoder (`greedy_batch`,
`loop_labels=True`): its decoding computer carries decoder state across streaming chunks, and with
`tdt_include_token_duration` it reports each token's duration, which gives word end times. With
word confidence on (the default; `GPU_JOB_WORD_CONFIDENCE=0` turns it off) the same computer also
reports each token's confidence (gpu_job.confidence), CUDA graphs still on.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from gpu_job import confidence
from gpu_job.engine.memory import pin_mmap_threshold

log = logging.getLogger(__name__)

_CACHE: dict[tuple[str, str], Any] = {}


@dataclass(frozen=True)
class LoadedModelInfo:
    """Attached to the model as `gpu_job_info` so the transcript can name what produced it."""

    name: str
    revision: str | None
    device: str
    dtype: str
    gpu: str | None
    # The encoder's attention as loaded, restored by modes.configure_attention for full/streaming.
    attention_model: str
    att_context_size: tuple[int, int]
    conv_chunking_factor: int


def resolve_device(device: str | None) -> torch.device:
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _file_revision(path: Path) -> str:
    """Short content hash of a `.nemo` file, so transcripts from different weights are told apart."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()[:16]


def word_confidence_enabled() -> bool:
    return os.environ.get("GPU_JOB_WORD_CONFIDENCE", "1").strip().lower() not in ("0", "false", "no", "off")


def set_word_confidence(model: Any, enabled: bool) -> None:
    """Rebuild the decoding with token confidence on or off (benchmarks compare the two on one model),
    keeping per-stream biasing as it is."""
    set_decoding(model, bool(model.cfg.decoding.greedy.get("enable_per_stream_biasing", False)), enabled)


def set_decoding(model: Any, per_stream_biasing: bool = False, word_confidence: bool | None = None) -> None:
    """`per_stream_biasing`: give the decoding computer NeMo's multi-model of phrase-boosting trees
    (gpu_job.boosting switches it on when a process first meets a vocabulary). `word_confidence`: token
    confidence from the same computer (gpu_job.confidence); None: GPU_JOB_WORD_CONFIDENCE (default on)."""
    if word_confidence is None:
        word_confidence = word_confidence_enabled()
    from omegaconf import open_dict

    cfg = model.cfg.decoding
    with open_dict(cfg):
        cfg.greedy.enable_per_stream_biasing = per_stream_biasing
        cfg.strategy = "greedy_batch"
        cfg.greedy.loop_labels = True
        cfg.greedy.preserve_alignments = False
        cfg.tdt_include_token_duration = True
        cfg.compute_timestamps = False  # we ask for timestamps explicitly, per slice of tokens
        cfg.fused_batch_size = -1
        cfg.confidence_cfg = confidence.decoding_config(word_confidence)
    if hasattr(model, "cur_decoder"):  # hybrid TDT-CTC: use the transducer head
        model.change_decoding_strategy(cfg, decoder_type="rnnt", verbose=False)
    else:
        model.change_decoding_strategy(cfg, verbose=False)


def _apply_cpu_threads() -> None:
    """`GPU_JOB_CPU_THREADS` caps torch's intra-op threads. On a busy shared CPU, OpenMP threads spin
    against each other: the decoder's tiny per-step LSTM calls measured ~90x slower with 2 threads than
    with 1 here, so tests and benchmarks set 1."""
    threads = os.environ.get("GPU_JOB_CPU_THREADS")
    if threads:
        torch.set_num_threads(int(threads))


def load_model(name_or_path: str, device: str | None = None) -> Any:
    """A pretrained name goes through `ASRModel.from_pretrained` (the image bakes the weights into the
    Hugging Face cache at build time); a `.nemo` path through `restore_from`."""
    _apply_cpu_threads()
    pin_mmap_threshold()
    dev = resolve_device(device)
    key = (name_or_path, str(dev))
    if key in _CACHE:
        return _CACHE[key]

    started = time.perf_counter()
    from nemo.collections.asr.models import ASRModel

    path = Path(name_or_path)
    if name_or_path.endswith(".nemo") or path.exists():
        model = ASRModel.restore_from(str(path), map_location=dev)
        revision: str | None = _file_revision(path)
        name = path.name
    else:
        model = ASRModel.from_pretrained(model_name=name_or_path, map_location=dev)
        revision = os.environ.get("GPU_JOB_MODEL_REVISION") or None
        name = name_or_path
    model.eval()
    model.freeze()
    model.preprocessor.featurizer.dither = 0.0
    model.preprocessor.featurizer.pad_to = 0
    set_decoding(model)

    # bf16 on GPU the way NeMo's own streaming example does it: cast the whole model (the preprocessor
    # still computes features in float32 internally) rather than autocast, which the CUDA-graph decoding
    # computer switches off around itself.
    use_bf16 = dev.type == "cuda" and torch.cuda.is_bf16_supported()
    if use_bf16:
        model = model.to(torch.bfloat16)
    enc_cfg = model.cfg.encoder
    model.gpu_job_info = LoadedModelInfo(
        name=name,
        revision=revision,
        device=dev.type,
        dtype="bfloat16" if use_bf16 else "float32",
        gpu=torch.cuda.get_device_name(dev) if dev.type == "cuda" else None,
        attention_model=str(enc_cfg.get("self_attention_model", "rel_pos")),
        att_context_size=tuple(enc_cfg.get("att_context_size", [-1, -1]))[:2],
        conv_chunking_factor=int(enc_cfg.get("subsampling_conv_chunking_factor", 1)),
    )
    model.gpu_job_load_seconds = time.perf_counter() - started
    _CACHE[key] = model
    return model


def model_info(model: Any) -> LoadedModelInfo:
    info = getattr(model, "gpu_job_info", None)
    if info is None:
        raise ValueError("model was not loaded with gpu_job.api.load_model")
    return info
