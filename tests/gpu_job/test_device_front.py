"""The device front end (engine.device_front): what a GPU host's CPU no longer does, run here on torch's CPU.

The same torch code runs on CUDA (`DeviceFrontEnd("cuda")`); the engine picks it by the model's device.
"""

from __future__ import annotations

import math
import shutil
import threading
from concurrent.futures import Future
from typing import Any

import julius
import numpy as np
import pytest
import torch
from pipeline import throughput

from gpu_job import api
from gpu_job.audio import SAMPLE_RATE, AudioDecoder
from gpu_job.engine import engine
from gpu_job.engine.device_front import DeviceFrontEnd, StreamResampler
from gpu_job.engine.engine import EngineSettings
from gpu_job.engine.vad import FRAME_SAMPLES, Sections, load_torch_model, make_detector, score_sections
from tests.gpu_job import accuracy_support as acc
from tests.gpu_job.media_support import ffmpeg

# Frames on the same side of 0.5 as the exact onnx VAD, at least. The sections are the `torch`
# backend's numerics (a section's LSTM state starts from 16 frames of warm-up, not from the whole
# past), so borderline frames at the edges of speech flip. Measured: 97.8 % on this minute, 97.4 % on
# the accuracy suite's 20-minute recording, 96.8 % through the whole front end (julius against
# FFmpeg resampling) on the 10-minute MP3 (benchmarks/results/cpu_stage.json, vad_agreement); 32 or
# 64 warm-up frames gain half a point. The windows absorb isolated flips (speech ends only after
# 0.3 s below 0.35; windows are padded by 0.2 s), and what matters, the WER, is measured apart (the
# same on the accuracy suite: cpu_stage.json, accuracy). 0.97 is the bound the `torch` backend had
# (tests/gpu_job/test_vad.py), kept for the same numerics; a misaligned section or a state leak
# between streams falls far below it.
MIN_FRAME_AGREEMENT = 0.97


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """Held-out corpus speech with pauses, 16 kHz float32 (about a minute)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng makes the speech")
    return acc.long_split_minute()


def streamed(resampler: StreamResampler, x: np.ndarray, block: int) -> np.ndarray:
    return np.concatenate(
        [resampler.push(x[i : i + block]) for i in range(0, x.shape[0], block)] + [resampler.finish()]
    )


@pytest.mark.parametrize(("rate", "channels"), [(44100, 2), (48000, 1), (8000, 1), (16000, 2)])
def test_resampling_in_odd_blocks_equals_resampling_the_whole_signal(rate, channels) -> None:
    # Given 3 s of noise at the track's rate, fed in blocks that line up with nothing
    x = np.random.default_rng(rate).standard_normal((rate * 3 + 17, channels)).astype(np.float32)
    x = x[:, 0] if channels == 1 else x
    # When the stream resampler takes it block by block
    out = streamed(StreamResampler(rate, torch.device("cpu")), x, block=10007)
    # Then it is julius' resampling of the whole signal at once: no seams at the block edges
    whole = julius.resample_frac(torch.from_numpy(np.ascontiguousarray(x.T)), rate, SAMPLE_RATE).numpy().T
    assert out.shape == whole.shape == ((rate * 3 + 17) * SAMPLE_RATE // rate, *x.shape[1:])
    np.testing.assert_allclose(out, whole, atol=1e-5)


def test_a_tone_resampled_on_the_device_is_the_same_tone_at_16k() -> None:
    t = np.arange(44100 * 2) / 44100
    tone = (0.5 * np.sin(2 * math.pi * 1000 * t)).astype(np.float32)
    out = streamed(StreamResampler(44100, torch.device("cpu")), tone, block=4410)
    expected = 0.5 * np.sin(2 * math.pi * 1000 * np.arange(out.shape[0]) / SAMPLE_RATE)
    inner = slice(200, -200)  # the edges are padded (replicated), as any resampler must
    assert np.abs(out[inner] - expected[inner]).max() < 1e-3


def test_sections_of_several_streams_scored_in_one_batch_equal_each_stream_alone(speech) -> None:
    # Given two streams' blocks cut into sections
    halves = [speech[: 20 * SAMPLE_RATE], speech[20 * SAMPLE_RATE : 45 * SAMPLE_RATE]]
    rows = []
    for audio in halves:
        frames = audio.shape[0] // FRAME_SAMPLES
        rows.append((Sections().cut(audio[: frames * FRAME_SAMPLES], frames), frames))
    model = load_torch_model(torch.device("cpu"))
    alone = [score_sections(model, torch.from_numpy(r)).numpy() for r, _ in rows]
    # When the front end scores both requests as one batch
    front = DeviceFrontEnd("cpu")
    try:
        futures: list[Future[Any]] = [Future(), Future()]
        front._run_vad([(r, f) for (r, _), f in zip(rows, futures, strict=True)])
        together = [f.result() for f in futures]
    finally:
        front.close()
    # Then each stream gets its own probabilities, as if scored alone
    assert front.vad_batches == [sum(r.shape[0] for r, _ in rows)]
    for a, b in zip(alone, together, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_the_batched_detector_agrees_with_the_exact_onnx_one_on_almost_every_frame(speech) -> None:
    block = 60 * SAMPLE_RATE
    exact_detector = make_detector("onnx")
    exact = np.concatenate(
        [exact_detector.push(speech[i : i + block]) for i in range(0, speech.shape[0], block)]
        + [exact_detector.push(np.zeros(0, np.float32), final=True)]
    )
    front = DeviceFrontEnd("cpu")
    try:
        detector = front.detector()
        batched = np.concatenate(
            [detector.push(speech[i : i + 16000 * 7 + 5]) for i in range(0, speech.shape[0], 16000 * 7 + 5)]
            + [detector.push(np.zeros(0, np.float32), final=True)]
        )
    finally:
        front.close()
    assert batched.shape == exact.shape
    assert float(((batched >= 0.5) == (exact >= 0.5)).mean()) >= MIN_FRAME_AGREEMENT


def test_a_native_rate_decode_keeps_the_track_rate_channels_and_length(tmp_path) -> None:
    path = tmp_path / "stereo.m4a"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=44100:duration=5",
        "-ac",
        "2",
        "-c:a",
        "aac",
        str(path),
    )
    with path.open("rb") as f, AudioDecoder(f, path.stat().st_size, 3600.0) as dec:
        dec.keep_channels, dec.native_rate = True, True
        blocks = list(dec.blocks(44100))
        native_s, rate = dec.duration_s, dec.output_rate
    with path.open("rb") as f, AudioDecoder(f, path.stat().st_size, 3600.0) as dec:
        dec.read_all()
        today_s = dec.duration_s
    assert rate == 44100 and all(b.ndim == 2 and b.shape[1] == 2 for b in blocks)
    assert abs(native_s - today_s) < 0.005


def test_auto_puts_the_front_end_on_a_cuda_model_device_and_keeps_it_on_cpu_otherwise() -> None:
    on_gpu = EngineSettings(workers=3).resolved(torch.device("cuda", 0))
    assert (on_gpu.front_end, on_gpu.vad_backend, on_gpu.front_device) == ("device", "batched", "cuda:0")
    on_cpu = EngineSettings().resolved(torch.device("cpu"))
    assert (on_cpu.front_end, on_cpu.vad_backend, on_cpu.workers) == ("cpu", "onnx", engine.CPU_WORKERS)
    with pytest.raises(ValueError):
        EngineSettings(front_end="gpu").resolved(torch.device("cpu"))


@pytest.mark.parametrize(
    ("gpu_name", "cpus"), [("NVIDIA L40S", 4), ("NVIDIA L40S", 8), ("NVIDIA H100 80GB HBM3", 4)]
)
def test_on_cuda_the_workers_are_what_the_throughput_model_gives_for_that_gpu_and_cpu_set(
    monkeypatch, gpu_name, cpus
) -> None:
    # Given a CUDA device of that name and a process allowed `cpus` CPUs (taskset)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: gpu_name)
    monkeypatch.setattr(engine.os, "sched_getaffinity", lambda pid: set(range(cpus)))
    workers = EngineSettings().resolved(torch.device("cuda", 0)).workers
    # Then the planner's model sizes them (a GPU it has no figure for gets every unreserved vCPU)
    gpu = throughput.class_gpu(gpu_name)
    expected = throughput.cpu_workers(gpu, cpus) if gpu else cpus - throughput.RESERVED_VCPUS
    assert workers == expected and 1 <= workers < cpus


@pytest.fixture(scope="module")
def stereo_utterances(tmp_path_factory: pytest.TempPathFactory) -> list[acc.Recording]:
    """Held-out utterances as a GPU host gets them: 44.1 kHz stereo MP3."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng makes the speech")
    out = tmp_path_factory.mktemp("stereo")
    recordings = acc.heldout_utterances(12, out)
    mp3s = []
    for r in recordings:
        mp3 = r.path.with_suffix(".mp3")
        ffmpeg("-i", str(r.path), "-ar", "44100", "-ac", "2", "-b:a", "128k", str(mp3))
        mp3s.append(acc.Recording(mp3, r.duration, r.words))
    return mp3s


