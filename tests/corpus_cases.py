"""The acceptance corpus of issue 10: real-world uploads and what each one must end as.

One row per upload: how its bytes are made (scripts/make_corpus.py recipes), the key it arrives
under (odd, lying or missing extensions, unicode, very long), and its documented outcome
(docs/OUTCOMES.md): TRANSCRIBED (with words when it speaks), FAILED with the typed bad-input error,
SUPERSEDED (the key was overwritten while it ran), or IGNORED (no execution: a folder marker or an
IgnoreKeySuffixes match). tests/workflow/test_corpus.py uploads them all at once to the local stack.

Speech cases say the tiny speech model's words (digits, docs/TINY_MODEL.md), so ``words`` means
the model heard something; AMR cases carry random frames (no AMR encoder here): they decode to
noise, so only the outcome is asserted. The stack runs with MaxDurationSeconds = CAP_S so that
the length cap is exercised with clips of seconds, not a day of audio.
"""

from __future__ import annotations

from dataclasses import dataclass

from scripts.make_corpus import Recipe, ff, noise_bytes, patched, raw, recipe, truncated
from tests.unit.test_demuxer_allow_list import REFUSED

TRANSCRIBED, FAILED, SUPERSEDED, IGNORED = "TRANSCRIBED", "FAILED", "SUPERSEDED", "IGNORED"
CAP_S = 20  # MaxDurationSeconds of the corpus stack (the production default is 86400)
IGNORE_KEY_SUFFIXES = ".md5,.sha256"  # the corpus stack's IgnoreKeySuffixes
# The corpus stack's vocabularies (s3://<OutputBucket>/vocabularies/<name>.txt, docs/VOCABULARY.md) and
# its VocabularyByPrefix rules: one good vocabulary, one per way a vocabulary is bad input ("absent"
# has no object at all).
VOCABULARIES = {
    "corpus-words": b"# a good one\ncasa | 10\nseven\n",
    "empty-list": b"# only comments\n\n",
    "huge-list": b"".join(b"phrase %d\n" % i for i in range(1001)),  # VocabularyMaxPhrases is 1000
    "bad-weight": b"casa | heavy\n",
}
VOCABULARY_BY_PREFIX = (
    "vocab/good/=corpus-words,vocab/missing/=absent,vocab/empty/=empty-list,"
    "vocab/huge/=huge-list,vocab/invalid/=bad-weight"
)


@dataclass(frozen=True)
class Case:
    name: str
    recipe: Recipe
    key: str
    status: str = TRANSCRIBED
    error: str | None = None  # FAILED: the typed error (pipeline.outcomes) in the row's ``reason``
    words: bool | None = None  # True: > 0 words; False: exactly 0; None: not asserted (noise)
    channel_mode_used: str | None = "mix"  # the row's channel_mode_used (mono: "mix")
    warnings: int = 0  # how many warnings the row carries
    track_index: int | None = None  # transcript.json's track.index (the default track, else the first)
    other_tracks: int | None = None
    redeliveries: int = 0  # exact duplicate deliveries of the upload's event
    overwritten_by: str | None = None  # SUPERSEDED: the case whose upload replaced this one's key
    vocabulary: str | None = None  # TRANSCRIBED: the vocabulary transcript.json records (VOCABULARIES)
    notes: str = ""


def speech(name: str, r: Recipe, key: str, **kw: object) -> Case:
    return Case(name, r, key, TRANSCRIBED, words=True, **kw)  # type: ignore[arg-type]


def bad(name: str, r: Recipe, key: str, error: str, **kw: object) -> Case:
    return Case(name, r, key, FAILED, error=error, **kw)  # type: ignore[arg-type]


WAV = ff(".wav")
FLAC = ff(".flac")
MP3 = ff(".mp3", "-c:a", "libmp3lame", "-b:a", "64k")
M4A = ff(".m4a", "-c:a", "aac", "-b:a", "64k")
MKV = ff(".mkv", "-c:a", "flac")
OGG = ff(".ogg", "-c:a", "libvorbis", "-q:a", "3")
VIDEO_MP4 = ff(
    ".mp4", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "64k", "-shortest", video=True
)
LIVE_WEBM = ff(".webm", "-c:a", "libopus", "-b:a", "32k", "-f", "webm", pipe=True)
TEXT_NOTE = b"Meeting notes\n- agenda\n- action items\n"

