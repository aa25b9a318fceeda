"""Custom vocabularies on the GPU: NeMo's phrase-boosting trees, one per vocabulary version, per stream.

What NeMo 3.0.0 offers (nemo/collections/asr/parts/context_biasing/, read in .venv):
- `GPUBoostingTreeModel`: a token-level Aho-Corasick tree (icefall's `ContextGraph`) stored as GPU
  tensors; the batched label-looping TDT/RNN-T decoder adds its scores to the joint's logits at every
  step (shallow fusion), so greedy batch decoding prefers a phrase's tokens once its first token is
  plausible. `decoding.greedy.boosting_tree` configures ONE tree for every stream of every call.
- Per-stream biasing (`decoding.greedy.enable_per_stream_biasing`): the decoding computer then owns a
  `GPUBiasingMultiModel` holding many trees (`add_model` -> id, `remove_model`), and each call takes
  `multi_biasing_ids` [batch] (-1: no boosting for that row). So one batch mixes uploads with
  different vocabularies, and uploads without one: this module uses that, never a batch per
  vocabulary. (NeMo builds trees from phrase lists with one score for all; the per-phrase weight of
  our syntax goes in through `ContextGraph.build(scores=...)`, which NeMo's builder also calls.)
- The multi-model runs a Triton kernel on CUDA when Triton is installed (CUDA graphs stay on), else a
  PyTorch loop (CUDA graphs off for the decoder).

Per-stream biasing is switched on the first time a process meets a vocabulary (the decoder is rebuilt
once), so a worker that never sees one decodes exactly as before. Each vocabulary version is compiled
once and kept in a bounded per-model LRU cache (GPU_JOB_VOCABULARY_CACHE trees, default 32); an
evicted tree leaves the multi-model, so its memory is reused.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from pipeline.contracts import VocabularyRef
from pipeline.exact_upload import error_code
from pipeline.outcomes import VocabularyInvalid, VocabularyNotFound
from pipeline.settings import Settings
from pipeline.vocabulary import VOCABULARY_GONE, Phrase, parse

log = logging.getLogger(__name__)

DEFAULT_CACHE_TREES = 32
DEPTH_SCALING = 2.0  # NeMo's default for CTC, RNN-T and TDT (BoostingTreeModelConfig.depth_scaling)


@dataclass(frozen=True)
class Vocabulary:
    """The phrases of one exact vocabulary version, and what transcript.json records about it."""

    name: str
    version: str  # the cache identity: VersionId, else ETag (S3), or a content hash (local file)
    phrases: tuple[Phrase, ...]
    used: dict[str, Any]

    @classmethod
    def from_ref(cls, ref: VocabularyRef, settings: Settings) -> Vocabulary:
        """Read the version the Probe pinned (VersionId, else If-Match on its ETag) and parse it with the
        same rule; a version gone meanwhile is bad input (VocabularyNotFound), like a missing one."""
        from botocore.exceptions import ClientError

        from gpu_job.storage import pin, s3_client

        source = ref.object
        try:
            response = s3_client().get_object(Bucket=source.bucket, Key=source.key, **pin(source))
            body = response["Body"].read()
        except ClientError as exc:
            if error_code(exc) in VOCABULARY_GONE:
                raise VocabularyNotFound(
                    f"vocabulary {ref.name!r} ({source.uri} {pin(source)}) is gone ({error_code(exc)})"
                ) from exc
            raise
        phrases = parse(body, ref.name, settings)
        used = {
            "name": ref.name,
            "uri": source.uri,
            "version_id": source.version_id,
            "etag": source.etag,
            "phrases": len(phrases),
        }
        return cls(ref.name, source.version_id or source.etag, phrases, used)

    @classmethod
    def from_file(cls, path: Path, settings: Settings, name: str | None = None) -> Vocabulary:
        """A local phrase file (the gpu_job CLI, tests, benchmarks): versioned by its content hash."""
        body = path.read_bytes()
        name = name or path.stem
        digest = hashlib.sha256(body).hexdigest()[:16]
        phrases = parse(body, name, settings)
        used = {
            "name": name,
            "uri": str(path),
            "version_id": None,
            "etag": f"sha256:{digest}",
            "phrases": len(phrases),
        }
        return cls(name, f"sha256:{digest}", phrases, used)


def enable_per_stream_biasing(model: Any) -> Any:
    """The decoding computer with a multi-model for per-stream trees (rebuilt once per process)."""
    from gpu_job.model import set_decoding

    computer = model.decoding.decoding.decoding_computer
    if getattr(computer, "biasing_multi_model", None) is None:
        set_decoding(model, per_stream_biasing=True)
        computer = model.decoding.decoding.decoding_computer
        if getattr(computer, "biasing_multi_model", None) is None:
            raise RuntimeError("this NeMo decoder offers no per-stream biasing (label-looping greedy_batch)")
    return computer


def compile_tree(model: Any, vocabulary: Vocabulary, boost: float) -> Any:
    """A GPUBoostingTreeModel of the phrases: each token of a phrase scores `boost * weight` (deeper
    tokens more, NeMo's depth scaling), as `GPUBoostingTreeModel.from_config` builds its trees."""
    from nemo.collections.asr.parts.context_biasing.boosting_graph_batched import GPUBoostingTreeModel
    from nemo.collections.asr.parts.context_biasing.context_graph_universal import ContextGraph

    tokenizer = model.tokenizer
    token_ids, texts, scores = [], [], []
    for phrase in vocabulary.phrases:
        ids = list(tokenizer.text_to_ids(phrase.text))
        if ids:
            token_ids.append(ids)
            texts.append(phrase.text)
            scores.append(boost * phrase.weight)
    if not token_ids:
        raise VocabularyInvalid(f"vocabulary {vocabulary.name!r}: no phrase maps to this model's tokens")
    graph = ContextGraph(context_score=boost, depth_scaling=DEPTH_SCALING)
    graph.build(token_ids=token_ids, phrases=texts, scores=scores, uniform_weights=False)
    return GPUBoostingTreeModel.from_context_graph(
        context_graph=graph,
        vocab_size=tokenizer.vocab_size,
        unk_score=0.0,
        final_eos_score=0.0,
        use_triton=None,
        uniform_weights=False,
    )


class BoostingTrees:
    """The model's compiled trees: `ids(vocabularies)` -> the multi-model id of each (-1 for None)."""

    def __init__(self, model: Any, capacity: int | None = None):
        self.model = model
        self.capacity = capacity or int(os.environ.get("GPU_JOB_VOCABULARY_CACHE") or DEFAULT_CACHE_TREES)
        self._ids: OrderedDict[tuple[str, str, float], int] = OrderedDict()
        self._lock = threading.Lock()
        self.compiled = 0  # trees compiled so far (the cache's misses)

    def ids(self, vocabularies: list[Vocabulary | None], boost: float) -> list[int]:
        wanted = {(v.name, v.version, boost) for v in vocabularies if v is not None}
        if not wanted:
            return [-1] * len(vocabularies)
        if len(wanted) > self.capacity:
            raise ValueError(
                f"{len(wanted)} vocabularies in one call, more than the cache holds ({self.capacity})"
            )
        with self._lock, torch.inference_mode(False):
            multi = enable_per_stream_biasing(self.model).biasing_multi_model
            out = []
            for vocabulary in vocabularies:
                if vocabulary is None:
                    out.append(-1)
                    continue
                key = (vocabulary.name, vocabulary.version, boost)
                if key not in self._ids:
                    self._evict(multi, keep=wanted)
                    self._ids[key] = multi.add_model(compile_tree(self.model, vocabulary, boost), alpha=1.0)
                    self.compiled += 1
                    log.info(
                        "compiled boosting tree %s@%s (%d phrases)",
                        vocabulary.name,
                        vocabulary.version,
                        len(vocabulary.phrases),
                    )
                self._ids.move_to_end(key)
                out.append(self._ids[key])
            return out

    def _evict(self, multi: Any, keep: set[tuple[str, str, float]]) -> None:
        while len(self._ids) >= self.capacity:
            victim = next((k for k in self._ids if k not in keep), None)
            if victim is None:
                return
            multi.remove_model(self._ids.pop(victim))


def trees(model: Any) -> BoostingTrees:
    """The model's one tree cache (created on first use; the model is memoised per process)."""
    cache = getattr(model, "gpu_job_boosting", None)
    if cache is None:
        cache = BoostingTrees(model)
        model.gpu_job_boosting = cache
    return cache
