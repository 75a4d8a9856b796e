"""Off the event loop, and never more transcriptions at once than TRANSCRIPTION_CONCURRENCY."""

from __future__ import annotations

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command

from tests.job_helpers import make_job
from transcripts import pipeline, runner
from transcripts.errors import TranscriptionError
from transcripts.jobs import JobRequest, submit_job, transcribe
from transcripts.models import JobStatus, Transcript

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_event_loop_keeps_running_while_a_transcription_runs(alice, make_upload, recorded_events):
    upload = await sync_to_async(make_upload)(alice, "speech.mp4")
    gaps: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        last = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    started = time.monotonic()
    transcript = await transcribe(owner=alice, request=JobRequest(source=str(upload.id)))
    elapsed = time.monotonic() - started
    stop.set()
    await ticking

    assert transcript.text
    assert len(gaps) > 10
    # A blocked loop shows one gap as long as the whole transcription; a free one only scheduling noise (a few
    # hundred ms at worst on a loaded 2-core machine), far below it.
    assert max(gaps) < elapsed / 4, (max(gaps), elapsed)


async def test_a_failed_transcription_raises_a_readable_error(alice, make_upload, recorded_events):
    upload = await sync_to_async(make_upload)(alice, "no-audio.mp4")
    with pytest.raises(TranscriptionError, match="no audio stream"):
        await transcribe(owner=alice, request=JobRequest(source=str(upload.id)))


def test_with_a_limit_of_one_two_jobs_never_transcribe_at_once(
    alice, make_upload, recorded_events, settings, monkeypatch
):
    settings.TRANSCRIPTION_CONCURRENCY = 1
    intervals: list[tuple[float, float]] = []
    real_transcribe = pipeline.transcribe_media  # Whisper's step, in the Whisper process

    def timed_transcribe(*args, **kwargs):
        start = time.monotonic()
        try:
            return real_transcribe(*args, **kwargs)
        finally:
            intervals.append((start, time.monotonic()))

    monkeypatch.setattr(pipeline, "transcribe_media", timed_transcribe)
    jobs = [make_job(alice, str(make_upload(alice, "speech.mp4").id)) for _ in range(2)]
    handles = [runner.submit(job.id) for job in jobs]
    results = [handle.wait(timeout=120) for handle in handles]

    assert [job.status for job in results] == [JobStatus.DONE, JobStatus.DONE]
    (_, first_end), (second_start, _) = sorted(intervals)
    assert first_end <= second_start
    waiting = [e for e in recorded_events if e["stage"] == "Waiting for a free transcription slot"]
    assert waiting, "the second job should report that it is queued"


def test_submit_job_runs_in_the_background(alice, make_upload, recorded_events):
    job = make_job(alice, str(make_upload(alice, "speech.mp4").id))
    submit_job(job)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if not job.is_active:
            break
        time.sleep(0.2)
    assert job.status == JobStatus.DONE


def test_the_command_line_transcribes_a_file_into_srt(alice, tmp_path, capsys):
    output = tmp_path / "jfk.srt"
    from tests.conftest import TEST_DATA

    call_command("transcribe", str(TEST_DATA / "jfk.flac"), "--format", "srt", "--output", str(output))
    content = output.read_text()
    assert content.startswith("1\n00:00:00,000 --> ")
    assert "ask not what your country" in content.lower()
    assert not Transcript.objects.exists()  # no user given: nothing kept


def test_the_command_line_stores_the_transcript_for_a_user(alice, capsys):
    from tests.conftest import TEST_DATA

    call_command("transcribe", str(TEST_DATA / "jfk.flac"), "--user", "alice")
    assert "fellow Americans" in capsys.readouterr().out
    assert Transcript.objects.get(owner=alice).source == "jfk.flac"
