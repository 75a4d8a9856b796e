"""Bad input: each gives a clear error and a failed job, and leaves nothing half-written behind."""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path

import pytest
from django.conf import settings

from tests.job_helpers import make_job, transcribe_now
from transcripts import recovery
from transcripts.errors import TranscriptionError
from transcripts.liveness import current_runner_id
from transcripts.models import JobStatus, Transcript, TranscriptionJob

pytestmark = pytest.mark.django_db(transaction=True)


def leftover_job_dirs() -> set[str]:
    """Job folders in the work directory and, as before jobs had one there, in the system's temporary directory."""
    folders = [*Path(settings.JOB_WORK_DIR).glob("job-*"), *Path(tempfile.gettempdir()).glob("job-*")]
    return {p.name for p in folders}


def assert_nothing_left_behind(before: set[str]) -> None:
    assert not Transcript.objects.exists()
    assert leftover_job_dirs() <= before


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("silent.mp4", "No speech was found"),
        ("no-audio.mp4", "no audio stream"),
        ("random.mp4", "not a readable audio or video file"),
        ("empty.mp4", "empty"),
    ],
)
def test_unusable_uploads_fail_with_a_clear_error(alice, make_upload, recorded_events, name, error):
    before = leftover_job_dirs()
    job = transcribe_now(alice, str(make_upload(alice, name).id))
    assert job.status == JobStatus.FAILED
    assert error in job.error
    assert recorded_events[-1]["status"] == "failed" and error in recorded_events[-1]["message"]
    assert_nothing_left_behind(before)


@pytest.mark.parametrize(
    ("path", "error"),
    [("/missing.mp4", "HTTP Error 404"), ("/random.mp4", "not a readable audio or video file")],
)
def test_bad_links_fail_with_a_clear_error(alice, media_server, allow_private_urls, path, error):
    before = leftover_job_dirs()
    job = transcribe_now(alice, media_server + path)
    assert job.status == JobStatus.FAILED and error in job.error
    assert_nothing_left_behind(before)


def test_an_unreachable_host_fails_with_a_clear_error(alice, allow_private_urls, settings):
    settings.DOWNLOAD_SOCKET_TIMEOUT_SECONDS = 3
    job = transcribe_now(alice, "http://127.0.0.1:9/video.mp4")
    assert job.status == JobStatus.FAILED
    assert "Connection refused" in job.error


def test_a_download_over_the_size_limit_fails_with_a_clear_error(alice, media_server, allow_private_urls, settings):
    settings.DOWNLOAD_MAX_BYTES = 100_000
    before = leftover_job_dirs()
    job = transcribe_now(alice, f"{media_server}/jfk.flac")
    assert job.status == JobStatus.FAILED and "larger than the 98 KB download limit" in job.error
    assert_nothing_left_behind(before)


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("ftp://example.com/video.mp4", "Only http:// and https://"),
        ("file:///etc/passwd", "Only http:// and https://"),
        ("", "Give a link"),
        ("not a link at all", "Only http:// and https://"),
    ],
)
def test_unsupported_sources_are_refused_before_a_job_exists(alice, source, error):
    with pytest.raises(TranscriptionError, match=error):
        make_job(alice, source)
    assert not TranscriptionJob.objects.exists()


def test_a_killed_downloads_work_files_are_gone_after_a_restart(alice, settings, monkeypatch):
    from transcripts.sweep import sweeper
    from videoagent.startup import on_server_start

    gone = f"{socket.gethostname()}:999999:1"  # a process of this host that no longer runs
    # Out of attempts, so the start-up sweep ends it rather than running it again (tests/transcripts/test_sweep.py).
    killed = TranscriptionJob.objects.create(
        owner=alice,
        source="https://example.com/v",
        status=JobStatus.DOWNLOADING,
        runner=gone,
        attempts=settings.TRANSCRIPTION_MAX_ATTEMPTS,
    )
    running = TranscriptionJob.objects.create(
        owner=alice, source="https://example.com/w", status=JobStatus.DOWNLOADING, runner=current_runner_id()
    )
    for job in (killed, running):
        recovery.job_work_dir(job.id).mkdir(parents=True)
        (recovery.job_work_dir(job.id) / "media.webm.part").write_bytes(b"partial")
    stray = Path(settings.JOB_WORK_DIR) / "job-not-a-uuid"
    stray.mkdir()

    monkeypatch.delenv("VIDEOAGENT_SKIP_STARTUP")
    try:
        on_server_start()  # what Daphne does when it imports the ASGI application
    finally:
        sweeper.stop()  # the periodic sweep it started

    killed.refresh_from_db()
    assert killed.status == JobStatus.FAILED and "interrupted 3 times" in killed.error
    assert not recovery.job_work_dir(killed.id).exists() and not stray.exists()
    assert (recovery.job_work_dir(running.id) / "media.webm.part").exists()  # a live job keeps its files


def test_a_stopping_server_leaves_only_its_own_unfinished_jobs_for_the_next_start(alice):
    own = TranscriptionJob.objects.create(
        owner=alice, source="https://example.com/a", status=JobStatus.TRANSCRIBING, runner=current_runner_id()
    )
    other = TranscriptionJob.objects.create(
        owner=alice, source="https://example.com/b", status=JobStatus.TRANSCRIBING, runner="other-host:1:1"
    )
    assert recovery.suspend_own_jobs() == 1
    own.refresh_from_db()
    other.refresh_from_db()
    assert (own.status, own.stage, own.error) == (JobStatus.QUEUED, recovery.SUSPENDED_STAGE, "")
    assert own.runner == current_runner_id()  # dead once this process has exited: the next start resumes it
    assert other.status == JobStatus.TRANSCRIBING
