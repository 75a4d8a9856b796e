"""Transcription jobs over REST: GET /api/transcriptions[/{id}] (own jobs only); POST creates one and answers 202."""

from __future__ import annotations

import uuid

import pytest

from tests.factories import ChatSessionFactory, TranscriptFactory
from transcripts.models import JobStatus, SourceType, TranscriptionJob

pytestmark = pytest.mark.django_db


def make_job(owner, **fields) -> TranscriptionJob:
    defaults = {"source": "https://example.com/talk.mp4", "source_type": SourceType.URL}
    return TranscriptionJob.objects.create(owner=owner, **{**defaults, **fields})


def test_a_job_reports_status_stage_percent_error_and_transcript(alice_api, alice):
    transcript = TranscriptFactory(owner=alice)
    job = make_job(alice, status=JobStatus.DONE, stage="done", percent=100.0, transcript=transcript)
    response = alice_api.get(f"/api/transcriptions/{job.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(job.pk)
    assert (body["status"], body["stage"], body["percent"], body["error"]) == ("done", "done", 100.0, "")
    assert body["transcript_id"] == transcript.pk


def test_a_failed_job_carries_its_error(alice_api, alice):
    job = make_job(alice, status=JobStatus.FAILED, error="The file has no audio stream.")
    body = alice_api.get(f"/api/transcriptions/{job.pk}").json()
    assert body["status"] == "failed"
    assert body["error"] == "The file has no audio stream."
    assert body["transcript_id"] is None


def test_the_list_has_only_my_jobs_newest_first(alice_api, alice, bob):
    older = make_job(alice)
    newer = make_job(alice)
    make_job(bob)
    body = alice_api.get("/api/transcriptions").json()
    assert body["total"] == 2
    assert [j["id"] for j in body["jobs"]] == [str(newer.pk), str(older.pk)]


def test_another_users_job_is_a_404(alice_api, bob):
    job = make_job(bob)
    assert alice_api.get(f"/api/transcriptions/{job.pk}").status_code == 404


def test_a_missing_or_malformed_job_id_is_refused(alice_api):
    assert alice_api.get(f"/api/transcriptions/{uuid.uuid4()}").status_code == 404
    assert alice_api.get("/api/transcriptions/not-a-uuid").status_code == 422


def test_creating_a_job_in_another_users_chat_is_a_404(alice_api, bob):
    theirs = ChatSessionFactory(owner=bob)
    response = alice_api.post(
        "/api/transcriptions",
        {"source": "https://example.com/talk.mp4", "session_id": str(theirs.pk)},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert not TranscriptionJob.objects.exists()


def test_a_job_needs_a_source(alice_api):
    assert alice_api.post("/api/transcriptions", {}, content_type="application/json").status_code == 422
