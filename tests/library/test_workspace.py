"""The transcript page as a workspace: the kept media with range requests, editing with undo, search snippets."""

from __future__ import annotations

import json

import pytest

from chat.tools import build_tools
from tests.factories import TranscriptFactory
from tests.job_helpers import transcribe_now
from transcripts.models import JobStatus, Transcript

WORDS = [
    {"start": 0.5, "end": 0.9, "word": "Ask"},
    {"start": 1.0, "end": 1.3, "word": "not"},
    {"start": 1.4, "end": 2.0, "word": "what"},
]
SEGMENTS = [
    {"start": 0.5, "end": 2.0, "text": "Ask not what", "language": "en", "words": WORDS},
    {"start": 83.4, "end": 86.0, "text": "your country can do for you.", "language": "en", "words": []},
]


def with_media(owner, tmp_path, settings, content: bytes = bytes(range(256)) * 4) -> Transcript:
    transcript = TranscriptFactory(owner=owner, segments=SEGMENTS, text="Ask not what your country can do for you.")
    path = transcript.files_dir / "media.flac"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    transcript.media_file = str(path.relative_to(settings.MEDIA_ROOT))
    transcript.media_size = len(content)
    transcript.save()
    return transcript


@pytest.mark.django_db
def test_the_media_is_served_to_its_owner_with_range_requests_for_seeking(alice_client, alice, tmp_path, settings):
    transcript = with_media(alice, tmp_path, settings)
    url = f"/library/{transcript.pk}/media/"

    whole = alice_client.get(url)
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes" and whole["Content-Type"] == "audio/flac"
    assert b"".join(whole.streaming_content) == bytes(range(256)) * 4

    part = alice_client.get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206 and part["Content-Range"] == "bytes 100-199/1024"
    assert b"".join(part.streaming_content) == bytes(range(100, 200))
    tail = alice_client.get(url, HTTP_RANGE="bytes=-24")
    assert tail["Content-Range"] == "bytes 1000-1023/1024" and b"".join(tail.streaming_content) == bytes(
        range(232, 256)
    )
    assert alice_client.get(url, HTTP_RANGE="bytes=5000-").status_code == 416

    page = alice_client.get(f"/library/{transcript.pk}/").content.decode()
    assert f'<audio id="player" controls preload="metadata" src="{url}">' in page
    assert '<span class="word" data-start="1.0" data-end="1.3">not</span>' in page
    assert "1.0\xa0KB of media" in page


@pytest.mark.django_db
def test_another_users_media_and_edits_are_404(bob_client, alice, tmp_path, settings):
    transcript = with_media(alice, tmp_path, settings)
    assert bob_client.get(f"/library/{transcript.pk}/media/").status_code == 404
    for url, body in (
        (f"/library/{transcript.pk}/segments/0/", {"text": "mine"}),
        (f"/library/{transcript.pk}/title/", {"title": "mine"}),
    ):
        assert bob_client.post(url, json.dumps(body), content_type="application/json").status_code == 404
    transcript.refresh_from_db()
    assert transcript.segments == SEGMENTS and transcript.title != "mine"


@pytest.mark.django_db
def test_a_transcript_without_kept_media_has_no_player(alice_client, alice):
    transcript = TranscriptFactory(owner=alice)
    assert alice_client.get(f"/library/{transcript.pk}/media/").status_code == 404
    assert 'id="player"' not in alice_client.get(f"/library/{transcript.pk}/").content.decode()


