"""A REST client's whole flow: upload a file, start a transcription, follow the job, download the result."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.transcripts.conftest import media_dir, media_server  # noqa: F401
from transcripts.models import TranscriptionJob

pytestmark = pytest.mark.django_db(transaction=True)


def test_upload_transcribe_follow_and_download(alice_api, media_dir):  # noqa: F811
    video = SimpleUploadedFile("speech.mp4", (media_dir / "speech.mp4").read_bytes(), content_type="video/mp4")
    upload = alice_api.post("/api/upload", {"file": video}).json()
    assert upload["success"], upload

    response = alice_api.post("/api/transcriptions", {"source": upload["file_id"]}, content_type="application/json")
    assert response.status_code == 202
    job_id = response.json()["id"]

    deadline = time.monotonic() + 120
    while True:
        job = alice_api.get(f"/api/transcriptions/{job_id}").json()
        if job["status"] in {"done", "failed"} or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert job["status"] == "done", job
    assert job["percent"] == 100

    srt = alice_api.get(f"/api/transcripts/{job['transcript_id']}/download?format=srt")
    assert srt.status_code == 200 and srt.content.decode().startswith("1\n00:00:")
    assert "city council" in srt.content.decode().lower()


PRIVATE = "private, loopback or reserved"


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("ftp://example.com/a.mp4", "Only http"),
        ("http://127.0.0.1/a.mp4", PRIVATE),
        # Issue 16.10: accepted (202) on Python 3.11, whose tables call them public.
        ("http://[fec0::1]/talk.mp3", PRIVATE),
        ("http://192.0.0.8/talk.mp3", PRIVATE),
        ("http://[3fff::1]/talk.mp3", PRIVATE),
        ("http://[5f00::1]/talk.mp3", PRIVATE),
    ],
)
def test_a_bad_source_is_a_400_with_the_reason_and_starts_no_job(alice_api, source, error):
    response = alice_api.post("/api/transcriptions", {"source": source}, content_type="application/json")
    assert response.status_code == 400 and error in response.json()["detail"]
    assert not TranscriptionJob.objects.exists()
