"""Custom vocabularies: a phrase list turns a rare word the model gets wrong into the right word.

The model is the tiny speech model (tests/fixtures/models/tiny_tdt_speech.nemo) trained on the
espeak-ng corpus of scripts/make_speech_corpus.py. Its "rare word" here is a word of its Spanish
vocabulary spoken by an English voice in an English sentence (scripts/rare_words.py): the model knows
the word's token but has never heard it in English, so it hears the nearest English word instead.
Phrase boosting
(gpu_job.boosting, NeMo's boosting trees) must bring the word back, per stream: the same batch holds
the same audio without a vocabulary, which must stay as the model hears it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from pipeline.settings import Settings

from scripts import rare_words
from tests.gpu_job import accuracy_support as acc

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng speaks the clips")

RARE_WORD = rare_words.rare_candidates()[0]  # in the generator's Spanish vocabulary, not its English one
SENTENCE = ("the", "red", RARE_WORD, "stop")
WEIGHT = 10  # the tiny model is far more confident than a real one (docs/VOCABULARY.md)


def _english_clips(out: Path, count: int) -> list[Path]:
    speakers = rare_words.english_speakers()[:count]
    return [
        rare_words.write_wav(out / f"rare_{i}.wav", rare_words.speak(SENTENCE, speaker, seed=i).audio)
        for i, speaker in enumerate(speakers)
    ]


def _words(document: dict[str, Any]) -> list[str]:
    return [acc.normalise(w["word"]) for w in document["words"]]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return _english_clips(tmp_path_factory.mktemp("vocabulary"), 3)


@pytest.fixture(scope="module")
def vocabulary_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("vocabularies") / "spanish-words.txt"
    path.write_text(f"# a rare word and its weight\n{RARE_WORD} | {WEIGHT}\n")
    return path


def test_a_vocabulary_turns_a_rare_word_from_wrong_to_right_in_a_shared_batch(
    speech_model: Any, clips: list[Path], vocabulary_file: Path
) -> None:
    """Given English clips saying the rare word, each transcribed twice in one engine call: once
    without a vocabulary, once with one that lists the word. Then without it the word is missed, with
    it the word is there and the rest of the sentence is unchanged."""
    from gpu_job import api
    from gpu_job.boosting import Vocabulary

    vocabulary = Vocabulary.from_file(vocabulary_file, Settings())
    sources = [str(p) for p in clips] * 2
    documents = api.transcribe_many(
        sources, speech_model, vocabularies=[None] * len(clips) + [vocabulary] * len(clips)
    )
    plain, boosted = documents[: len(clips)], documents[len(clips) :]
    for without, with_vocabulary in zip(plain, boosted, strict=True):
        assert isinstance(without, dict) and isinstance(with_vocabulary, dict)
        assert RARE_WORD not in _words(without), "the rare word must be wrong without boosting"
        assert _words(with_vocabulary) == list(SENTENCE)
        assert without["vocabulary"] is None
        assert with_vocabulary["vocabulary"]["name"] == "spanish-words"
        assert with_vocabulary["vocabulary"]["phrases"] == 1
        # and boosting keeps word confidence on (gpu_job.model.set_decoding rebuilds the decoding)
        assert all(0.0 <= w["confidence"] <= 1.0 for w in with_vocabulary["words"] + without["words"])


def test_a_vocabulary_version_is_compiled_once_and_boosts_the_other_modes_too(
    speech_model: Any, clips: list[Path], vocabulary_file: Path
) -> None:
    """Given the same vocabulary version used again (full attention this time), no new tree is compiled
    and the word is still right."""
    from gpu_job import api
    from gpu_job.boosting import Vocabulary, trees

    vocabulary = Vocabulary.from_file(vocabulary_file, Settings())
    api.transcribe_many([str(clips[0])], speech_model, vocabularies=[vocabulary])
    compiled = trees(speech_model).compiled
    document = api.transcribe(str(clips[0]), speech_model, mode="full", vocabulary=vocabulary)
    assert _words(document) == list(SENTENCE)
    assert trees(speech_model).compiled == compiled


def test_the_tree_cache_is_bounded_and_evicts_the_least_recently_used(
    speech_model: Any, tmp_path: Path
) -> None:
    """Given a cache of two trees and three vocabularies used in turn, the first is evicted (compiled
    again when it comes back) and the multi-model never holds more than two."""
    from gpu_job.boosting import BoostingTrees, Vocabulary

    cache = BoostingTrees(speech_model, capacity=2)
    vocabularies = []
    for i, word in enumerate(["casa", "perro", "gato"]):
        path = tmp_path / f"v{i}.txt"
        path.write_text(word + "\n")
        vocabularies.append(Vocabulary.from_file(path, Settings()))
    for vocabulary in vocabularies:
        cache.ids([vocabulary], 1.0)
    multi = speech_model.decoding.decoding.decoding_computer.biasing_multi_model
    assert cache.compiled == 3 and len(cache._ids) == 2
    cache.ids([vocabularies[0]], 1.0)
    assert cache.compiled == 4
    for model_id in cache._ids.values():
        multi.remove_model(model_id)  # leave the module's model as the other tests expect it


def test_parakeet_transcribe_takes_a_vocabulary_file(
    clips: list[Path], vocabulary_file: Path, tmp_path: Path
) -> None:
    """Given the console app on a rare-word clip, with --vocabulary the rare word is right and the
    transcript names the file it came from; a file the Probe would refuse is a usage error."""
    import json

    from typer.testing import CliRunner

    from parakeet_cli import exits
    from parakeet_cli.app import app

    args = [
        "transcribe",
        str(clips[0]),
        "--model",
        str(acc.SPEECH_MODEL),
        "--device",
        "cpu",
        "--format",
        "json",
        "--out",
        str(tmp_path),
        "--json",
    ]
    result = CliRunner().invoke(app, [*args, "--vocabulary", str(vocabulary_file)])
    assert result.exit_code == exits.OK, result.stdout
    document = json.loads((tmp_path / f"{clips[0].stem}.json").read_text())
    assert _words(document) == list(SENTENCE)
    assert document["vocabulary"]["uri"] == str(vocabulary_file)
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    refused = CliRunner().invoke(app, [*args, "--vocabulary", str(empty)])
    assert refused.exit_code == exits.USAGE and "VocabularyEmpty" in refused.stdout


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Any:
    import boto3
    from moto import mock_aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="output")
        yield client


def test_the_job_reads_the_version_the_probe_pinned_and_a_gone_one_is_bad_input(s3: Any) -> None:
    """Given a vocabulary the Probe pinned, then edited: the job still boosts the pinned version; once
    that version is deleted (versioned) or the key replaced (unversioned, If-Match), VocabularyNotFound."""
    from pipeline.outcomes import VocabularyNotFound
    from pipeline.vocabulary import read_current

    from gpu_job.boosting import Vocabulary

    settings = Settings()
    s3.put_bucket_versioning(Bucket="output", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="output", Key="vocabularies/v.txt", Body=b"casa\n")
    ref, _ = read_current(s3, "output", "v", settings)
    s3.put_object(Bucket="output", Key="vocabularies/v.txt", Body=b"perro\ngato\n")  # edited meanwhile
    pinned = Vocabulary.from_ref(ref, settings)
    assert [p.text for p in pinned.phrases] == ["casa"] and pinned.version == ref.object.version_id
    assert pinned.used["version_id"] == ref.object.version_id and pinned.used["phrases"] == 1
    s3.delete_object(Bucket="output", Key="vocabularies/v.txt", VersionId=ref.object.version_id)
    with pytest.raises(VocabularyNotFound, match="'v'"):
        Vocabulary.from_ref(ref, settings)

    s3.put_object(Bucket="output", Key="vocabularies/u.txt", Body=b"casa\n")
    unversioned = ref.model_copy(
        update={
            "name": "u",
            "object": ref.object.model_copy(
                update={
                    "key": "vocabularies/u.txt",
                    "uri": "s3://output/vocabularies/u.txt",
                    "version_id": None,
                    "etag": s3.head_object(Bucket="output", Key="vocabularies/u.txt")["ETag"].strip('"'),
                }
            ),
        }
    )
    assert [p.text for p in Vocabulary.from_ref(unversioned, settings).phrases] == ["casa"]
    s3.put_object(Bucket="output", Key="vocabularies/u.txt", Body=b"perro\n")
    with pytest.raises(VocabularyNotFound):
        Vocabulary.from_ref(unversioned, settings)
