"""Downloads: GET /api/transcripts/{id}/download?format=…, the library's download links and the admin action."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import TranscriptFactory, UserFactory

pytestmark = pytest.mark.django_db
# The formatter is written in parallel (transcripts/engine/formats.py); these tests switch on when it lands.
FORMATS = pytest.importorskip("transcripts.engine.formats").FORMATS

SEGMENTS = [
    {"start": 0.0, "end": 2.5, "text": "Hello there."},
    {"start": 3661.25, "end": 3663.0, "text": "An hour later."},
]


@pytest.fixture
def transcript(alice):
    return TranscriptFactory(
        owner=alice,
        title='My "talk": part/1',
        text="Hello there. An hour later.",
        segments=SEGMENTS,
        duration=3663.0,
    )


def test_txt_is_the_default_format(alice_api, transcript):
    response = alice_api.get(f"/api/transcripts/{transcript.pk}/download")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response["Content-Type"] == FORMATS["txt"]
    assert response["Content-Disposition"] == 'attachment; filename="my-talk-part1.txt"'
    assert "Hello there." in response.content.decode()


def test_srt_has_numbered_cues_with_comma_milliseconds(alice_api, transcript):
    response = alice_api.get(f"/api/transcripts/{transcript.pk}/download", {"format": "srt"})
    assert response.status_code == 200
    assert response["Content-Type"] == FORMATS["srt"]
    assert response["Content-Disposition"] == 'attachment; filename="my-talk-part1.srt"'
    content = response.content.decode()
    assert content.startswith("1\n00:00:00,000 --> 00:00:02,500\nHello there.\n")
    assert "2\n01:01:01,250 --> 01:01:03,000\nAn hour later." in content


def test_vtt_has_a_header_and_dot_milliseconds(alice_api, transcript):
    response = alice_api.get(f"/api/transcripts/{transcript.pk}/download", {"format": "vtt"})
    assert response["Content-Type"].startswith("text/vtt")
    assert response["Content-Disposition"] == 'attachment; filename="my-talk-part1.vtt"'
    content = response.content.decode()
    assert content.startswith("WEBVTT")
    assert "00:00:00.000 --> 00:00:02.500\nHello there." in content
    assert "01:01:01.250 --> 01:01:03.000\nAn hour later." in content


# Issue 16.7: WebVTT cue text is markup, so `&`, `<` and `>` must be escaped; they were written raw and players
# dropped the text. Both a line as Whisper heard it (with word times) and one the user edited.
def test_vtt_escapes_markup_in_a_whisper_line_and_in_an_edited_line(alice_client, alice):
    words = [{"start": 0.0, "end": 0.4, "word": " Q&A"}, {"start": 0.4, "end": 1.0, "word": " <b>bold</b>"}]
    transcript = TranscriptFactory(
        owner=alice,
        text="Q&A <b>bold</b> Second line.",
        segments=[
            {"start": 0.0, "end": 1.0, "text": " Q&A <b>bold</b>", "language": "en", "words": words},
            {"start": 2.0, "end": 3.0, "text": "Second line.", "language": "en"},
        ],
    )
    edit = json.dumps({"text": "1 < 2 && 3 > 2"})
    assert (
        alice_client.post(f"/library/{transcript.pk}/segments/1/", edit, content_type="application/json").status_code
        == 200
    )
    vtt = alice_client.get(f"/library/{transcript.pk}/download/vtt/").content.decode()
    cue_texts = [block.split("\n", 1)[1] for block in vtt.removeprefix("WEBVTT\n\n").strip().split("\n\n")]
    assert cue_texts == ["Q&amp;A &lt;b&gt;bold&lt;/b&gt;", "1 &lt; 2 &amp;&amp; 3 &gt; 2"]
    srt = alice_client.get(f"/library/{transcript.pk}/download/srt/").content.decode()
    assert "Q&A <b>bold</b>" in srt and "1 < 2 && 3 > 2" in srt  # SubRip has no escapes
    document = json.loads(alice_client.get(f"/library/{transcript.pk}/download/json/").content)
    assert [s["text"] for s in document["segments"]] == [" Q&A <b>bold</b>", "1 < 2 && 3 > 2"]


def test_json_carries_the_segments(alice_api, transcript):
    response = alice_api.get(f"/api/transcripts/{transcript.pk}/download", {"format": "json"})
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert [s["text"] for s in body["segments"]] == ["Hello there.", "An hour later."]


def test_an_unknown_format_is_refused(alice_api, transcript):
    response = alice_api.get(f"/api/transcripts/{transcript.pk}/download", {"format": "exe"})
    assert response.status_code == 422


def test_a_title_without_safe_characters_still_gets_a_name(alice_api, alice):
    transcript = TranscriptFactory(owner=alice, title="../../ «»")
    response = alice_api.get(f"/api/transcripts/{transcript.pk}/download")
    assert response["Content-Disposition"] == 'attachment; filename="transcript.txt"'


@pytest.mark.parametrize("fmt", ["txt", "srt", "vtt", "json"])
def test_the_library_download_links_serve_each_format(alice_client, transcript, fmt):
    response = alice_client.get(f"/library/{transcript.pk}/download/{fmt}/")
    assert response.status_code == 200
    assert response["Content-Type"] == FORMATS[fmt]
    assert response["Content-Disposition"] == f'attachment; filename="my-talk-part1.{fmt}"'


def test_the_library_refuses_an_unknown_format(alice_client, transcript):
    assert alice_client.get(f"/library/{transcript.pk}/download/exe/").status_code == 404


@pytest.fixture
def admin_client(db) -> Client:
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def run_download_action(admin_client: Client, ids: list[str]):
    return admin_client.post(
        reverse("admin:transcripts_transcript_changelist"),
        {"action": "download_transcripts", "_selected_action": ids},
    )


def test_the_admin_action_downloads_one_transcript_as_its_txt_file(admin_client, transcript):
    response = run_download_action(admin_client, [transcript.pk])
    assert response.status_code == 200
    assert response["Content-Type"] == FORMATS["txt"]
    assert response["Content-Disposition"] == 'attachment; filename="my-talk-part1.txt"'
    assert "Hello there." in response.content.decode()


def test_the_admin_action_zips_several_transcripts(admin_client, alice, bob):
    first = TranscriptFactory(
        owner=alice, title="Same title", text="first text", segments=[{"start": 0.0, "end": 1.0, "text": "first text"}]
    )
    second = TranscriptFactory(
        owner=bob, title="Same title", text="second text", segments=[{"start": 0.0, "end": 1.0, "text": "second text"}]
    )
    response = run_download_action(admin_client, [first.pk, second.pk])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="transcripts-')
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == ["same-title-2.txt", "same-title.txt"]
    contents = {archive.read(name).decode() for name in archive.namelist()}
    assert any("first text" in c for c in contents)
    assert any("second text" in c for c in contents)
