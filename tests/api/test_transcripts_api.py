"""GET/DELETE /api/transcripts[/{id}]: the caller's own transcripts only, seed 5.3 shapes."""

from __future__ import annotations

import pytest

from tests.factories import ChatSessionFactory, TranscriptFactory
from transcripts.models import Transcript

pytestmark = pytest.mark.django_db


def test_the_list_has_the_seed_shape_and_only_my_transcripts(alice_api, alice, bob):
    session = ChatSessionFactory(owner=alice)
    mine = TranscriptFactory(owner=alice, title="My talk: part 1", session=session)
    TranscriptFactory(owner=bob)
    response = alice_api.get("/api/transcripts")
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1
    (item,) = body["transcripts"]
    assert item["id"] == mine.pk
    assert item["filename"] == "my-talk-part-1.txt"
    assert item["original_source"] == mine.source
    assert item["source_type"] == "url"
    assert item["file_size"] == mine.size
    assert item["session_id"] == str(session.pk)
    assert "created_at" in item
    assert "text" not in item  # the list stays light


def test_the_list_searches_and_pages(alice_api, alice):
    for n in range(5):
        TranscriptFactory(owner=alice, title=f"moon {n}", text="to the moon")
    TranscriptFactory(owner=alice, title="other", text="nothing here")
    body = alice_api.get("/api/transcripts", {"q": "moon", "limit": 2, "offset": 1}).json()
    assert body["total"] == 5
    assert len(body["transcripts"]) == 2
    assert (body["limit"], body["offset"]) == (2, 1)
    assert all(t["title"].startswith("moon") for t in body["transcripts"])


def test_a_bad_limit_is_a_validation_error(alice_api):
    assert alice_api.get("/api/transcripts", {"limit": 0}).status_code == 422


def test_one_transcript_comes_with_text_and_segments(alice_api, alice):
    transcript = TranscriptFactory(owner=alice)
    body = alice_api.get(f"/api/transcripts/{transcript.pk}").json()
    assert body["text"] == transcript.text
    assert body["segments"] == [{"start": 0.0, "end": 11.0, "text": transcript.text, "language": "", "words": []}]


def test_a_missing_transcript_is_a_404(alice_api):
    assert alice_api.get("/api/transcripts/nope").status_code == 404


def test_another_users_transcript_is_a_404_everywhere(alice_api, bob):
    theirs = TranscriptFactory(owner=bob)
    assert alice_api.get(f"/api/transcripts/{theirs.pk}").status_code == 404
    assert alice_api.get(f"/api/transcripts/{theirs.pk}/download?format=txt").status_code == 404
    assert alice_api.delete(f"/api/transcripts/{theirs.pk}").status_code == 404
    assert Transcript.objects.filter(pk=theirs.pk).exists()


def test_deleting_removes_the_row_and_its_files(alice_api, alice):
    transcript = TranscriptFactory(owner=alice)
    transcript.files_dir.mkdir(parents=True)
    (transcript.files_dir / "transcript.txt").write_text("x")
    response = alice_api.delete(f"/api/transcripts/{transcript.pk}")
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert not Transcript.objects.filter(pk=transcript.pk).exists()
    assert not transcript.files_dir.exists()
    assert alice_api.delete(f"/api/transcripts/{transcript.pk}").status_code == 404
