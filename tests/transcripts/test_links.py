"""Links: redirects and DNS cannot reach private addresses, limits hold without the server's help, playlists."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from tests.job_helpers import transcribe_now
from tests.transcripts.test_failures import assert_nothing_left_behind, leftover_job_dirs
from transcripts.engine import download
from transcripts.engine.download import DownloadConfig, DownloadError, download_audio, is_public
from transcripts.models import JobStatus

JFK_BYTES = (Path(__file__).resolve().parent.parent / "data" / "jfk.flac").stat().st_size


def test_a_redirect_to_a_private_address_is_refused_after_the_first_check(media_server, tmp_path, monkeypatch):
    # As if the link's host were public and answered with a redirect into the server's own network.
    monkeypatch.setattr(download, "check_url", lambda url, *, allow_private: None)
    with pytest.raises(DownloadError, match="private, loopback or reserved addresses are not allowed"):
        download_audio(f"{media_server}/redirect/jfk.flac", tmp_path, DownloadConfig(allow_private=False))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("media.")]


def test_a_redirect_is_followed_when_private_addresses_are_allowed(media_server, tmp_path):
    media = download_audio(f"{media_server}/redirect/jfk.flac", tmp_path, DownloadConfig(allow_private=True))
    assert media.path.parent == tmp_path and media.path.stat().st_size == JFK_BYTES


def test_the_address_guard_acts_only_in_its_own_thread():
    resolved_elsewhere: list[object] = []
    with download.public_addresses_only():
        with pytest.raises(OSError, match="private address"):
            socket.getaddrinfo("127.0.0.1", 80)
        other = threading.Thread(target=lambda: resolved_elsewhere.append(socket.getaddrinfo("127.0.0.1", 80)))
        other.start()
        other.join()
    assert resolved_elsewhere and resolved_elsewhere[0]
    assert socket.getaddrinfo("127.0.0.1", 80)  # and off again once the block ends


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("::ffff:127.0.0.1", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("224.0.0.1", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
    ],
)
def test_only_global_unicast_addresses_count_as_public(address, public):
    assert is_public(address) is public


def test_a_stream_of_unknown_size_is_stopped_at_the_limit(media_server, tmp_path):
    # No Content-Length: yt-dlp's own max_filesize check cannot apply, so the progress hook must stop it.
    limit = 100_000
    with pytest.raises(DownloadError, match="larger than the 98 KB download limit"):
        download_audio(f"{media_server}/stream/jfk.flac", tmp_path, DownloadConfig(allow_private=True, max_bytes=limit))
    written = sum(p.stat().st_size for p in tmp_path.iterdir())
    assert written < JFK_BYTES, "the download should stop near the limit, not run to the end"


@pytest.mark.django_db(transaction=True)
def test_a_stream_over_the_size_limit_fails_the_job(alice, media_server, allow_private_urls, settings, recorded_events):
    settings.DOWNLOAD_MAX_BYTES = 100_000
    before = leftover_job_dirs()
    job = transcribe_now(alice, f"{media_server}/stream/jfk.flac")
    assert job.status == JobStatus.FAILED and "larger than the 98 KB download limit" in job.error
    assert recorded_events[-1]["status"] == "failed"
    assert_nothing_left_behind(before)


@pytest.mark.django_db(transaction=True)
def test_a_link_over_the_duration_limit_fails_with_a_clear_error(alice, media_server, allow_private_urls, settings):
    # A plain file link has no duration in its metadata: the limit is applied once the file is probed.
    settings.DOWNLOAD_MAX_DURATION_SECONDS = 5
    before = leftover_job_dirs()
    job = transcribe_now(alice, f"{media_server}/jfk.flac")
    assert job.status == JobStatus.FAILED
    assert job.error == "The media is 11 s long; the limit is 5 s."
    assert_nothing_left_behind(before)


@pytest.mark.django_db(transaction=True)
def test_a_playlist_link_is_refused_with_a_clear_error(alice, media_server, allow_private_urls):
    before = leftover_job_dirs()
    job = transcribe_now(alice, f"{media_server}/playlist.html")
    assert job.status == JobStatus.FAILED
    assert "playlist" in job.error
    assert_nothing_left_behind(before)
