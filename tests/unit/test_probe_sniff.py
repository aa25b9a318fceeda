"""Specification of content sniffing: the first bytes name the container family, not the file name."""

from __future__ import annotations

from pathlib import Path

import pytest
from probe_audio.sniff import sniff

from scripts.make_probe_fixtures import BY_NAME, make_all

# What every generated fixture must sniff as. MPEG-TS has no magic we know: it goes to FFmpeg.
EXPECTED_KIND = {
    "wav_pcm16": "wav",
    "wav_extensible": "wav",
    "wav_rf64": "rf64",
    "aiff": "aiff",
    "flac": "flac",
    "mp3_cbr": "mp3",
    "mp3_cbr_no_xing": "mp3",
    "mp3_vbr_xing": "mp3",
    "mp3_vbr_vbri": "mp3",
    "mp3_big_id3": "mp3",
    "mp3_vbr_no_header": "mp3",
    "aac_adts": "aac",
    "m4a_moov_end": "mp4",
    "m4a_moov_start": "mp4",
    "mp4_video": "mp4",
    "mov_video": "mp4",
    "video_only_mp4": "mp4",
    "ogg_vorbis": "ogg",
    "ogg_opus": "ogg",
    "webm_opus": "matroska",
    "mkv_video": "matroska",
    "video_only_mkv": "matroska",
    "mpegts_mp2": None,
    # Formats without a header parser go to FFmpeg (None); WAV-wrapped telephony codecs are "wav".
    "wma": None,
    "ac3": None,
    "avi_mp3": None,
    "amr_nb": None,
    "3gp_aac": "mp4",
    "caf_alac": None,
    "dat_mpeg_ps": None,
    "wav_mulaw": "wav",
    "wav_alaw": "wav",
    "wav_gsm": "wav",
    "wav_ima_adpcm": "wav",
    "au": None,
    "aiff_as_bin": "aiff",
    "webm_live": "matroska",
    "mkv_live_pcm": "matroska",
    "wav_streamed": "wav",
    "wav_streamed_zero": "wav",
    "mkv_default_second": "matroska",
    "mp4_default_second": "mp4",
    "mkv_no_default": "matroska",
}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_all(tmp_path_factory.mktemp("sniff_media"), 2.0, list(EXPECTED_KIND))


def test_every_fixture_recipe_has_an_expected_kind() -> None:
    # Given the fixture recipes / Then none is left out of the table below (a new recipe needs a row)
    assert set(EXPECTED_KIND) == set(BY_NAME)


@pytest.mark.parametrize(("name", "kind"), EXPECTED_KIND.items(), ids=list(EXPECTED_KIND))
def test_generated_file_is_sniffed_by_its_first_bytes(
    name: str, kind: str | None, media: dict[str, Path]
) -> None:
    # Given the first 64 bytes of a file ffmpeg wrote (the head probe() reads)
    head = media[name].read_bytes()[:64]
    # When sniffed / Then its family is named from the bytes alone
    assert sniff(head) == kind


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\xff\xf1\x50\x80", "aac"),  # ADTS, MPEG-4: sync with layer bits 00
        (b"\xff\xf9\x50\x80", "aac"),  # ADTS, MPEG-2
        (b"\xff\xfb\x90\x64", "mp3"),  # MPEG-1 Layer III frame sync
        (b"\xff\xf3\x90\x64", "mp3"),  # MPEG-2 Layer III: not mistaken for ADTS
        (b"ADIF\x00\x00", "aac"),
        (b"ID3\x04\x00", "mp3"),
        (b"BW64\xff\xff\xff\xffWAVE", "rf64"),
        (b"FORM\x00\x00\x10\x00AIFC", "aiff"),
        (b"\x00\x00\x00\x08wide\x00\x00\x10\x00mdat", "mp4"),
        (b"RIFF\x00\x00\x00\x00AVI ", None),  # RIFF, but not WAVE
    ],
    ids=[
        "adts-mpeg4",
        "adts-mpeg2",
        "mp3-mpeg1",
        "mp3-mpeg2",
        "adif",
        "id3",
        "bw64",
        "aifc",
        "mp4-wide-first",
        "riff-avi",
    ],
)
def test_magic_bytes_that_look_alike_are_told_apart(head: bytes, kind: str | None) -> None:
    # Given a head whose magic resembles another family's / When sniffed / Then the right one is named
    assert sniff(head) == kind


@pytest.mark.parametrize(
    "head", [b"", b"\xff", b"Meeting notes\n", b"\x00" * 64], ids=["empty", "one-sync-byte", "text", "zeros"]
)
def test_heads_that_match_nothing_are_left_to_ffmpeg(head: bytes) -> None:
    # Given bytes no family starts with / When sniffed / Then no kind (FFmpeg decides: NotMedia or not)
    assert sniff(head) is None