def test_the_device_path_transcribes_as_well_as_the_cpu_path_with_words_off_the_gpu_thread(
    speech_model, stereo_utterances, monkeypatch
) -> None:
    # Given the engine's two paths on the same stereo MP3s, and a record of which thread makes words
    threads: set[str] = set()
    to_words = engine.to_words

    def recording_to_words(model: Any, tokens: Any) -> Any:
        threads.add(threading.current_thread().name)
        return to_words(model, tokens)

    monkeypatch.setattr(engine, "to_words", recording_to_words)
    paths = [str(r.path) for r in stereo_utterances]
    scores = {}
    for name, settings in {
        "cpu": EngineSettings(front_end="cpu", vad_backend="onnx"),
        "device": EngineSettings(front_end="device", vad_backend="batched"),
    }.items():
        score = acc.Score()
        for r, doc in zip(stereo_utterances, api.transcribe_many(paths, speech_model, settings), strict=True):
            assert isinstance(doc, dict), doc
            score.add(r.words, doc)
        scores[name] = score
    # Then the device path (julius resampling, batched VAD sections) is as accurate, within a point
    assert scores["device"].ref_words == scores["cpu"].ref_words
    device, cpu = scores["device"], scores["cpu"]
    assert device.wer <= cpu.wer + 0.01, (device.summary(), cpu.summary())
    assert scores["device"].within(0.25) >= 0.95
    # and words were only ever made on the post-processing thread
    assert threads and all(name.startswith("engine-post") for name in threads)
