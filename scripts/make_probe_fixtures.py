"""Generate the audio/video files the probe is tested and benchmarked on, with the system ffmpeg.

Files are generated rather than committed so that the same recipe yields 20-second test fixtures
and 1-hour benchmark files. Each recipe is one ffmpeg command; the only hand-made file is the MP3
with a VBRI header, because no encoder on this machine writes one (Fraunhofer's did).

    python scripts/make_probe_fixtures.py OUT_DIR [--duration 20] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import random
import shutil
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_RATE = 44100


@dataclass(frozen=True)
class Recipe:
    name: str
    filename: str
    output_args: tuple[str, ...]
    video: bool = False
    audio: bool = True
    channels: int = 2
    notes: str = ""
    post: str = ""  # name of a post-processing step applied to ffmpeg's output
    estimated: bool = False  # no length in any header: every prober (ffprobe too) estimates
    extra_inputs: tuple[str, ...] = field(default=())
    pipe: bool = False  # written to a pipe (as live recorders do): the muxer cannot seek back to lengths
    maker: str = ""  # name of a hand-made maker used instead of the ffmpeg recipe
    upload_as: str = ""  # a key such an upload really arrives under: misleading, odd or no extension


RECIPES: tuple[Recipe, ...] = (
    Recipe("wav_pcm16", "pcm16.wav", ("-c:a", "pcm_s16le")),
    Recipe(
        "wav_extensible",
        "extensible.wav",
        ("-c:a", "pcm_s24le"),
        channels=2,
        notes="24-bit: ffmpeg writes WAVE_FORMAT_EXTENSIBLE",
    ),
    Recipe("wav_rf64", "rf64.wav", ("-c:a", "pcm_s16le", "-rf64", "always"), notes="RF64 with ds64 chunk"),
    Recipe("flac", "audio.flac", ("-c:a", "flac")),
    Recipe(
        "mp3_cbr",
        "cbr.mp3",
        ("-c:a", "libmp3lame", "-b:a", "128k"),
        notes="CBR with LAME Info header and ID3v2 in front",
    ),
    Recipe(
        "mp3_cbr_no_xing",
        "cbr_noxing.mp3",
        ("-c:a", "libmp3lame", "-b:a", "128k", "-write_xing", "0"),
        notes="CBR without Info header: duration estimated from bitrate",
    ),
    Recipe("mp3_vbr_xing", "vbr.mp3", ("-c:a", "libmp3lame", "-q:a", "4"), notes="VBR with Xing header"),
    Recipe(
        "mp3_vbr_vbri",
        "vbri.mp3",
        ("-c:a", "libmp3lame", "-q:a", "4", "-id3v2_version", "0"),
        post="xing_to_vbri",
        notes="VBR with a VBRI header in place of Xing",
    ),
    Recipe(
        "mp3_big_id3",
        "big_id3.mp3",
        ("-c:a", "libmp3lame", "-b:a", "128k"),
        post="big_id3",
        notes="256 KiB ID3v2 tag (cover art) in front of the audio",
    ),
    Recipe("m4a_moov_end", "moov_end.m4a", ("-c:a", "aac", "-b:a", "96k"), notes="ffmpeg default: moov last"),
    Recipe("m4a_moov_start", "moov_start.m4a", ("-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart")),
    Recipe("ogg_vorbis", "vorbis.ogg", ("-c:a", "libvorbis", "-q:a", "3")),
    Recipe("ogg_opus", "audio.opus", ("-c:a", "libopus", "-b:a", "48k")),
    Recipe("webm_opus", "audio.webm", ("-c:a", "libopus", "-b:a", "48k")),
    Recipe("mkv_video", "video.mkv", ("-c:v", "libx264", "-preset", "ultrafast", "-c:a", "flac"), video=True),
    Recipe(
        "aiff",
        "audio.aiff",
        (
            "-c:a",
            "pcm_s16be",
        ),
    ),
    Recipe(
        "mp4_video",
        "video.mp4",
        ("-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "96k"),
        video=True,
        notes="video with an audio track, moov last",
    ),
    Recipe(
        "mov_video",
        "video.mov",
        ("-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart"),
        video=True,
    ),
)

# Files whose length cannot be read from a header: neither ffprobe nor we can be exact without a full
# scan, so they are compared with the length of the same encode written with a header (`truth`).
ESTIMATE_RECIPES: tuple[Recipe, ...] = (
    Recipe(
        "mp3_vbr_no_header",
        "vbr_noheader.mp3",
        ("-c:a", "libmp3lame", "-q:a", "4", "-write_xing", "0"),
        estimated=True,
        notes="VBR without Xing/VBRI: length estimated from sampled frame sizes",
    ),
)
TRUTH = {"mp3_vbr_no_header": "mp3_vbr_xing"}

# Formats outside the list that FFmpeg plays and the probe must still time: raw AAC (no
# length header: estimated from frames, as ffprobe does) and MPEG-TS (FFmpeg reads the last
# timestamps near the end of the file, so it costs more than a header read).
ODD_RECIPES: tuple[Recipe, ...] = (
    Recipe("aac_adts", "adts.aac", ("-c:a", "aac", "-b:a", "96k"), estimated=True),
    Recipe("mpegts_mp2", "audio.ts", ("-c:a", "mp2", "-b:a", "192k")),
)

# Inputs that must be rejected; each names the typed error it must produce.
BAD_RECIPES: tuple[Recipe, ...] = (
    Recipe(
        "video_only_mp4",
        "video_only.mp4",
        ("-c:v", "libx264", "-preset", "ultrafast"),
        video=True,
        audio=False,
    ),
    Recipe(
        "video_only_mkv",
        "video_only.mkv",
        ("-c:v", "libx264", "-preset", "ultrafast"),
        video=True,
        audio=False,
    ),
)

# Real-world uploads whose key says little or the wrong thing: the content decides (issue 10).
CONTENT_RECIPES: tuple[Recipe, ...] = (
    Recipe("wma", "audio.wma", ("-c:a", "wmav2", "-b:a", "64k"), upload_as="meeting.mp3"),
    Recipe("ac3", "audio.ac3", ("-c:a", "ac3", "-b:a", "96k"), upload_as="track.dat"),
    Recipe("avi_mp3", "audio.avi", ("-c:a", "libmp3lame", "-b:a", "96k"), upload_as="clip"),
    Recipe("amr_nb", "audio.amr", (), channels=1, maker="amr_nb", upload_as="voicemail.wav"),
    Recipe(
        "3gp_aac",
        "audio.3gp",
        ("-c:a", "aac", "-b:a", "32k", "-ar", "16000"),
        channels=1,
        upload_as="VID_0001.mp4",
    ),
    Recipe("caf_alac", "audio.caf", ("-c:a", "alac"), upload_as="memo.m4a"),
    Recipe(
        "dat_mpeg_ps",
        "video.dat",
        ("-c:a", "mp2", "-b:a", "128k", "-f", "mpeg"),
        upload_as="AVSEQ01.DAT",
        notes="VCD-style MPEG program stream",
    ),
    Recipe(
        "wav_mulaw",
        "mulaw.wav",
        ("-c:a", "pcm_mulaw", "-ar", "8000"),
        channels=1,
        upload_as="call-0042",
        notes="G.711 u-law, as phone systems export",
    ),
    Recipe("wav_alaw", "alaw.wav", ("-c:a", "pcm_alaw", "-ar", "8000"), channels=1, upload_as="call.alaw"),
    Recipe("wav_gsm", "gsm.wav", ("-c:a", "libgsm_ms", "-ar", "8000"), channels=1, upload_as="call.gsm"),
    Recipe(
        "wav_ima_adpcm",
        "ima.wav",
        ("-c:a", "adpcm_ima_wav", "-ar", "8000"),
        channels=1,
        upload_as="REC001.ogg",
    ),
    Recipe(
        "au",
        "audio.au",
        (
            "-c:a",
            "pcm_s16be",
        ),
        upload_as="sound.snd.txt",
    ),
    Recipe(
        "aiff_as_bin",
        "export.aiff",
        (
            "-c:a",
            "pcm_s16be",
        ),
        upload_as="export.bin",
    ),
)

# Live recordings: written to a pipe, so no header holds a usable length (issue 10).
LIVE_RECIPES: tuple[Recipe, ...] = (
    Recipe(
        "webm_live",
        "live.webm",
        ("-c:a", "libopus", "-b:a", "48k", "-f", "webm"),
        pipe=True,
        estimated=True,
        notes="as browser MediaRecorder writes: no Duration, unknown-size clusters",
    ),
    Recipe(
        "mkv_live_pcm",
        "live_pcm.mkv",
        ("-c:a", "pcm_s16le", "-f", "matroska"),
        pipe=True,
        estimated=True,
        notes="no Duration; at 200 s it is over the probe's 32 MiB read budget",
    ),
    Recipe(
        "wav_streamed",
        "streamed.wav",
        ("-c:a", "pcm_s16le", "-f", "wav"),
        pipe=True,
        estimated=True,
        notes="RIFF and data sizes 0xFFFFFFFF (ffmpeg -f wav -)",
    ),
    Recipe(
        "wav_streamed_zero",
        "streamed_zero.wav",
        ("-c:a", "pcm_s16le", "-f", "wav"),
        pipe=True,
        estimated=True,
        post="zero_wav_sizes",
        notes="RIFF and data sizes 0, as some capture tools",
    ),
)

# Two audio tracks saying different words; the transcribed one is the default, else the first.
TRACK_RECIPES: tuple[Recipe, ...] = (
    Recipe("mkv_default_second", "default_second.mkv", (), maker="two_tracks"),
    Recipe("mp4_default_second", "default_second.mp4", (), maker="two_tracks"),
    Recipe("mkv_no_default", "no_default.mkv", (), maker="two_tracks"),
)
TRACK_TEXTS = ("one two three", "the quick brown fox jumps over the lazy dog, and then runs far away")

BY_NAME = {
    r.name: r
    for r in RECIPES
    + ESTIMATE_RECIPES
    + ODD_RECIPES
    + BAD_RECIPES
    + CONTENT_RECIPES
    + LIVE_RECIPES
    + TRACK_RECIPES
}


LOOP_S = 60.0


def source_wav(out_dir: Path, channels: int, duration_s: float) -> Path:
    """A tone with a little noise, generated once per channel count and looped for long files.

    Evaluating the expression per sample costs minutes for an hour of audio on a small machine;
    looping one minute of it is indistinguishable to a probe.
    """
    length = min(duration_s, LOOP_S)
    path = out_dir / f"_source_{channels}ch_{length:g}s.wav"
    if not path.exists():
        # A chirp-like tone with a little noise keeps VBR encoders honest.
        expr = "0.4*sin(2*PI*(300+200*sin(2*PI*0.1*t))*t)+0.02*(random(0)-0.5)"
        layout = {1: "mono", 2: "stereo", 6: "5.1"}[channels]
        subprocess.run(
            [
                "ffmpeg",
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                f"aevalsrc={expr}:s={SAMPLE_RATE}:c={layout}:d={length}",
                "-c:a",
                "pcm_f32le",
                str(path),
            ],
            check=True,
        )
    return path


def ffmpeg_command(recipe: Recipe, out: Path, duration_s: float) -> list[str]:
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"]
    # Through a pipe, the length is an input option: given as an output option, the Matroska muxer
    # would write it as the Duration element, which a live recorder cannot know.
    length = ["-t", f"{duration_s}"]
    if recipe.audio:
        source = source_wav(out.parent, recipe.channels, duration_s)
        cmd += ["-stream_loop", "-1", *(length if recipe.pipe else []), "-i", str(source)]
    if recipe.video:
        cmd += ["-f", "lavfi", "-i", f"testsrc2=size=160x120:rate=5:duration={duration_s}"]
    cmd += [*([] if recipe.pipe else length), *recipe.output_args]
    if recipe.audio:
        cmd += ["-ac", str(recipe.channels)]
    cmd += ["pipe:1" if recipe.pipe else str(out)]
    return cmd


def make(recipe: Recipe, out_dir: Path, duration_s: float) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / recipe.filename
    if recipe.maker == "amr_nb":
        make_amr_nb(out, duration_s)
    elif recipe.maker == "two_tracks":
        make_two_tracks(out, default_second=recipe.name.endswith("default_second"))
    elif recipe.pipe:
        with out.open("wb") as sink:
            subprocess.run(ffmpeg_command(recipe, out, duration_s), check=True, stdout=sink)
    else:
        subprocess.run(ffmpeg_command(recipe, out, duration_s), check=True)
    if recipe.post == "zero_wav_sizes":
        zero_wav_sizes(out)
    elif recipe.post == "xing_to_vbri":
        xing_to_vbri(out)
    elif recipe.post == "big_id3":
        add_big_id3(out)
    return out


def make_all(out_dir: Path, duration_s: float, names: list[str] | None = None) -> dict[str, Path]:
    chosen = [BY_NAME[n] for n in names] if names else list(RECIPES)
    return {r.name: make(r, out_dir, duration_s) for r in chosen}


def xing_to_vbri(path: Path) -> None:
    """Rewrite LAME's Xing frame (the first frame, which carries no audio) as a Fraunhofer VBRI frame.

    The VBRI header sits 32 bytes after the 4-byte frame header (MPEG-1) and carries the same totals
    as Xing: frame count and byte count. The seek table is left empty; probes only need the totals.
    """
    data = bytearray(path.read_bytes())
    start = 0
    if data[:3] == b"ID3":
        size = data[6:10]
        start = 10 + ((size[0] << 21) | (size[1] << 14) | (size[2] << 7) | size[3])
    xing_at = data.find(b"Xing", start, start + 64)
    if xing_at < 0:
        raise ValueError(f"{path}: no Xing header to convert")
    flags = struct.unpack(">I", data[xing_at + 4 : xing_at + 8])[0]
    if flags & 0x3 != 0x3:
        raise ValueError(f"{path}: Xing header lacks frame and byte counts")
    frames, nbytes = struct.unpack(">II", data[xing_at + 8 : xing_at + 16])
    frame_header = data[start : start + 4]
    # Xing side info is 32 bytes for MPEG-1 stereo, VBRI is always at +32 after the header: clear
    # from there up to where Xing's data ended, then write VBRI.
    vbri = b"VBRI" + struct.pack(">HHHIIHHHH", 1, 0, 75, nbytes, frames, 0, 1, 2, 1)
    region_end = xing_at + 120 + 36  # Xing (flags, frames, bytes, TOC, quality) + LAME tag
    data[start + 4 : region_end] = bytes(region_end - start - 4)
    data[start : start + 4] = frame_header
    data[start + 36 : start + 36 + len(vbri)] = vbri
    path.write_bytes(bytes(data))


def make_amr_nb(path: Path, duration_s: float) -> None:
    """An AMR-NB file by hand (no AMR encoder is built into this ffmpeg): the "#!AMR" magic, then
    20 ms frames of mode 7 (12.2 kbps: header byte 0x3C, 31 bytes). The storage format has no
    checksum, so seeded random payloads decode (to noise): enough to probe and decode."""
    rng = random.Random(10)
    frames = round(duration_s / 0.02)
    path.write_bytes(b"#!AMR\n" + b"".join(b"\x3c" + rng.randbytes(31) for _ in range(frames)))


def make_two_tracks(path: Path, default_second: bool) -> None:
    """Two espeak-ng audio tracks saying TRACK_TEXTS (different words, lengths and formats: track 0
    mono 16 kHz, track 1 stereo 22.05 kHz), the second marked default or neither marked."""
    speech = []
    for i, text in enumerate(TRACK_TEXTS):
        wav = path.with_name(f"_{path.stem}_track{i}.wav")
        subprocess.run(["espeak-ng", "-v", "en", "-w", str(wav), text], check=True)
        speech.append(wav)
    codec = ["-c:a", "flac"] if path.suffix == ".mkv" else ["-c:a", "aac", "-b:a", "64k"]
    flags = ["-disposition:a:0", "0", "-disposition:a:1", "default" if default_second else "0"]
    subprocess.run(
        [
            "ffmpeg",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(speech[0]),
            "-i",
            str(speech[1]),
            "-map",
            "0:a",
            "-map",
            "1:a",
            *codec,
            "-ar:a:0",
            "16000",
            "-ac:a:0",
            "1",
            "-ar:a:1",
            "22050",
            "-ac:a:1",
            "2",
            *flags,
            str(path),
        ],
        check=True,
    )


def zero_wav_sizes(path: Path) -> None:
    """Set the RIFF and data chunk sizes of a streamed WAV (0xFFFFFFFF) to 0, as some recorders do."""
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, 4, 0)
    struct.pack_into("<I", data, data.index(b"data", 12) + 4, 0)
    path.write_bytes(bytes(data))


def add_big_id3(path: Path) -> None:
    """Put a 256 KiB picture into the ID3v2 tag, as music files with cover art have."""
    from mutagen.id3 import APIC, ID3

    tags = ID3(path)
    picture = bytes((i * 7919) % 251 for i in range(256 * 1024))
    tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="cover", data=picture))
    tags.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--only", nargs="*", choices=sorted(BY_NAME))
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        raise SystemExit("ffmpeg not found on PATH")
    for name, path in make_all(args.out_dir, args.duration, args.only).items():
        print(f"{name}\t{path}\t{path.stat().st_size}")


if __name__ == "__main__":
    main()
