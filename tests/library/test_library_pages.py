"""The library pages: the user's transcripts, searchable; one transcript with timestamps; delete; isolation."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.urls import get_resolver

from tests.accounts.test_login_required import page_urls
from tests.factories import TranscriptFactory
from transcripts.models import Transcript
from transcripts.ranges import ranged_file_response

pytestmark = pytest.mark.django_db


def test_the_library_lists_my_transcripts_only(alice_client, alice, bob):
    TranscriptFactory(owner=alice, title="Alice keynote", language="en", duration=3725)
    TranscriptFactory(owner=bob, title="Bob standup")
    response = alice_client.get("/library/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Alice keynote" in content
    assert "1:02:05" in content  # duration
    assert "Bob standup" not in content


def test_the_search_box_filters_by_words_of_the_text(alice_client, alice):
    TranscriptFactory(owner=alice, title="Moon speech", text="we choose to go to the moon")
    TranscriptFactory(owner=alice, title="Build talk", text="the build is green")
    content = alice_client.get("/library/", {"q": "moon"}).content.decode()
    assert "Moon speech" in content
    assert "Build talk" not in content
    assert 'value="moon"' in content


def test_an_empty_library_says_so(alice_client):
    assert "Your library is empty" in alice_client.get("/library/").content.decode()


def test_the_detail_page_shows_text_with_timestamps_and_download_links(alice_client, alice):
    transcript = TranscriptFactory(
        owner=alice,
        title="Two parts",
        segments=[{"start": 0.0, "end": 4.0, "text": "First part."}, {"start": 65.5, "end": 70.0, "text": "Later."}],
    )
    response = alice_client.get(f"/library/{transcript.pk}/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Two parts" in content
    assert "1:05" in content and "Later." in content
    for fmt in ["txt", "srt", "vtt", "json"]:
        assert f"/library/{transcript.pk}/download/{fmt}/" in content
    assert f'action="/library/{transcript.pk}/delete/"' in content


def test_another_users_transcript_is_a_404_on_every_page(alice_client, bob):
    transcript = TranscriptFactory(owner=bob)
    assert alice_client.get(f"/library/{transcript.pk}/").status_code == 404
    assert alice_client.get(f"/library/{transcript.pk}/download/txt/").status_code == 404
    assert alice_client.post(f"/library/{transcript.pk}/delete/").status_code == 404
    assert Transcript.objects.filter(pk=transcript.pk).exists()


def test_deleting_from_the_library_removes_the_transcript_and_its_files(alice_client, alice):
    transcript = TranscriptFactory(owner=alice)
    transcript.files_dir.mkdir(parents=True)
    (transcript.files_dir / "transcript.txt").write_text("text")
    response = alice_client.post(f"/library/{transcript.pk}/delete/")
    assert response.status_code == 302
    assert response["Location"] == "/library/"
    assert not Transcript.objects.filter(pk=transcript.pk).exists()
    assert not transcript.files_dir.exists()


def test_deleting_needs_a_post_with_the_csrf_token(alice, alice_client):
    transcript = TranscriptFactory(owner=alice)
    assert alice_client.get(f"/library/{transcript.pk}/delete/").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post(f"/library/{transcript.pk}/delete/").status_code == 403
    assert Transcript.objects.filter(pk=transcript.pk).exists()


def test_a_transcript_in_several_languages_shows_them_its_warning_and_its_translation(alice_client, alice):
    original = TranscriptFactory(
        owner=alice,
        title="Lizenz",
        language="multiple",
        languages=["en", "de"],
        segments=[
            {"start": 0.0, "end": 2.0, "text": "Permission is hereby granted", "language": "en", "words": []},
            {"start": 31.0, "end": 33.0, "text": "Hiermit wird unentgeltlich", "language": "de", "words": []},
        ],
        warning="Speech in German (de) was heard <b>here</b>",
    )
    translation = TranscriptFactory(owner=alice, title="Licence (English)", task="translate", translation_of=original)

    content = alice_client.get(f"/library/{original.pk}/").content.decode()
    assert "several: en, de" in content and 'lang="de">Hiermit wird unentgeltlich</span>' in content
    assert "Speech in German (de) was heard &lt;b&gt;here&lt;/b&gt;" in content  # escaped, never markup
    content = alice_client.get(f"/library/{translation.pk}/").content.decode()
    assert f'into English, of <a href="/library/{original.pk}/">Lizenz</a>' in content
    assert "⚠ warning" in alice_client.get("/library/").content.decode()


# Issue 16.9: HEAD (uptime checks, some clients) was a 405 on the library, a transcript page, media and downloads.
def test_head_is_answered_like_get_on_the_library_a_transcript_and_its_downloads(alice_client, alice):
    page = f"/library/{TranscriptFactory(owner=alice).pk}/"
    for url in ["/library/", page, *(f"{page}download/{fmt}/" for fmt in ("txt", "srt", "vtt", "json"))]:
        get, head = alice_client.get(url), alice_client.head(url)
        assert (head.status_code, head.content) == (200, b""), url
        assert head["Content-Type"] == get["Content-Type"]
        assert head.get("Content-Disposition") == get.get("Content-Disposition")


def test_head_on_media_gives_its_length_and_ranges(alice_client, alice, settings):
    transcript = TranscriptFactory(owner=alice)
    path = transcript.files_dir / "media.flac"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(1024))
    transcript.media_file = str(path.relative_to(settings.MEDIA_ROOT))
    transcript.save()
    media = f"/library/{transcript.pk}/media/"
    whole = alice_client.head(media)
    assert (whole.status_code, whole["Content-Type"]) == (200, alice_client.get(media)["Content-Type"])
    assert (whole["Content-Length"], whole["Accept-Ranges"]) == ("1024", "bytes")
    ranged = alice_client.head(media, HTTP_RANGE="bytes=100-199")
    assert (ranged.status_code, ranged["Content-Range"], ranged["Content-Length"]) == (206, "bytes 100-199/1024", "100")


def test_head_on_media_reads_nothing_of_the_file(tmp_path):
    path = tmp_path / "talk.flac"
    path.write_bytes(bytes(1024))
    whole = ranged_file_response(RequestFactory().head("/"), path)
    assert (whole.status_code, whole["Content-Length"], whole.content) == (200, "1024", b"")
    part = ranged_file_response(RequestFactory().head("/", HTTP_RANGE="bytes=0-9"), path)
    assert (part.status_code, part["Content-Length"], b"".join(part.streaming_content)) == (206, "10", b"")


def test_every_page_answers_head_as_it_answers_get(alice_client, alice):
    for url in page_urls(get_resolver().url_patterns):
        assert alice_client.head(url).status_code == alice_client.get(url).status_code, url
