"""The chat pages: the newest chat or a new one, the owner's chat only."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from chat.models import ChatSession
from tests.factories import ChatSessionFactory, MessageFactory, TranscriptFactory
from transcripts.models import JobStatus, TranscriptionJob

pytestmark = pytest.mark.django_db


def test_the_home_page_creates_a_first_chat(alice_client, alice):
    response = alice_client.get("/")
    session = ChatSession.objects.get(owner=alice)
    assert response.status_code == 302 and response["Location"] == f"/chat/{session.id}/"


def test_the_home_page_opens_the_most_recent_chat(alice_client, alice):
    ChatSessionFactory(owner=alice)
    latest = ChatSessionFactory(owner=alice)
    assert alice_client.get("/")["Location"] == f"/chat/{latest.id}/"


def test_a_chat_page_renders_for_its_owner(alice_client, alice):
    session = ChatSessionFactory(owner=alice, title="Transcribe my talk")
    response = alice_client.get(f"/chat/{session.id}/")
    assert response.status_code == 200
    assert f'data-session-id="{session.id}"' in response.content.decode()
    assert "Transcribe my talk" in response.content.decode()


def test_another_users_chat_is_404(alice_client, bob):
    session = ChatSessionFactory(owner=bob, title="bob's private chat")
    MessageFactory(session=session)
    response = alice_client.get(f"/chat/{session.id}/")
    assert response.status_code == 404 and "bob's private chat" not in response.content.decode()


def test_new_chat_needs_a_post_with_csrf(alice, alice_client):
    assert alice_client.get("/chat/new/").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post("/chat/new/").status_code == 403
    response = alice_client.post("/chat/new/")
    assert response.status_code == 302 and ChatSession.objects.filter(owner=alice).count() == 1


def test_chat_pages_need_a_login(client, alice):
    session = ChatSessionFactory(owner=alice)
    for url in ["/", f"/chat/{session.id}/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def saved_jobs(response) -> list[dict]:
    """The chat's jobs as the page hands them to chat.js (a json_script data block, never run as a script)."""
    match = re.search(r'<script id="chat-jobs" type="application/json">(.*?)</script>', response.content.decode(), re.S)
    assert match, "the chat page carries its jobs"
    return json.loads(match.group(1))


def make_job(owner, session, **fields) -> TranscriptionJob:
    return TranscriptionJob.objects.create(
        owner=owner, session=session, **{"source": "https://example.com/talk.mp4", "source_type": "url", **fields}
    )


def test_a_chat_page_carries_its_jobs_oldest_first_for_the_progress_rows(alice_client, alice):
    session = ChatSessionFactory(owner=alice)
    transcript = TranscriptFactory(owner=alice, session=session)
    done = make_job(alice, session, status=JobStatus.DONE, stage="Done", percent=100, transcript=transcript)
    failed = make_job(alice, session, status=JobStatus.FAILED, stage="Failed", percent=12.34, error="HTTP 404")
    running = make_job(alice, session, status=JobStatus.TRANSCRIBING, stage="Transcribing", percent=40)
    make_job(alice, ChatSessionFactory(owner=alice))  # another chat's job
    make_job(alice, None)  # started from the jobs page

    rows = saved_jobs(alice_client.get(f"/chat/{session.id}/"))
    assert [row["job_id"] for row in rows] == [str(done.id), str(failed.id), str(running.id)]
    assert rows[0] == {
        "type": "job.progress",
        "job_id": str(done.id),
        "status": "done",
        "stage": "Done",
        "percent": 100.0,
        "message": "Transcript ready",
        "transcript_id": transcript.pk,
        "warning": "",
        "jobs_ahead": None,
    }
    assert (rows[1]["status"], rows[1]["percent"], rows[1]["message"]) == ("failed", 12.3, "HTTP 404")
    assert (rows[2]["status"], rows[2]["transcript_id"]) == ("transcribing", None)


def test_a_job_source_cannot_break_out_of_the_json_block(alice_client, alice):
    session = ChatSessionFactory(owner=alice)
    make_job(alice, session, status=JobStatus.FAILED, stage="Failed", error="</script><script>alert(1)</script>")
    response = alice_client.get(f"/chat/{session.id}/")
    assert "<script>alert(1)" not in response.content.decode()
    assert saved_jobs(response)[0]["message"] == "</script><script>alert(1)</script>"


def test_a_new_chat_has_no_jobs(alice_client, alice):
    assert saved_jobs(alice_client.get(f"/chat/{ChatSessionFactory(owner=alice).id}/")) == []
