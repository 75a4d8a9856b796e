"""Transcription jobs over REST: GET /api/transcriptions[/{id}] (own jobs only); POST creates one and answers 202."""

from __future__ import annotations

import uuid

import pytest

from tests.factories import ChatSessionFactory, TranscriptFactory
from transcripts.models import JobStatus, SourceType, TranscriptionJob
from transcripts.runner import JobHandle

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


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        ({"language": "xx"}, "Unknown language 'xx': use a two-letter code such as en, de, fr or es, or 'auto'"),
        ({"model": "tiny.en", "language": "de"}, "The tiny.en model understands only English, not German (de)."),
        ({"model": "tiny.en", "task": "translate"}, "The tiny.en model understands only English, so it cannot"),
        ({"model": "nope"}, "Unknown model 'nope': choose one of base, tiny.en."),
    ],
)
def test_a_language_task_or_model_that_cannot_be_done_is_a_400_with_a_readable_message(alice_api, choices, message):
    response = alice_api.post(
        "/api/transcriptions",
        {"source": "https://example.com/talk.mp4", **choices},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith(message)
    assert not TranscriptionJob.objects.exists()


def test_an_unknown_task_is_refused_by_the_schema(alice_api):
    response = alice_api.post(
        "/api/transcriptions",
        {"source": "https://example.com/talk.mp4", "task": "summarise"},
        content_type="application/json",
    )
    assert response.status_code == 422


LOCAL_LINK = "http://127.0.0.1:9/talk.mp4"  # no DNS needed; the job itself runs in other tests


def test_a_job_records_the_chosen_model_language_and_task(alice_api, monkeypatch, settings):
    settings.ALLOW_PRIVATE_URLS = True
    monkeypatch.setattr("transcripts.runner.submit", JobHandle)
    response = alice_api.post(
        "/api/transcriptions",
        {"source": LOCAL_LINK, "language": "DE", "task": "translate", "model": "base"},
        content_type="application/json",
    )
    assert response.status_code == 202
    body = response.json()
    assert (body["model_name"], body["language"], body["task"], body["warning"]) == ("base", "de", "translate", "")
    job = TranscriptionJob.objects.get(pk=body["id"])
    assert (job.model_name, job.language, job.task) == ("base", "de", "translate")


def test_auto_language_and_no_model_mean_detection_with_the_default_model(alice_api, monkeypatch, settings):
    settings.ALLOW_PRIVATE_URLS = True
    monkeypatch.setattr("transcripts.runner.submit", JobHandle)
    response = alice_api.post(
        "/api/transcriptions",
        {"source": LOCAL_LINK, "language": "auto"},
        content_type="application/json",
    )
    assert response.status_code == 202
    assert (response.json()["model_name"], response.json()["language"]) == ("base", "")


def test_the_options_list_the_configured_models_default_first_with_languages_and_tasks(alice_api, settings):
    settings.WHISPER_MODEL, settings.WHISPER_MODELS = "tiny.en", ["base", "tiny.en"]
    body = alice_api.get("/api/transcription-options").json()
    assert body["models"] == [
        {"name": "tiny.en", "multilingual": False, "default": True},
        {"name": "base", "multilingual": True, "default": False},
    ]
    assert body["languages"][0] == "auto" and {"en", "de", "fr"} <= set(body["languages"])
    assert body["tasks"] == ["transcribe", "translate"]
