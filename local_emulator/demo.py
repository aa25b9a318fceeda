"""``make demo``: the whole workflow on this machine, offline, against moto's in-process AWS.

Generates a few spoken clips (espeak-ng, converted by ffmpeg to wav/mp3/ogg), creates the
template's resources locally, uploads the clips (plus objects that are not audio), lets the local
ingress (S3 event -> rule -> UploadQueue -> starter -> named execution) and the real ASL run each
upload and prints, per file: the states visited, the chosen plan, the Batch
job's attempts, where the outputs are, the catalog row and the first subtitle cues. The output
bucket is copied to ``out/demo/`` so the files can be opened afterwards. Then a custom vocabulary
(docs/VOCABULARY.md) turns a rare word the model mishears into the right one: the same clip uploaded
under a key prefix without a vocabulary and under one with (VocabularyByPrefix). Then a support call that
reads out a card number is uploaded where Redaction is redact (RedactionByPrefix, docs/REDACTION.md): its
outputs and its silenced audio copy hide the number. Then a burst of short
calls goes through the worker pool: one worker, one model load, every file its own execution. Then a
mono conversation of three voices (docs/SPEAKERS.md): its outputs name the speakers, its words carry
confidence, and `parakeet search --speaker` finds a phrase said by one of them.
"""

from __future__ import annotations

import os

# Quiet Lambda logs for a readable demo (set before any handler module is imported).
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3

from local_emulator import runner
from local_emulator.stack import RANDOM_MODEL, LocalStack, choose_model, local_stack
from local_emulator.template import REGION, REPO_ROOT

OUT_DIR = REPO_ROOT / "out" / "demo"
RANDOM_MODEL_NAME = RANDOM_MODEL.name
CLIP_DIR = REPO_ROOT / "build" / "demo_clips"

# Lowered thresholds so that three short clips show three modes: batched up to 10 s (the production
# default batches every length), full attention up to 30 s, local attention up to 60 s, streaming beyond
# (production: 86400, 600, 9000 s; see template.yaml). These are the template's own parameters.
DEMO_PARAMETERS = {
    "BatchedMaxSeconds": "10",
    "FullMaxSeconds": "30",
    # The pool takes files up to 15 s here (the production default is 600 s); the demo's 40 s and 180 s
    # clips keep their own Batch jobs. One worker serves up to 50 queued files; idle 5 s, it exits.
    "PoolMaxSeconds": "15",
    "PoolFilesPerWorker": "50",
    "PoolTaskHeartbeatSeconds": "300",
    "PoolVisibilitySeconds": "60",
    "PoolIdleExitSeconds": "5",
    "LocalAttentionMaxSeconds": "60",
    "ChunkSeconds": "10",
    "LeftContextSeconds": "3",
    "RightContextSeconds": "2",
    # A mixed bucket: notes next to the recordings are skipped by the starter (docs/INGRESS.md).
    "IgnoreKeySuffixes": ".txt",
    # Uploads under vocabulary-demo/boosted/ are decoded with the demo's vocabulary (docs/VOCABULARY.md).
    "VocabularyByPrefix": "vocabulary-demo/boosted/=demo-rare-words",
    # Uploads under redaction-demo/ have personal data redacted, in text and audio (docs/REDACTION.md).
    "RedactionByPrefix": "redaction-demo/=redact",
    "RedactAudioByPrefix": "redaction-demo/=true",
}
VOCABULARY_NAME = "demo-rare-words"
VOCABULARY_WEIGHT = 10  # the tiny speech model is far more confident than a real one (docs/VOCABULARY.md)

# Built only from the English words the tiny speech model was trained on
# (scripts/make_speech_corpus.py), so its transcripts are readable when it is the model in use.
SENTENCES = [
    "hello good morning.",
    "open the window.",
    "the big red car.",
    "one two three four five.",
    "the small blue house.",
    "six seven eight nine zero.",
    "the cat, the dog.",
    "open the green door.",
    "stop, go left, go right.",
    "good night.",
    "yes, no, up, down.",
    "the train, the water, the time.",
]


@dataclass(frozen=True)
class Clip:
    key: str
    seconds: float  # the length aimed at; the real length is what espeak-ng produces
    path: Path
    text: str  # what espeak-ng was asked to say: the truth a transcript is compared with