@pytest.mark.django_db(transaction=True)
async def test_an_edited_line_is_what_downloads_the_api_and_the_agent_read_and_undo_restores_whisper(alice, settings):
    from asgiref.sync import sync_to_async
    from django.test import Client

    transcript = await sync_to_async(TranscriptFactory)(
        owner=alice, segments=SEGMENTS, text="Ask not what your country can do for you."
    )
    client = Client()
    await sync_to_async(client.force_login)(alice)
    url = f"/library/{transcript.pk}/segments/1/"

    response = await sync_to_async(client.post)(
        url, json.dumps({"text": "  your  country can do for us. "}), content_type="application/json"
    )
    assert response.json() == {
        "text": "your country can do for us.",
        "edited": True,
        "original": "your country can do for you.",
    }
    await transcript.arefresh_from_db()
    assert transcript.text == "Ask not what your country can do for us." and transcript.edited_at is not None
    txt = await sync_to_async(client.get)(f"/library/{transcript.pk}/download/txt/")
    assert txt.content.decode().strip() == transcript.text
    srt = (await sync_to_async(client.get)(f"/library/{transcript.pk}/download/srt/")).content.decode()
    assert "for us." in srt and "for you." not in srt
    document = json.loads((await sync_to_async(client.get)(f"/library/{transcript.pk}/download/json/")).content)
    assert document["segments"][1]["edited"] is True and document["segments"][0]["edited"] is False
    tools = {t.name: t.handler for t in build_tools(owner=alice, session=None)}
    assert "for us." in (await tools["read_transcript"]({"id": transcript.pk}))["content"][0]["text"]

    # Editing the first line drops its word times (they no longer match); undo brings text and words back.
    await sync_to_async(client.post)(
        f"/library/{transcript.pk}/segments/0/", json.dumps({"text": "Ask now"}), content_type="application/json"
    )
    response = await sync_to_async(client.post)(
        f"/library/{transcript.pk}/segments/0/", json.dumps({"revert": True}), content_type="application/json"
    )
    assert response.json() == {"text": "Ask not what", "edited": False, "original": ""}
    await transcript.arefresh_from_db()
    assert transcript.segments[0] == SEGMENTS[0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "body", "error"),
    [
        ("segments/0/", {"text": "   "}, "cannot be empty"),
        ("segments/7/", {"text": "x"}, "has no segment 7"),
        ("title/", {"title": " "}, "A title cannot be empty."),
        ("title/", {"title": "x" * 301}, "at most 300 characters"),
    ],
)
def test_bad_edits_are_refused_with_a_reason(alice_client, alice, url, body, error):
    transcript = TranscriptFactory(owner=alice, segments=SEGMENTS)
    response = alice_client.post(f"/library/{transcript.pk}/{url}", json.dumps(body), content_type="application/json")
    assert response.status_code == 400 and error in response.json()["detail"]


@pytest.mark.django_db
def test_rename_changes_the_title_and_the_download_name(alice_client, alice):
    transcript = TranscriptFactory(owner=alice)
    response = alice_client.post(
        f"/library/{transcript.pk}/title/", json.dumps({"title": " Keynote  2026 "}), content_type="application/json"
    )
    assert response.json() == {"title": "Keynote 2026"}
    download = alice_client.get(f"/library/{transcript.pk}/download/txt/")
    assert download["Content-Disposition"] == 'attachment; filename="keynote-2026.txt"'


@pytest.mark.django_db
def test_search_shows_snippets_with_the_hit_marked_linking_to_the_time(alice_client, alice, bob):
    mine = TranscriptFactory(
        owner=alice,
        title="Council",
        segments=[
            {"start": 1.0, "end": 5.0, "text": "Welcome to the news.", "language": "en"},
            {"start": 83.4, "end": 88.0, "text": "The <b>council</b> met on Monday.", "language": "en"},
        ],
        text="Welcome to the news. The <b>council</b> met on Monday.",
    )
    TranscriptFactory(owner=bob, title="Bob's council", text="the council of bob")

    content = alice_client.get("/library/", {"q": "council"}).content.decode()
    assert f'href="/library/{mine.pk}/?t=83.4"' in content
    assert "The &lt;b&gt;<mark>council</mark>&lt;/b&gt; met on Monday." in content
    assert "Bob&#x27;s council" not in content and "council of bob" not in content


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_links_downloaded_audio_is_kept_for_the_player_and_removed_with_the_transcript(alice, media_server, settings):
    settings.ALLOW_PRIVATE_URLS = True
    job = transcribe_now(alice, f"{media_server}/jfk.flac", model="tiny.en")
    assert job.status == JobStatus.DONE, job.error
    transcript = Transcript.objects.get(pk=job.transcript_id)
    assert transcript.media_path is not None and transcript.media_path.parent == transcript.files_dir
    assert transcript.media_size == transcript.media_path.stat().st_size > 100_000
    media = transcript.media_path
    transcript.delete()
    assert not media.exists()

    settings.KEEP_MEDIA = False
    job = transcribe_now(alice, f"{media_server}/jfk.flac", model="tiny.en", redo=True)
    assert Transcript.objects.get(pk=job.transcript_id).media_file == ""