FORMATS: list[Case] = [
    # PCM and phone-system WAV
    speech("wav_pcm16", WAV, "meetings/standup.wav"),
    speech("wav_pcm24", ff(".wav", "-c:a", "pcm_s24le"), "studio/take 3.WAV"),
    speech("wav_pcm32f", ff(".wav", "-c:a", "pcm_f32le"), "studio/float32.wav"),
    speech("wav_pcm_u8", ff(".wav", "-c:a", "pcm_u8", "-ar", "8000"), "legacy/dictation.wav"),
    speech("wav_alaw", ff(".wav", "-c:a", "pcm_alaw", "-ar", "8000"), "pbx/call.alaw"),
    speech("wav_mulaw", ff(".wav", "-c:a", "pcm_mulaw", "-ar", "8000"), "pbx/call-0042"),
    speech("wav_gsm", ff(".wav", "-c:a", "libgsm_ms", "-ar", "8000"), "pbx/voicemail.gsm"),
    speech(
        "wav_ima_adpcm",
        ff(".wav", "-c:a", "adpcm_ima_wav", "-ar", "8000"),
        "recorder/REC001.ogg",
        notes="IMA ADPCM WAV under a lying .ogg extension",
    ),
    speech("wav_ms_adpcm", ff(".wav", "-c:a", "adpcm_ms"), "recorder/REC002.WAV"),
    speech("wav_rf64", ff(".wav", "-c:a", "pcm_s16le", "-rf64", "always"), "broadcast/bw64.wav"),
    speech("w64", ff(".w64", "-c:a", "pcm_s16le"), "broadcast/sony.w64"),
    speech(
        "wav_streamed_ffffffff",
        patched(WAV, "wav_size_ffffffff"),
        "capture/stream-ffff.wav",
        notes="streaming capture: RIFF/data size 0xFFFFFFFF",
    ),
    speech(
        "wav_streamed_zero",
        patched(WAV, "wav_size_zero"),
        "capture/stream-zero.wav",
        notes="streaming capture: RIFF/data size 0",
    ),
    speech(
        "wav_ffmpeg_pipe",
        ff(".wav", "-c:a", "pcm_s16le", "-f", "wav", pipe=True),
        "capture/piped",
        notes="ffmpeg -f wav - as a recorder writes it, no extension",
    ),
    speech(
        "wav_header_claims_more",
        patched(WAV, "wav_size_huge"),
        "capture/claims-9h.wav",
        notes="data size claims ~2 GiB in a 60 KB object: bounded by the bytes present",
    ),
    speech(
        "wav_truncated_half",
        truncated(WAV, 0.5),
        "uploads/interrupted.wav",
        notes="an interrupted upload: header longer than the data, the half present is transcribed",
    ),
    # lossless
    speech("flac", FLAC, "music/track01.flac"),
    speech("flac_no_extension", FLAC, "music/track02"),
    speech("flac_in_ogg", ff(".oga", "-c:a", "flac", "-f", "ogg"), "music/track03.oga"),
    speech(
        "flac_unknown_length",
        patched(FLAC, "flac_total_samples_unknown"),
        "music/streamed.flac",
        notes="STREAMINFO total samples 0 (unknown), as a FLAC encoder writing to a pipe leaves it",
    ),
    speech("wavpack", ff(".wv", "-c:a", "wavpack"), "archive/field.wv"),
    speech("tta", ff(".tta", "-c:a", "tta"), "archive/field.tta"),
    speech("alac_m4a", ff(".m4a", "-c:a", "alac"), "itunes/memo.m4a"),
    speech("alac_caf", ff(".caf", "-c:a", "alac"), "ios/memo.m4a", notes="CAF under a lying .m4a"),
    speech("caf_pcm", ff(".caf", "-c:a", "pcm_s16le"), "ios/memo.caf"),
    speech("aiff", ff(".aiff", "-c:a", "pcm_s16be"), "mac/export.aiff"),
    speech("aiff_as_bin", ff(".aiff", "-c:a", "pcm_s16be"), "mac/export.bin"),
    speech("au", ff(".au", "-c:a", "pcm_s16be"), "unix/sound.snd.txt"),
    # lossy audio
    speech("mp3_cbr", MP3, "podcasts/episode 12.mp3"),
    speech("mp3_vbr", ff(".mp3", "-c:a", "libmp3lame", "-q:a", "5"), "podcasts/vbr.mp3"),
    speech(
        "mp3_no_xing",
        ff(".mp3", "-c:a", "libmp3lame", "-b:a", "64k", "-write_xing", "0"),
        "podcasts/noxing.dat",
    ),
    speech("mp3_truncated_half", truncated(MP3, 0.5), "podcasts/cut-off.mp3"),
    speech("mp2", ff(".mp2", "-c:a", "mp2", "-b:a", "128k"), "broadcast/news.mp2"),
    speech("ogg_vorbis", OGG, "voice/note.ogg"),
    speech("ogg_vorbis_dat", OGG, "voice/note.dat"),
    speech("ogg_opus", ff(".opus", "-c:a", "libopus", "-b:a", "32k"), "whatsapp/PTT-20261202.opus"),
    speech("ogg_speex", ff(".spx", "-c:a", "libspeex", "-ar", "16000"), "voip/old.spx"),
    speech("m4a_aac", M4A, "phone/Recording 7.m4a"),
    speech(
        "m4a_aac_faststart",
        ff(".m4a", "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart"),
        "phone/faststart",
    ),
    speech("aac_adts", ff(".aac", "-c:a", "aac", "-b:a", "64k"), "radio/stream.aac"),
    speech("aac_latm", ff(".latm", "-c:a", "aac", "-b:a", "64k", "-f", "latm"), "dvb/audio.latm"),
    speech(
        "wma_v2",
        ff(".wma", "-c:a", "wmav2", "-b:a", "64k"),
        "windows/meeting.mp3",
        notes="WMA (ASF) under a lying .mp3",
    ),
    speech("wma_v1", ff(".wma", "-c:a", "wmav1", "-b:a", "64k"), "windows/old.wma"),
    speech("ac3", ff(".ac3", "-c:a", "ac3", "-b:a", "96k"), "dvd/track.dat"),
    speech("eac3", ff(".eac3", "-c:a", "eac3", "-b:a", "96k"), "bluray/track.eac3"),
    speech("dts", ff(".dts", "-c:a", "dca", "-strict", "-2", "-ar", "48000"), "bluray/track.dts"),
    Case(
        "amr_nb",
        recipe("amr", band="nb", ext=".amr"),
        "phone/voicemail.wav",
        notes="AMR-NB (random frames: decodes to noise)",
    ),
    Case("amr_wb", recipe("amr", band="wb", ext=".awb"), "phone/voicemail-wb"),
    Case("amr_in_3gp", recipe("amr", band="nb", container="3gp", ext=".3gp"), "phone/memo.3gp"),
    # audio/video containers
    speech("mkv_flac", MKV, "archive/talk.mkv"),
    speech("webm_opus", ff(".webm", "-c:a", "libopus", "-b:a", "32k"), "browser/recording.webm"),
    speech(
        "webm_mediarecorder",
        LIVE_WEBM,
        "browser/blob",
        notes="MediaRecorder-style: no Duration element, unknown-size clusters, no extension",
    ),
    speech("mkv_live_pcm", ff(".mkv", "-c:a", "pcm_s16le", "-f", "matroska", pipe=True), "obs/live.mkv"),
    speech("mp4_video", VIDEO_MP4, "zoom/meeting.mp4"),
    speech("mp4_video_no_extension", VIDEO_MP4, "zoom/GMT20261202-140000_Recording"),
    speech(
        "mov_video",
        ff(".mov", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", video=True),
        "iphone/IMG_0042.MOV",
    ),
    speech("3gp_aac", ff(".3gp", "-c:a", "aac", "-b:a", "32k", "-ar", "16000"), "android/VID_0001.mp4"),
    speech(
        "avi_pcm_video",
        ff(".avi", "-c:v", "mjpeg", "-c:a", "pcm_s16le", "-shortest", video=True),
        "camera/MOV00001.AVI",
    ),
    speech("avi_mp3", ff(".avi", "-c:a", "libmp3lame", "-b:a", "64k"), "camera/clip"),
    speech("mpegts_mp2", ff(".ts", "-c:a", "mp2", "-b:a", "128k"), "dvb/recording.ts"),
    speech(
        "mpegts_aac_video",
        ff(".ts", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", video=True),
        "dvb/recording.m2ts",
    ),
    speech("mpeg_ps_vcd", ff(".mpg", "-c:a", "mp2", "-b:a", "128k", "-f", "mpeg"), "vcd/AVSEQ01.DAT"),
    speech("flv_mp3", ff(".flv", "-c:a", "libmp3lame", "-ar", "22050", "-b:a", "64k"), "stream/archive.flv"),
]

CHANNELS_AND_TRACKS: list[Case] = [
    speech(
        "stereo_identical",
        recipe("stereo", kind="same", ext=".wav"),
        "stereo/mono-in-both.wav",
        channel_mode_used="mix",
    ),
    speech(
        "stereo_phase_inverted",
        recipe("stereo", kind="inverted", ext=".wav"),
        "stereo/inverted.wav",
        channel_mode_used="channel",
        warnings=1,
        notes="the channels cancel when mixed: one channel is used, with a warning",
    ),
    speech(
        "stereo_split_call",
        recipe("stereo", kind="call", ext=".wav"),
        "calls/agent-left customer-right.wav",
        channel_mode_used="split",
        notes="agent left, customer right: each channel transcribed",
    ),
    speech(
        "surround_5_1",
        ff(".m4a", "-c:a", "aac", "-b:a", "192k", source="surround"),
        "film/5.1.m4a",
        channel_mode_used="mix",
    ),
    speech(
        "mkv_two_tracks_default_second",
        recipe("tracks", ext=".mkv", default_second=True),
        "tracks/commentary.mkv",
        track_index=1,
        other_tracks=1,
    ),
    speech(
        "mp4_two_tracks_default_second",
        recipe("tracks", ext=".mp4", default_second=True),
        "tracks/dubbed.mp4",
        track_index=1,
        other_tracks=1,
    ),
    speech(
        "mkv_two_tracks_no_default",
        recipe("tracks", ext=".mkv", default_second=False),
        "tracks/no-default.mkv",
        track_index=0,
        other_tracks=1,
    ),
]

SILENCE: list[Case] = [
    Case("silence_wav", ff(".wav", source="silence"), "quiet/room.wav", words=False),
    Case("silence_mp3", ff(".mp3", "-c:a", "libmp3lame", source="silence"), "quiet/room.mp3", words=False),
    Case("noise_stereo", ff(".wav", "-ac", "2", source="noise"), "quiet/hum.wav", words=False),
    Case("tone", ff(".flac", source="tone"), "quiet/test-tone.flac", words=False),
]

PLAYLISTS = [
    ("concat_local.ffconcat", "playlists/list.ffconcat"),
    ("concat_passwd.ffconcat", "playlists/passwd.txt"),
    ("concat_protocols.ffconcat", "playlists/protocols"),
    ("hls_loopback.m3u8", "playlists/live.m3u8"),
    ("hls_local.m3u8", "playlists/local.m3u8"),
    ("dash.mpd", "playlists/manifest.mpd"),
    ("session.sdp", "playlists/session.sdp"),
    ("chapters.ffmeta", "playlists/chapters.txt"),
]

# tests/unit/test_demuxer_allow_list.py opens each hostile input by its file name; uploaded to S3, the
# decoder reads the object without a name, and FFmpeg's HLS demuxer recognises a playlist only by a
# .m3u8 name or MIME type: nothing recognises the bytes (NotMedia). Either way nothing is opened.
THROUGH_S3 = {"hls_loopback.m3u8": "NotMedia", "hls_local.m3u8": "NotMedia"}

BAD_INPUT: list[Case] = [
    bad("zero_byte", raw(b""), "uploads/empty.wav", "ZeroByteObject"),
    bad("zero_byte_no_extension", raw(b""), "uploads/placeholder", "ZeroByteObject"),
    bad("text_note", raw(TEXT_NOTE), "uploads/notes.txt", "NotMedia"),
    bad("csv", raw(b"start,end,speaker\n0.0,1.5,agent\n"), "uploads/speakers.csv", "NotMedia"),
    bad(
        "json",
        raw(b'{"title": "not audio", "duration": 3600}\n'),
        "uploads/meta.json",
        "UnsupportedInput",
        notes="FFmpeg reads JSON as TED captions (tedcaptions): a recognised format outside the allow-list",
    ),
    bad(
        "html_error_page",
        raw(b"<!DOCTYPE html><html><body><h1>403 Forbidden</h1></body></html>\n"),
        "uploads/download.mp3",
        "NotMedia",
        notes="a failed download saved under the media name",
    ),
    bad("random_bytes", noise_bytes(8192, seed=1), "uploads/blob.bin", "NotMedia"),
    bad("random_bytes_wav", noise_bytes(8192, seed=2), "uploads/noise.wav", "NotMedia"),
    bad(
        "pdf",
        raw(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"),
        "uploads/minutes.pdf",
        "NotMedia",
    ),
    bad(
        "m3u_plain",
        raw(b"#EXTM3U\n#EXTINF:123,Artist - Title\nhttp://127.0.0.1:9/a.mp3\n"),
        "uploads/mix.m3u",
        "NotMedia",
        notes="a plain M3U music playlist (no HLS tags)",
    ),
    bad(
        "pls_playlist",
        raw(b"[playlist]\nFile1=http://127.0.0.1:9/a.mp3\nNumberOfEntries=1\n"),
        "uploads/radio.pls",
        "UnsupportedInput",
        notes="FFmpeg reads it as LRC lyrics: refused by policy",
    ),
    *(
        bad(
            f"playlist_{name.replace('.', '_')}",
            recipe("hostile", name=name, ext=".txt"),
            key,
            THROUGH_S3.get(name, REFUSED[name]),
        )
        for name, key in PLAYLISTS
    ),
    bad(
        "flac_header_claims_30h",
        patched(FLAC, "flac_claims_30h"),
        "uploads/claims-30h.flac",
        "DurationOutOfRange",
        notes="STREAMINFO states 30 h: a stated length over the cap is rejected"
        " (FLAC's sample count is written by the encoder; no size bound is sound for FLAC silence)",
    ),
    bad(
        "srt_subtitles",
        raw(b"1\n00:00:01,000 --> 00:00:02,000\nHello\n\n"),
        "uploads/captions.srt",
        "UnsupportedInput",
    ),
    bad(
        "webvtt_subtitles",
        raw(b"WEBVTT\n\n00:01.000 --> 00:02.000\nHello\n"),
        "uploads/captions.vtt",
        "UnsupportedInput",
    ),
    bad("png_image", ff(".png", "-frames:v", "1", source="none"), "uploads/cover.png", "UnsupportedInput"),
    bad("jpeg_image", ff(".jpg", "-frames:v", "1", source="none"), "uploads/photo.mp3", "UnsupportedInput"),
    bad("gif_animation", ff(".gif", source="none"), "uploads/reaction.gif", "UnsupportedInput"),
    bad(
        "video_only_mp4",
        ff(".mp4", "-c:v", "libx264", "-preset", "ultrafast", source="none"),
        "screen/recording.mp4",
        "NoAudioStream",
    ),
    bad(
        "video_only_mkv",
        ff(".mkv", "-c:v", "libx264", "-preset", "ultrafast", source="none"),
        "screen/recording.mkv",
        "NoAudioStream",
    ),
    bad(
        "wav_header_only",
        patched(WAV, "wav_header_only"),
        "uploads/header-only.wav",
        "DurationOutOfRange",
        notes="a WAV header with no sample after it: no audio",
    ),
    bad("wav_truncated_header", truncated(WAV, 20), "uploads/stub.wav", "CorruptMedia"),
    bad("wav_zero_channels", patched(WAV, "wav_channels_zero"), "uploads/zero-channels.wav", "CorruptMedia"),
    bad("wav_zero_rate", patched(WAV, "wav_rate_zero"), "uploads/zero-rate.wav", "CorruptMedia"),
    bad("flac_truncated_header", truncated(FLAC, 30), "uploads/stub.flac", "CorruptMedia"),
    bad(
        "flac_noise_body",
        patched(FLAC, "noise_after_4k"),
        "uploads/noise-body.flac",
        "CorruptMedia",
        notes="a valid header over frames of noise: rejected by the decoder, not retried",
    ),
    bad(
        "mp3_id3_then_noise",
        noise_bytes(8192, seed=3, prefix=b"ID3\x04\x00\x00\x00\x00\x00\x00"),
        "uploads/broken.mp3",
        "CorruptMedia",
    ),
    bad(
        "m4a_truncated_ftyp",
        truncated(ff(".m4a", "-c:a", "aac", "-movflags", "+faststart"), 64),
        "uploads/stub.m4a",
        "CorruptMedia",
    ),
    bad(
        "m4a_moov_missing",
        truncated(M4A, 0.6),
        "uploads/unfinished.m4a",
        "CorruptMedia",
        notes="a phone recording cut off before its moov atom (written last)",
    ),
    bad("ogg_truncated_header", truncated(OGG, 40), "uploads/stub.ogg", "CorruptMedia"),
    bad("mkv_truncated_header", truncated(MKV, 48), "uploads/stub.mkv", "CorruptMedia"),
    bad(
        "too_long_by_header",
        ff(".flac", source="silence", seconds=CAP_S + 10),
        "long/over-cap.flac",
        "DurationOutOfRange",
        notes=f"states {CAP_S + 10} s, the stack's cap is {CAP_S} s",
    ),
    bad(
        "too_long_mp3",
        ff(".mp3", "-c:a", "libmp3lame", "-b:a", "8k", "-ar", "8000", source="silence", seconds=CAP_S + 10),
        "long/over-cap.mp3",
        "DurationOutOfRange",
    ),
    bad(
        "too_long_measured",
        ff(
            ".webm",
            "-c:a",
            "libopus",
            "-b:a",
            "16k",
            "-f",
            "webm",
            source="speech",
            pipe=True,
            seconds=CAP_S + 6,
        ),
        "long/live-over-cap",
        "DurationOutOfRange",
        notes="no length header: planned at the cap, the job measures more and rejects it",
    ),
]

VOCABULARY_CASES: list[Case] = [
    speech("vocabulary_by_prefix", WAV, "vocab/good/call.wav", vocabulary="corpus-words"),
    bad("vocabulary_missing", WAV, "vocab/missing/call.wav", "VocabularyNotFound"),
    bad("vocabulary_empty", WAV, "vocab/empty/call.wav", "VocabularyEmpty"),
    bad("vocabulary_too_large", WAV, "vocab/huge/call.wav", "VocabularyTooLarge"),
    bad("vocabulary_bad_weight", WAV, "vocab/invalid/call.wav", "VocabularyInvalid"),
]

KEYS: list[Case] = [
    speech("unicode_key", WAV, "réunions/2026 — équipe ü/会议 记录.wav"),
    speech("key_with_spaces_and_plus", MP3, "calls/agent one + two (final) #3.mp3"),
    speech("key_with_percent", OGG, "calls/100% done?.ogg"),
    speech(
        "very_long_key",
        FLAC,
        "deep/" + "/".join(f"level-{i:02d}-of-a-long-folder-path" for i in range(31)) + "/clip.flac",
        notes="a key of ~980 bytes (S3 allows 1024)",
    ),
    speech(
        "duplicate_delivery",
        M4A,
        "dup/delivered-twice.m4a",
        redeliveries=2,
        notes="EventBridge delivers the same event three times: one execution",
    ),
]

OVERWRITES: list[Case] = [
    Case(
        "overwritten_first",
        ff(".wav", source="speech_b"),
        "overwrite/same-key.wav",
        SUPERSEDED,
        overwritten_by="overwritten_second",
        notes="uploaded first; the key is overwritten while it runs",
    ),
]
# Uploaded last of all (so after the first version, while that one is still queued).
LAST: list[Case] = [
    speech("overwritten_second", WAV, "overwrite/same-key.wav", notes="the newer upload owns the key"),
]

IGNORED_CASES: list[Case] = [
    Case("folder_marker", raw(b""), "inbox/", IGNORED, notes="console 'Create folder': no execution"),
    Case(
        "ignored_suffix",
        raw(b"d41d8cd98f00b204e9800998ecf8427e  clip.wav\n"),
        "inbox/clip.wav.MD5",
        IGNORED,
        notes=f"IgnoreKeySuffixes={IGNORE_KEY_SUFFIXES}: dropped by the starter",
    ),
]

CASES: list[Case] = [
    *OVERWRITES,
    *FORMATS,
    *CHANNELS_AND_TRACKS,
    *SILENCE,
    *BAD_INPUT,
    *VOCABULARY_CASES,
    *KEYS,
    *IGNORED_CASES,
    *LAST,
]
BY_NAME: dict[str, Case] = {c.name: c for c in CASES}
assert len(BY_NAME) == len(CASES), "case names must be unique"