def _duration(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip())


def make_clip(key: str, seconds: float) -> Clip:
    """Speech of about ``seconds`` in the format named by the key's suffix (cached in build/)."""
    target = CLIP_DIR / key.replace("/", "__")
    spoken = target.with_name(target.name + ".txt")
    if not (target.exists() and spoken.exists()):
        CLIP_DIR.mkdir(parents=True, exist_ok=True)
        wav = target.with_suffix(".speech.wav")
        sentences: list[str] = []
        while True:
            sentences.append(SENTENCES[len(sentences) % len(SENTENCES)])
            speak = ["espeak-ng", "-v", "en-us", "-s", "150", "-g", "4", "-w", str(wav), " ".join(sentences)]
            subprocess.run(speak, check=True)
            if _duration(wav) >= seconds * 0.9:
                break
        convert = ["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), "-ac", "1", str(target)]
        subprocess.run(convert, check=True)
        wav.unlink()
        spoken.write_text(" ".join(sentences))
    return Clip(key, seconds, target, spoken.read_text())


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _read_s3(uri: str) -> str:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    body = boto3.client("s3", region_name=REGION).get_object(Bucket=bucket, Key=key)["Body"]
    return str(body.read().decode("utf-8"))


def _first_cues(srt: str, count: int = 3) -> list[str]:
    blocks = [b.strip() for b in srt.strip().split("\n\n") if b.strip()]
    return blocks[:count]


def report_upload(stack: LocalStack, clip: Clip) -> dict[str, Any]:
    _, report = runner.upload_and_run(stack.deployment, str(clip.path), clip.key)
    print(f"\n=== s3://{stack.deployment.input_bucket}/{clip.key}  ({_duration(clip.path):.1f} s)")
    if report is None:
        print("    ignored by the upload rule (no execution)")
        return {"key": clip.key, "status": "IGNORED"}
    print(f"    execution  {report.status} in {report.seconds:.1f} s")
    print(f"    states     {' -> '.join(report.states)}")
    output = report.output or {}
    plan = output.get("plan") or {}
    if plan:
        chunking = (plan.get("request") or {}).get("chunking")
        print(
            f"    plan       mode={plan['mode']} size_class={plan['size_class']} path={plan.get('path')}"
            f" instance_types={','.join(plan.get('instance_types', []))}"
            f" chunking={json.dumps(chunking) if chunking else '-'}"
        )
        print(f"    job queue  {plan['job_queue']}")
        print(f"    job def    {plan['job_definition']}")
    jobs = [j for j in stack.bridge.batch_jobs if plan and j.job_name == plan.get("job_name")]
    for job in jobs:
        attempts = ", ".join(f"exit={a.exit_code}" for a in job.attempts)
        print(f"    batch job  {job.job_id} {job.status} attempts=[{attempts}]")
    if plan.get("path") == "pool" and output.get("job"):
        print(
            f"    pool       worker job {output['job']['job_id']}, its GPU share"
            f" {output['job'].get('gpu_seconds')} s"
        )
    for name, uri in ((output.get("postprocess") or {}).get("outputs") or {}).items():
        print(f"    output     {name:<15} {uri}")
    table = boto3.resource("dynamodb", region_name=REGION).Table(stack.deployment.catalog_table)
    source = (output.get("claim") or {}).get("source") or {}
    row = None
    if source:
        row = _plain(table.get_item(Key={"source_uri": source["uri"], "etag": source["etag"]}).get("Item"))
    if row:
        shown = {
            k: row.get(k)
            for k in (
                "status",
                "mode",
                "size_class",
                "language",
                "duration_s",
                "cost_estimate_usd",
                "reason",
                "reason_class",
            )
            if k in row
        }
        if "timings" in row:
            shown["timings_s"] = row["timings"]
        print(f"    catalog    {json.dumps(shown)}")
    srt_uri = (output.get("outputs") or {}).get("srt")
    if srt_uri:
        print("    first SRT cues:")
        for cue in _first_cues(_read_s3(srt_uri)):
            print("      " + cue.replace("\n", "\n      "))
    return {
        "key": clip.key,
        "status": report.status,
        "mode": plan.get("mode"),
        "states": len(report.states),
        "catalog": (row or {}).get("status"),
        "seconds": report.seconds,
    }


def report_vocabulary(stack: LocalStack, tiny_speech_model: bool) -> dict[str, Any]:
    """One clip with a rare word (scripts/rare_words.py), uploaded without and with the vocabulary."""
    from pipeline.vocabulary import vocabulary_key

    from scripts import rare_words

    word = rare_words.rare_candidates()[0]
    sentence = ("the", "red", word, "stop")
    print(f"\n=== custom vocabulary: {' '.join(sentence)!r} spoken by an English voice; {word!r} is rare")
    CLIP_DIR.mkdir(parents=True, exist_ok=True)
    audio = rare_words.speak(sentence, rare_words.english_speakers()[0]).audio
    clip = rare_words.write_wav(CLIP_DIR / "vocabulary-demo.wav", audio)
    s3 = boto3.client("s3", region_name=REGION)
    body = f"# the demo's custom vocabulary\n{word} | {VOCABULARY_WEIGHT}\n"
    s3.put_object(
        Bucket=stack.deployment.output_bucket, Key=vocabulary_key(VOCABULARY_NAME), Body=body.encode()
    )
    print(
        f"    vocabulary s3://{stack.deployment.output_bucket}/{vocabulary_key(VOCABULARY_NAME)}: {word} | "
        f"{VOCABULARY_WEIGHT}  (VocabularyByPrefix {DEMO_PARAMETERS['VocabularyByPrefix']})"
    )
    heard: dict[str, list[str]] = {}
    for case in ("plain", "boosted"):
        key = f"vocabulary-demo/{case}/call.wav"
        _, report = runner.upload_and_run(stack.deployment, str(clip), key, timeout_s=300)
        outputs = (((report.output if report else None) or {}).get("postprocess") or {}).get("outputs") or {}
        document = json.loads(_read_s3(outputs["transcript_json"])) if outputs else {}
        heard[case] = [str(w["word"]).lower().strip(".,") for w in document.get("words", [])]
        used = document.get("vocabulary")
        print(
            f"    {key:<34} {report.status if report else 'IGNORED':<10} {' '.join(heard[case])!r}"
            f"  vocabulary={used['name'] + '@' + (used['version_id'] or used['etag']) if used else '-'}"
        )
    fixed = word not in heard.get("plain", []) and word in heard.get("boosted", [])
    if tiny_speech_model:
        print(f"    {'the vocabulary turned the rare word from wrong to right' if fixed else 'NOT FIXED'}")
    return {"word": word, "fixed": fixed, "checked": tiny_speech_model}


def report_redaction(stack: LocalStack, tiny_speech_model: bool) -> dict[str, Any]:
    """A call that reads out a card number, uploaded where Redaction is redact: what its outputs say."""
    from local_emulator.card_call import card_call_text, card_leaks, make_card_call

    key = "redaction-demo/support-call.wav"
    print(f"\n=== redaction: {card_call_text()!r} uploaded as {key} (Redaction redact, RedactAudio true)")
    clip = make_card_call(CLIP_DIR / "redaction-demo.wav")
    _, report = runner.upload_and_run(stack.deployment, str(clip), key, timeout_s=300)
    outputs = (((report.output if report else None) or {}).get("postprocess") or {}).get("outputs") or {}
    document = json.loads(_read_s3(outputs["transcript_json"])) if outputs else {}
    texts = {name: _read_s3(uri) for name, uri in outputs.items()}
    leaked = sorted(name for name, text in texts.items() if card_leaks(text))
    print(f"    {key:<34} {report.status if report else 'IGNORED':<10} {document.get('text', '')!r}")
    for span in document.get("redactions", []):
        print(
            f"    redacted   {span['type']} {span['start']:.2f}-{span['end']:.2f} s (score {span['score']})"
        )
    print(f"    audio copy {(document.get('redaction') or {}).get('audio') or '-'}")
    hidden = bool(outputs) and not leaked and bool(document.get("redactions"))
    verdict = f"the card number is in none of {', '.join(sorted(texts))}" if hidden else f"LEAKED in {leaked}"
    print(f"    {verdict}")
    return {"key": key, "hidden": hidden, "checked": tiny_speech_model}


def report_speakers(stack: LocalStack, tiny_speech_model: bool) -> dict[str, Any]:
    """A 3-speaker mono conversation (local_emulator.conversation): who said what, in every output, how sure
    the model was of each word, and `parakeet search --speaker` finding a phrase said by one of them."""
    from local_emulator.conversation import speaker_agreement, three_speakers
    from parakeet_cli.search import DuckDbBackend, search_segments

    key = "meetings/three-speakers.wav"
    wav, conversation = three_speakers(CLIP_DIR, "three-speakers")
    print(f"\n=== speakers: a {conversation.duration:.0f} s mono conversation of 3 voices uploaded as {key}")
    _, report = runner.upload_and_run(stack.deployment, str(wav), key, timeout_s=300)
    outputs = (((report.output if report else None) or {}).get("postprocess") or {}).get("outputs") or {}
    document = json.loads(_read_s3(outputs["transcript_json"])) if outputs else {}
    speakers, words = document.get("speakers") or {}, document.get("words", [])
    agreement = speaker_agreement(words, conversation.words)
    print(
        f"    {key:<34} {report.status if report else 'IGNORED':<10} speakers={speakers.get('count')}"
        f" ({speakers.get('used')}, {speakers.get('model') or '-'})"
    )
    print(f"    words with the true speaker: {agreement:.0%} (best one-to-one mapping of labels)")
    for cue in _first_cues(_read_s3(outputs["srt"]) if outputs else "", 4):
        print(f"    srt  {' | '.join(cue.splitlines())}")
    for line in (_read_s3(outputs["vtt"]) if outputs else "").splitlines():
        if line.startswith("<v "):
            print(f"    vtt  {line}")
            break
    if words:
        unsure = sorted(words, key=lambda w: w["confidence"])[:3]
        mean = sum(w["confidence"] for w in words) / len(words)
        print(
            f"    confidence: mean {mean:.2f}; least sure "
            + ", ".join(f"{w['word']!r} {w['confidence']:.2f}" for w in unsure)
        )
    found: list[Any] = []
    phrase, who = "", None
    segments = document.get("segments", [])
    for segment in sorted(segments, key=lambda s: -len(s["text"])):
        text = segment["text"].lower().strip(" .,")
        if len({s["speaker"] for s in segments if text in s["text"].lower()}) == 1:
            phrase, who = text, segment["speaker"]
            break
    if who is not None:
        backend = DuckDbBackend(
            s3=boto3.client("s3", region_name=REGION), bucket=stack.deployment.output_bucket
        )
        hits = search_segments(
            backend, phrase, speaker=who, limit=100, input_bucket=stack.deployment.input_bucket
        )
        found = [h for h in hits if h.key == key]
        print(f"    parakeet search {phrase!r} --speaker {who + 1}: {len(found)} hit(s) in {key}")
        for hit in found[:2]:
            who_said = f"Speaker {hit.speaker + 1}" if hit.speaker is not None else "-"
            print(f"      {hit.start_s:7.2f}-{hit.end_s:7.2f} s  {who_said}  {hit.text!r}")
    named = bool(outputs) and all("Speaker" in _read_s3(outputs[name]) for name in ("srt", "vtt", "txt"))
    ok = (
        named
        and int(speakers.get("count") or 0) >= 2
        and all(isinstance(w.get("speaker"), int) and 0.0 <= w["confidence"] <= 1.0 for w in words)
        and bool(found)
        and all(h.speaker == who for h in found)
    )
    return {
        "key": key,
        "ok": ok,
        "agreement": agreement,
        "count": speakers.get("count"),
        "checked": tiny_speech_model,
    }


BURST_FORMATS = ("wav", "mp3", "ogg", "flac")
BURST_SIZE = 24


def run_burst(stack: LocalStack) -> dict[str, Any]:
    """A call centre's burst: BURST_SIZE short calls uploaded at once, each its own execution."""
    print(f"\n=== burst: {BURST_SIZE} short calls uploaded at once (pool path)")
    clips = [
        make_clip(f"calls/call-{i:02d}.{BURST_FORMATS[i % len(BURST_FORMATS)]}", 3 + i % 6)
        for i in range(BURST_SIZE)
    ]
    deployment = stack.deployment
    workers_before = set(stack.pool.reports)
    started = time.monotonic()
    load = runner.upload_many(deployment, [(clip.path, clip.key) for clip in clips], timeout_s=900)
    reports = [runner.wait_for(u.execution_arn, timeout_s=60) for u in load.uploads if u.execution_arn]
    seconds = time.monotonic() - started
    print(
        f"    ingress: {len(load.uploads)} uploads at once,"
        f" {load.executions_started} executions started, {load.duplicates_refused} duplicates refused,"
        f" {load.lost} lost, {load.hangs} hung, up to {load.max_running} running together"
    )
    table = boto3.resource("dynamodb", region_name=REGION).Table(deployment.catalog_table)
    rows = [
        _plain(
            table.get_item(Key={"source_uri": f"s3://{deployment.input_bucket}/{u.key}", "etag": u.etag}).get(
                "Item"
            )
            or {}
        )
        for u in load.uploads
    ]
    transcribed = sum(1 for r in rows if r.get("status") == "TRANSCRIBED")
    named = {(r.output or {}).get("job", {}).get("job_id") for r in reports}
    workers = {job_id: stack.pool.reports[job_id] for job_id in named if job_id in stack.pool.reports}
    pooled = sum(1 for r in reports if r.output and r.output["plan"]["path"] == "pool")
    per_file = len([j for j in stack.bridge.batch_jobs if j.command[:1] != ["pool"]])
    print(
        f"    {transcribed}/{len(clips)} TRANSCRIBED in {seconds:.1f} s, {pooled} through the pool,"
        f" {per_file} per-file Batch jobs in all"
    )
    for job_id, worker in workers.items():
        mine = sum(1 for r in reports if (r.output or {}).get("job", {}).get("job_id") == job_id)
        print(
            f"    worker {job_id}: {mine} files of the burst, {worker.batches} batches,"
            f" {worker.model_loads} model load ({worker.model_load_s:.1f} s"
            f"{', memoised in this process' if worker.model_load_s < 0.1 else ''}),"
            f" {worker.gpu_seconds:.1f} s transcribing"
        )
    costs = [float(r["cost_estimate_usd"]) for r in rows if r.get("cost_estimate_usd") is not None]
    if costs:
        print(
            f"    catalog: each row names its worker; cost share per file {min(costs):.6f}"
            f"-{max(costs):.6f} USD (its share of the worker's GPU time)"
        )
    print(
        f"    files per worker: {transcribed / max(1, len(workers)):.0f};"
        f" model loads: {sum(w.model_loads for w in workers.values())}"
        f" (new workers started for the burst: {len(set(workers) - workers_before)})"
    )
    return {
        "files": len(clips),
        "transcribed": transcribed,
        "workers": len(workers),
        "model_loads": sum(w.model_loads for w in workers.values()),
        "lost": load.lost,
        "hangs": load.hangs,
    }


# Objects that are not audio: what each one ends as (key, bytes, the outcome the demo expects).
NOT_AUDIO = (
    ("meetings/empty.wav", b"", "FAILED ZeroByteObject"),  # content decides: empty is a typed failure
    ("meetings/", b"", "NOT DELIVERED"),  # a console folder marker: the rule does not match it
    ("notes/readme.txt", b"not audio", "SKIPPED"),  # IgnoreKeySuffixes=.txt: the starter skips it
)


def report_not_audio(stack: LocalStack) -> list[dict[str, Any]]:
    print("\n=== objects that are not audio")
    results = []
    table = boto3.resource("dynamodb", region_name=REGION).Table(stack.deployment.catalog_table)
    for key, body, expected in NOT_AUDIO:
        path = CLIP_DIR / ("not-audio-" + key.replace("/", "__"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        event, report = runner.upload_and_run(stack.deployment, str(path), key, timeout_s=120)
        if report is None:
            outcome = "NOT DELIVERED" if not runner.rule_matches(stack.deployment, event) else "SKIPPED"
            row: dict[str, Any] = {}
        else:
            obj = event["detail"]["object"]
            row = _plain(
                table.get_item(
                    Key={"source_uri": f"s3://{stack.deployment.input_bucket}/{key}", "etag": obj["etag"]}
                ).get("Item")
                or {}
            )
            outcome = f"{row.get('status')} {row.get('reason')}"
        print(f"    {key!r:<24} {outcome:<24} {'' if outcome == expected else '(expected ' + expected + ')'}")
        results.append({"key": key, "status": outcome, "expected": expected, "catalog": row.get("status")})
    return results


def copy_outputs(stack: LocalStack) -> int:
    s3 = boto3.client("s3", region_name=REGION)
    if OUT_DIR.exists():
        shutil.rmtree(OUT_DIR)
    count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.deployment.output_bucket):
        for obj in page.get("Contents", []):
            target = OUT_DIR / obj["Key"]
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(stack.deployment.output_bucket, obj["Key"], str(target))
            count += 1
    table = boto3.resource("dynamodb", region_name=REGION).Table(stack.deployment.catalog_table)
    rows = [_plain(item) for item in table.scan()["Items"]]
    (OUT_DIR / "catalog.json").write_text(json.dumps(rows, indent=2, default=str))
    return count


def main() -> int:
    started = time.monotonic()
    model, why = choose_model(prefer_speech=True)
    print(f"model: {why}")
    clips = [
        make_clip("meetings/standup.wav", 5),
        make_clip("podcasts/episode 12.mp3", 40),
        make_clip("lectures/long-talk.ogg", 180),
    ]
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    job_log_path = OUT_DIR.parent / "demo-gpu_job.log"
    with (
        job_log_path.open("w") as job_log,
        local_stack(parameter_overrides=DEMO_PARAMETERS, model=model, job_log=job_log) as stack,
    ):
        deployment = stack.deployment
        print(
            f"local stack from template.yaml: input s3://{deployment.input_bucket},"
            f" output s3://{deployment.output_bucket}, catalog {deployment.catalog_table}"
        )
        print(f"state machine {deployment.state_machine_arn}")
        print(f"parameters for the demo: {json.dumps(DEMO_PARAMETERS)}")
        print(f"not emulated (real-account only): {', '.join(deployment.not_emulated)}")
        results = [report_upload(stack, clip) for clip in clips]

        results += report_not_audio(stack)

        vocabulary = report_vocabulary(stack, Path(model).name == "tiny_tdt_speech.nemo")
        redaction = report_redaction(stack, Path(model).name != RANDOM_MODEL_NAME)

        burst = run_burst(stack)
        speakers = report_speakers(stack, Path(model).name != RANDOM_MODEL_NAME)
        copied = copy_outputs(stack)

    print("\n=== summary")
    for r in results:
        print(
            f"    {r['key']:<26} {r['status']:<10} mode={r.get('mode') or '-':<16}"
            f" catalog={r.get('catalog') or '-'}"
        )
    print(
        f"\n{copied} output files and catalog.json copied to {OUT_DIR.relative_to(REPO_ROOT)}/;"
        f" gpu_job console output in {job_log_path.relative_to(REPO_ROOT)}"
    )
    print(f"demo finished in {time.monotonic() - started:.0f} s")
    audio = results[: len(clips)]
    audio_ok = all(r["status"] == "SUCCEEDED" and r.get("catalog") == "TRANSCRIBED" for r in audio)
    not_audio_ok = all(r["status"] == r["expected"] for r in results[len(clips) :])
    burst_ok = (
        burst["transcribed"] == burst["files"]
        and burst["workers"] == 1
        and burst["model_loads"] == 1
        and burst["lost"] == burst["hangs"] == 0
    )
    print(f"burst: {burst['files']} files, {burst['workers']} worker, {burst['model_loads']} model load")
    vocabulary_ok = vocabulary["fixed"] or not vocabulary["checked"]
    print(f"vocabulary: {vocabulary['word']!r} {'fixed' if vocabulary['fixed'] else 'not fixed'} by boosting")
    # The random-weight model says no digits: nothing to find, so only a speaking model is held to it.
    redaction_ok = redaction["hidden"] or not redaction["checked"]
    hidden = "hidden" if redaction["hidden"] else "NOT hidden"
    print(f"redaction: the spoken card number {hidden} in every text output")
    # The random-weight model hears no words to label, so only a speaking model is held to speakers.
    speakers_ok = speakers["ok"] or not speakers["checked"]
    shown = "named in every output and found by --speaker" if speakers["ok"] else "NOT shown"
    print(
        f"speakers: {speakers['count']} found in the 3-voice conversation,"
        f" {speakers['agreement']:.0%} of words with the true speaker; {shown}"
    )
    ok = audio_ok and not_audio_ok and burst_ok and vocabulary_ok and redaction_ok and speakers_ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
