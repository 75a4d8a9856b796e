"""The web page's own way to transcribe (no agent): the New transcription form, the jobs page, cancel, retry."""

from __future__ import annotations

import threading
import time

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.chat.conftest import ORIGIN, session_cookie
from tests.conftest import TEST_DATA
from tests.factories import TranscriptFactory
from transcripts import runner
from transcripts.jobs import JobRequest, cancel_job, create_job
from transcripts.models import JobStatus, SourceType, Transcript, TranscriptionJob
from transcripts.pipeline import execute_job
from transcripts.progress import ProgressReporter
from uploads.models import Upload
from videoagent.asgi import application

LINK = "http://127.0.0.1:9/talk.mp4"  # a private address: allowed in these tests, never fetched


@pytest.fixture
def submitted(monkeypatch, settings) -> list[TranscriptionJob]:
    """Jobs handed to the runner (recorded, not run: running them is tested elsewhere)."""
    settings.ALLOW_PRIVATE_URLS = True
    jobs: list[TranscriptionJob] = []

    def record(job_id):
        jobs.append(TranscriptionJob.objects.get(pk=job_id))
        return runner.JobHandle(job_id)

    monkeypatch.setattr(runner, "submit", record)
    return jobs


def make_job(owner, **fields) -> TranscriptionJob:
    return TranscriptionJob.objects.create(owner=owner, **{"source": LINK, "source_type": SourceType.URL, **fields})


@pytest.mark.django_db
def test_the_form_starts_one_job_per_link_and_file_and_names_each_refused_one(alice_client, alice, submitted):
    response = alice_client.post(
        "/jobs/",
        {
            "links": f"{LINK}\n\nnot a link",
            "files": [
                SimpleUploadedFile("jfk.flac", (TEST_DATA / "jfk.flac").read_bytes()),
                SimpleUploadedFile("notes.txt", b"hello"),
            ],
            "model": "base",
            "language": "de",
            "task": "translate",
        },
        follow=True,
    )
    assert response.redirect_chain == [("/jobs/", 302)]
    jobs = list(TranscriptionJob.objects.filter(owner=alice).order_by("created_at"))
    assert [job.source_type for job in jobs] == [SourceType.URL, SourceType.UPLOAD]
    assert all((job.model_name, job.language, job.task) == ("base", "de", "translate") for job in jobs)
    assert submitted == jobs
    content = response.content.decode()
    assert "Started 2 transcriptions." in content
    assert "not a link: " in content and "notes.txt: Invalid file type .txt" in content
    assert content.count('data-job-id="') == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"links": LINK, "model": "tiny.en", "language": "de"}, "understands only English, not German (de)"),
        ({"links": "", "model": "base"}, "Paste a link or choose a file."),
        ({"links": LINK, "model": "large-v9"}, "Select a valid choice."),
    ],
)
def test_choices_that_cannot_work_are_refused_with_the_reason_and_start_nothing(alice_client, submitted, fields, error):
    response = alice_client.post("/jobs/", {"language": "auto", "task": "transcribe", **fields})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not TranscriptionJob.objects.exists() and not submitted


@pytest.mark.django_db
def test_the_jobs_page_shows_my_jobs_with_state_queue_position_error_and_transcript(alice_client, alice, bob):
    transcript = TranscriptFactory(owner=alice)
    make_job(bob, source="bob-secret-talk")  # ahead of alice's queued job in the shared queue
    queued = make_job(alice)
    make_job(alice, status=JobStatus.FAILED, error="The link answered 404.")
    done = make_job(alice, status=JobStatus.DONE, percent=100, transcript=transcript)

    content = alice_client.get("/jobs/").content.decode()
    assert "bob-secret-talk" not in content
    assert f'data-job-id="{queued.id}"' in content and "#2 in the queue" in content
    assert "The link answered 404." in content
    assert f'href="/library/{transcript.pk}/"' in content and f'data-job-id="{done.id}"' in content
    assert 'id="new-transcription"' in alice_client.get("/library/").content.decode()  # the panel is there too


@pytest.mark.django_db
def test_cancel_and_retry_act_only_on_my_own_jobs(alice_client, alice, bob, submitted):
    theirs = make_job(bob)
    assert alice_client.post(f"/jobs/{theirs.id}/cancel/").status_code == 404
    assert alice_client.post(f"/jobs/{theirs.id}/retry/").status_code == 404
    theirs.refresh_from_db()
    assert not theirs.cancel_requested and TranscriptionJob.objects.count() == 1


@pytest.mark.django_db
def test_a_queued_job_is_cancelled_at_once_and_can_be_retried_with_the_same_choices(
    alice_client, alice, submitted, recorded_events
):
    job = make_job(alice, model_name="tiny.en", language="en")
    alice_client.post(f"/jobs/{job.id}/cancel/")
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.cancel_requested
    assert recorded_events[-1]["status"] == "cancelled"

    alice_client.post(f"/jobs/{job.id}/retry/")
    again = TranscriptionJob.objects.exclude(pk=job.pk).get()
    assert (again.source, again.model_name, again.language, again.status) == (LINK, "tiny.en", "en", "queued")
    assert submitted == [again]
    response = alice_client.post(f"/jobs/{again.id}/retry/", follow=True)
    assert "Only a failed or cancelled transcription can be tried again." in response.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_running_transcription_stops_soon_after_it_is_cancelled(alice, long_speech):
    with long_speech.open("rb") as handle:
        upload = Upload.objects.create(owner=alice, original_name="talk.mp4", file=File(handle, name="talk.mp4"))
    job = create_job(owner=alice, request=JobRequest(source=str(upload.id)))
    worker = threading.Thread(target=execute_job, args=(job.id,))
    worker.start()
    deadline = time.monotonic() + 60
    while TranscriptionJob.objects.get(pk=job.pk).status != JobStatus.TRANSCRIBING and time.monotonic() < deadline:
        time.sleep(0.1)
    cancel_job(owner=alice, job_id=job.id)
    cancelled_at = time.monotonic()
    worker.join(timeout=60)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.transcript_id is None and not Transcript.objects.exists()
    # It stops at the next step of the work (a language-detection batch or a group of chunks), not at the end.
    assert time.monotonic() - cancelled_at < 15
    assert job.percent < 100


@pytest.mark.django_db(transaction=True)
async def test_the_jobs_socket_sends_my_jobs_progress_and_nobody_elses(alice, bob):
    anonymous = WebsocketCommunicator(application, "/ws/jobs/", headers=[ORIGIN])
    await anonymous.connect()
    assert (await anonymous.receive_output(timeout=5))["code"] == 4401

    sockets = {}
    for user in (alice, bob):
        cookie = await database_sync_to_async(session_cookie)(user)
        sockets[user.username] = WebsocketCommunicator(application, "/ws/jobs/", headers=[ORIGIN, (b"cookie", cookie)])
        connected, _ = await sockets[user.username].connect()
        assert connected
    job = await database_sync_to_async(make_job)(alice)
    await database_sync_to_async(lambda: ProgressReporter(job).announce("Queued"))()

    event = await sockets["alice"].receive_json_from(timeout=5)
    assert (event["type"], event["job_id"], event["status"]) == ("job.progress", str(job.id), "queued")
    assert await sockets["bob"].receive_nothing(timeout=0.5)
    for socket in sockets.values():
        await socket.disconnect()
