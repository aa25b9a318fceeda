"""The batched engine (gpu_job.engine.engine via gpu_job.api.transcribe_many): what a pool worker relies on.

Real NeMo and Silero code on CPU. Speech comes from the corpus generator (espeak-ng) and the tiny
speech model, so the words and their true start times are known; silence and noise come from ffmpeg.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pipeline.outcomes import NotMedia, ZeroByteObject

from gpu_job import api
from gpu_job.engine import engine
from gpu_job.engine.engine import EngineSettings, ItemError
from gpu_job.engine.windows import CutSettings
from tests.gpu_job import accuracy_support as acc
from tests.gpu_job.media_support import ffmpeg

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng makes the speech")


@pytest.fixture(scope="module")
def utterances(tmp_path_factory: pytest.TempPathFactory) -> list[acc.Recording]:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng makes the speech")
    return acc.heldout_utterances(12, tmp_path_factory.mktemp("utterances"))


def lavfi(path: Path, source: str) -> Path:
    ffmpeg("-f", "lavfi", "-i", source, "-ac", "1", str(path))
    return path


def words_of(doc: dict[str, Any]) -> list[tuple[str, float]]:
    return [(w["word"], w["start"]) for w in doc["words"]]


@pytest.mark.parametrize(
    "source",
    [
        "anullsrc=r=16000:cl=mono:d=30",
        "anoisesrc=color=pink:sample_rate=16000:duration=30:amplitude=0.2",
        "anoisesrc=color=white:sample_rate=44100:duration=30:amplitude=0.05",
    ],
    ids=["silence", "pink-noise", "white-noise"],
)
def test_silence_or_noise_only_gives_no_words_and_zero_speech_seconds(
    tiny_model, transcript_validator, tmp_path, source
) -> None:
    # Given 30 s of silence or noise (the random model would invent tokens for anything it is shown)
    media = lavfi(tmp_path / "x.wav", source)
    # When transcribed in batched mode
    doc = api.transcribe(str(media), tiny_model, mode="batched")
    # Then nothing reached the model: no words, speech_seconds 0, a valid document of the full duration
    transcript_validator(doc)
    assert doc["mode"] == "batched"
    assert doc["words"] == [] and doc["text"] == ""
    assert doc["speech_seconds"] == 0 and doc["windows"]["count"] == 0
    assert doc["media"]["duration_s"] == pytest.approx(30.0, abs=0.05)


@needs_espeak
def test_many_files_in_one_batch_give_the_same_words_as_one_at_a_time(speech_model, utterances) -> None:
    paths = [str(r.path) for r in utterances]
    # When all utterances go through the engine together (several per batch)...
    together = api.transcribe_many(paths, speech_model, EngineSettings(batch_audio_s=60.0, workers=2))
    # ...and each alone
    alone = [api.transcribe_many([p], speech_model, EngineSettings(workers=1))[0] for p in paths]
    # Then every file has the same words at the same times, and the batches really held several windows
    assert all(isinstance(d, dict) for d in together + alone)
    assert [words_of(d) for d in together] == [words_of(d) for d in alone]  # type: ignore[arg-type]
    assert sum(len(words_of(d)) for d in together) > 50  # type: ignore[arg-type]


@needs_espeak
def test_batching_packs_several_windows_per_encoder_call(speech_model, utterances, monkeypatch) -> None:
    sizes: list[int] = []
    real = engine.transcribe_batch

    def spy(model: Any, signals: list[np.ndarray], biasing_ids: Any = None) -> Any:
        sizes.append(len(signals))
        return real(model, signals, biasing_ids)

    monkeypatch.setattr(engine, "transcribe_batch", spy)
    api.transcribe_many([str(r.path) for r in utterances], speech_model, EngineSettings(batch_audio_s=60.0))
    assert sum(sizes) >= len(utterances) and max(sizes) > 1, sizes


@needs_espeak
def test_a_bad_item_among_good_ones_gets_a_typed_error_only_for_itself(
    speech_model, utterances, tmp_path
) -> None:
    # Given good files with an empty file, a non-media file and a missing file among them
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"this is not audio" * 100)
    good = [str(r.path) for r in utterances[:3]]
    sources = [good[0], str(empty), good[1], str(junk), str(tmp_path / "missing.wav"), good[2]]
    # When transcribed together
    out = api.transcribe_many(sources, speech_model)
    # Then each bad item has its own typed error, in its own place, and the good ones their words
    assert [type(o).__name__ for o in out] == ["dict", "ItemError", "dict", "ItemError", "ItemError", "dict"]
    assert isinstance(out[1], ItemError) and isinstance(out[1].exception, ZeroByteObject) and out[1].bad_input
    assert isinstance(out[3], ItemError) and isinstance(out[3].exception, NotMedia) and out[3].bad_input
    assert isinstance(out[4], ItemError) and out[4].error == "FileNotFoundError" and not out[4].bad_input
    assert out[3].as_dict() == {"error": "NotMedia", "message": out[3].message, "input": str(junk)}
    alone = api.transcribe_many(good, speech_model)
    assert [words_of(out[i]) for i in (0, 2, 5)] == [words_of(d) for d in alone]  # type: ignore[arg-type]


@needs_espeak
def test_a_long_recording_with_pauses_is_merged_with_global_timestamps(
    speech_model, utterances, tmp_path
) -> None:
    # Given three utterances placed at 5 s, 47 s and 101 s in two minutes of silence
    gen = acc.corpus_generator()
    offsets = [5.0, 47.0, 101.0]
    audio = np.zeros(120 * 16000, dtype=np.float32)
    truth: list[acc.TruthWord] = []
    for offset, rec in zip(offsets, utterances[:3], strict=True):
        samples = _read(rec.path)
        start = int(offset * 16000)
        audio[start : start + samples.shape[0]] = samples
        truth += [acc.TruthWord(w.word, w.start + offset, w.end + offset) for w in rec.words]
    path = tmp_path / "long.wav"
    gen.write_wav(path, audio)
    # When transcribed in batched mode with small windows
    doc = api.transcribe(
        str(path), speech_model, mode="batched", settings=EngineSettings(cut=CutSettings(10.0))
    )
    # Then the silence between the utterances never reached the model (at most the utterances plus
    # padding did), the audio went in several windows, and every recognised word starts where it was placed
    assert doc["windows"]["count"] >= 3
    assert doc["speech_seconds"] <= sum(r.duration for r in utterances[:3]) + doc["windows"]["count"] * 0.4
    score = acc.Score()
    score.add(tuple(truth), doc)
    assert score.wer <= 0.1, score.summary()
    assert score.within(0.25) == 1.0, score.summary()


def _read(path: Path) -> np.ndarray:
    import wave

    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768.0


@needs_espeak
def test_the_window_queue_stays_bounded_however_long_the_backlog(
    speech_model, utterances, monkeypatch
) -> None:
    # Given a GPU side that is much slower than the CPU side, and a backlog of 36 files
    emitted = consumed = 0
    ahead: list[int] = []
    real_cutter, real_batch = engine.WindowCutter, engine.transcribe_batch

    class CountingCutter(real_cutter):  # type: ignore[misc, valid-type]
        def push(self, samples: np.ndarray, probs: np.ndarray) -> Any:
            nonlocal emitted
            out = super().push(samples, probs)
            emitted += len(out)
            return out

        def finish(self) -> Any:
            nonlocal emitted
            out = super().finish()
            emitted += len(out)
            return out

    def slow_batch(model: Any, signals: list[np.ndarray], biasing_ids: Any = None) -> Any:
        nonlocal consumed
        time.sleep(0.3)
        ahead.append(emitted - consumed)
        consumed += len(signals)
        return real_batch(model, signals, biasing_ids)

    monkeypatch.setattr(engine, "WindowCutter", CountingCutter)
    monkeypatch.setattr(engine, "transcribe_batch", slow_batch)
    sources = [str(r.path) for r in utterances] * 3
    settings = EngineSettings(cut=CutSettings(10.0), batch_audio_s=10.0, gather_batches=1, queue_windows=2)
    # When transcribed
    out = api.transcribe_many(sources, speech_model, settings)
    # Then every file is transcribed, the CPU side did work ahead of the GPU (overlap) but never more
    # than the queue (2) + one window in each worker's hand (2) + what one gathered batch holds (<= 10 s
    # of >= 1.5 s windows: 7)
    assert all(isinstance(o, dict) for o in out)
    assert consumed == emitted == sum(o["windows"]["count"] for o in out)  # type: ignore[index]
    assert max(ahead) >= 2, ahead
    assert max(ahead) <= 2 + 2 + 7, ahead


@needs_espeak
def test_an_item_that_fails_after_some_windows_were_queued_reports_only_its_error(
    speech_model, utterances, tmp_path, monkeypatch
) -> None:
    # Given a file whose decoding fails after 20 s, i.e. after its first windows went to the queue
    from pipeline.outcomes import CorruptMedia

    from gpu_job import audio

    gen = acc.corpus_generator()
    long_one = tmp_path / "breaks.wav"
    gen.write_wav(long_one, np.concatenate([_read(r.path) for r in utterances[:6]]))
    real_blocks = audio.AudioDecoder.blocks

    def blocks(self: Any, n: int) -> Any:
        for i, block in enumerate(real_blocks(self, n)):
            if i == 20:  # only the long file (about a minute) gets this far
                raise CorruptMedia("decoding failed after 20 s (simulated)")
            yield block

    monkeypatch.setattr(audio.AudioDecoder, "blocks", blocks)
    good = [str(r.path) for r in utterances[:2]]
    # When it is transcribed among good files with 1 s decode blocks and short windows
    settings = EngineSettings(cut=CutSettings(5.0), block_s=1.0, batch_audio_s=5.0)
    out = api.transcribe_many([good[0], str(long_one), good[1]], speech_model, settings)
    # Then it alone is a typed error, and the windows it had queued went nowhere else
    assert isinstance(out[1], ItemError) and out[1].error == "CorruptMedia"
    alone = api.transcribe_many(good, speech_model, settings)
    assert [words_of(out[0]), words_of(out[2])] == [words_of(d) for d in alone]  # type: ignore[arg-type]
