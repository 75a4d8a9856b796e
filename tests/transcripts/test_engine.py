"""The engine alone (no Django): real speech, probing, link checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import TEST_DATA
from tests.media import JFK_WORDS, word_error_rate
from transcripts.engine.download import DownloadError, check_url
from transcripts.engine.models import bundled_tiny_en, resolve_model
from transcripts.engine.probe import MediaError, probe_media
from transcripts.engine.whisper import EngineConfig, transcribe_file


def test_the_default_model_is_bundled_and_needs_no_download():
    assert (bundled_tiny_en() / "model.bin").is_file()
    assert resolve_model("tiny.en", Path("unused")) == str(bundled_tiny_en())


def test_jfk_is_transcribed_by_the_default_model_within_15_percent_wer(tmp_path):
    progress: list[float] = []
    result = transcribe_file(TEST_DATA / "jfk.flac", EngineConfig(cache_dir=tmp_path), on_progress=progress.append)
    assert word_error_rate(JFK_WORDS, result.text) <= 0.15, result.text
    assert result.language == "en"
    assert result.duration == pytest.approx(11.0, abs=0.1)
    assert progress and progress == sorted(progress) and progress[-1] <= 100


def test_probe_reads_duration_and_audio(media_dir):
    info = probe_media(media_dir / "speech.mp4")
    assert info.has_video and info.audio_codec == "aac" and info.duration > 5


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("no-audio.mp4", "no audio stream"),
        ("random.mp4", "not a readable audio or video file"),
        ("empty.mp4", "empty"),
        ("missing.mp4", "missing"),
    ],
)
def test_probe_refuses_unusable_files_with_a_clear_message(media_dir, name, message):
    with pytest.raises(MediaError, match=message):
        probe_media(media_dir / name)


@pytest.mark.parametrize("url", ["ftp://example.com/a.mp4", "file:///etc/passwd", "javascript:alert(1)", "//x/y"])
def test_only_http_links_are_accepted(url):
    with pytest.raises(DownloadError, match="Only http"):
        check_url(url, allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x.mp4",
        "http://localhost:8000/x.mp4",
        "http://10.1.2.3/x.mp4",
        "http://192.168.0.1/x.mp4",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x.mp4",
        "http://0.0.0.0/x.mp4",
    ],
)
def test_private_addresses_are_refused_unless_allowed(url):
    with pytest.raises(DownloadError, match="private, loopback or reserved"):
        check_url(url, allow_private=False)
    check_url(url, allow_private=True)
