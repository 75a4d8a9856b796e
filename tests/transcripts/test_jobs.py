"""The job service end to end: real files, the real model, yt-dlp against a local HTTP server."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.job_helpers import make_job, run_job, transcribe_now
from tests.media import SYNTHETIC_TEXT, word_error_rate
from transcripts import liveness
from transcripts.errors import TranscriptionError
from transcripts.models import JobStatus, SourceType, Transcript, TranscriptionJob
from transcripts.sweep import jobs_of_dead_runners

pytestmark = pytest.mark.django_db(transaction=True)


def parse_srt(content: str) -> list[tuple[int, str, str, str]]:
    cues = []
    for block in content.strip().split("\n\n"):
        number, times, text = block.split("\n", 2)
        start, end = times.split(" --> ")
        assert re.fullmatch(r"\d\d:\d\d:\d\d,\d\d\d", start) and re.fullmatch(r"\d\d:\d\d:\d\d,\d\d\d", end)
        cues.append((int(number), start, end, text))
    return cues


def parse_vtt(content: str) -> list[tuple[str, str, str]]:
    header, _, body = content.partition("\n\n")
    assert header == "WEBVTT"
    cues = []
    for block in body.strip().split("\n\n"):
        times, text = block.split("\n", 1)
        start, end = times.split(" --> ")
        assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d\d\d", start) and re.fullmatch(r"\d\d:\d\d:\d\d\.\d\d\d", end)
        cues.append((start, end, text))
    return cues


def test_synthetic_speech_in_an_mp4_upload_is_transcribed_into_every_format(alice, make_upload, recorded_events):
    upload = make_upload(alice, "speech.mp4")
    job = make_job(alice, str(upload.id))
    job = run_job(job)

    assert job.status == JobStatus.DONE, job.error
    transcript = Transcript.objects.get(pk=job.transcript_id)
    assert transcript.owner == alice and transcript.source_type == SourceType.UPLOAD
    assert word_error_rate(SYNTHETIC_TEXT, transcript.text) <= 0.15, transcript.text
    starts = [s["start"] for s in transcript.segments]
    assert starts == sorted(starts)
    assert all(0 <= s["start"] <= s["end"] <= transcript.duration + 0.01 for s in transcript.segments)

    files = {path.suffix: path.read_text() for path in transcript.files_dir.iterdir()}
    assert set(files) == {".txt", ".srt", ".vtt", ".json"}
    assert files[".txt"].strip() == transcript.text
    srt = parse_srt(files[".srt"])
    # Subtitles are cut from the words into numbered cues; together they hold the whole text, in order.
    assert [cue[0] for cue in srt] == list(range(1, len(srt) + 1))
    assert " ".join(cue[3].replace("\n", " ") for cue in srt) == transcript.text
    assert " ".join(cue[2].replace("\n", " ") for cue in parse_vtt(files[".vtt"])) == transcript.text
    document = json.loads(files[".json"])
    assert document["text"] == transcript.text
    assert [segment.pop("edited") for segment in document["segments"]] == [False] * len(transcript.segments)
    assert document["segments"] == transcript.segments
    assert job.transcribe_seconds and job.transcribe_seconds > 0


def test_progress_starts_at_zero_ends_done_and_never_goes_backwards(alice, make_upload, recorded_events):
    job = transcribe_now(alice, str(make_upload(alice, "speech.mp4").id))
    percents = [event["percent"] for event in recorded_events]
    assert recorded_events[0]["percent"] == 0
    assert recorded_events[-1]["status"] == "done"
    assert recorded_events[-1]["transcript_id"] == job.transcript_id
    assert recorded_events[-1]["percent"] == 100
    assert percents == sorted(percents)
    assert {"transcribing"} <= {event["status"] for event in recorded_events}
    assert all(event["groups"] == [f"job_{job.id}", f"jobs_user_{alice.id}"] for event in recorded_events)
    # On an 11-second clip too, the bar moves between 0 and 100 (finding the speech and its language first).
    assert any(0 < percent < 100 for percent in percents)


def test_a_link_is_downloaded_with_yt_dlp_and_transcribed(alice, media_server, allow_private_urls, recorded_events):
    from tests.factories import ChatSessionFactory

    session = ChatSessionFactory(owner=alice)
    url = f"{media_server}/jfk.flac"
    job = transcribe_now(alice, url, session_id=session.id)

    assert job.status == JobStatus.DONE, job.error
    transcript = Transcript.objects.get(pk=job.transcript_id)
    assert transcript.source == url and transcript.source_type == SourceType.URL and transcript.session == session
    assert "ask not what your country can do for you" in transcript.text.lower().replace(",", "")
    statuses = [event["status"] for event in recorded_events]
    assert statuses.index("downloading") < statuses.index("transcribing") < statuses.index("done")
    assert recorded_events[-1]["groups"] == [f"job_{job.id}", f"jobs_user_{alice.id}", f"jobs_chat_{session.id}"]
    assert job.download_seconds is not None


def test_the_same_link_again_returns_the_existing_transcript_unless_redo(alice, media_server, allow_private_urls):
    url = f"{media_server}/jfk.flac"
    first = transcribe_now(alice, url)
    again = make_job(alice, url)
    assert again.status == JobStatus.DONE and again.transcript_id == first.transcript_id
    redo = make_job(alice, url, redo=True)
    assert redo.status == JobStatus.QUEUED


def test_a_private_link_is_refused_when_not_allowed(alice, media_server, settings):
    settings.ALLOW_PRIVATE_URLS = False
    with pytest.raises(TranscriptionError, match="private, loopback or reserved"):
        make_job(alice, f"{media_server}/jfk.flac")
    assert not TranscriptionJob.objects.exists()


def test_another_users_upload_looks_like_a_missing_one(alice, bob, make_upload):
    upload = make_upload(bob, "speech.mp4")
    with pytest.raises(TranscriptionError, match="No upload with that id"):
        make_job(alice, str(upload.id))


def test_a_restart_resumes_the_jobs_whose_runner_died(alice, settings):
    left_running = TranscriptionJob.objects.create(
        owner=alice,
        source="https://example.com/a.mp4",
        source_type=SourceType.URL,
        status=JobStatus.TRANSCRIBING,
        runner=f"{liveness.socket.gethostname()}:999999999",
    )
    never_started = TranscriptionJob.objects.create(owner=alice, source="https://example.com/b.mp4", source_type="url")
    # Another host's process cannot be seen from here: its heartbeat tells whether it still works.
    live_elsewhere = TranscriptionJob.objects.create(
        owner=alice,
        source="https://example.com/c.mp4",
        source_type="url",
        status=JobStatus.DOWNLOADING,
        runner="another-host:1:5",
        heartbeat_at=timezone.now(),
    )
    silent_elsewhere = TranscriptionJob.objects.create(
        owner=alice,
        source="https://example.com/d.mp4",
        source_type="url",
        status=JobStatus.DOWNLOADING,
        runner="another-host:2:5",
        heartbeat_at=timezone.now() - timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT_SECONDS + 1),
    )
    # What the sweep at start runs again (tests/transcripts/test_sweep.py runs them): a live runner's job is not.
    resumed = {job.id for job in jobs_of_dead_runners()}
    assert resumed == {left_running.id, never_started.id, silent_elsewhere.id} and live_elsewhere.id not in resumed


def test_a_job_of_a_process_whose_pid_was_reused_is_resumed(alice):
    # After a restart the new server may get the old one's pid (pid 1 in a container): the start time differs.
    reused_pid = TranscriptionJob.objects.create(
        owner=alice,
        source="https://example.com/a.mp4",
        source_type=SourceType.URL,
        status=JobStatus.TRANSCRIBING,
        runner=f"{liveness.socket.gethostname()}:{liveness.os.getpid()}:1",
    )
    this_process = make_job(alice, "https://93.184.215.14/b.mp4")
    assert jobs_of_dead_runners() == [reused_pid]
    assert this_process.runner == liveness.current_runner_id()


def test_an_upload_can_be_named_with_the_upload_prefix(alice, make_upload):
    upload = make_upload(alice, "speech.mp4")
    job = make_job(alice, f"upload:{upload.id}")
    assert job.upload == upload and job.source_type == SourceType.UPLOAD and job.source == "speech.mp4"
