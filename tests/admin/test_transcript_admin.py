"""The transcript admin: search over title, source and text; filters; the owner shown; delete removes files."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import TranscriptFactory, UserFactory
from transcripts.models import SourceType, Transcript

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:transcripts_transcript_changelist"


@pytest.fixture
def admin_client(db) -> Client:
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def listed_titles(response) -> list[str]:
    return [t.title for t in response.context["cl"].result_list]


def test_search_finds_a_word_of_the_text(admin_client, alice):
    TranscriptFactory(owner=alice, title="Keynote", text="we choose to go to the moon in this decade")
    TranscriptFactory(owner=alice, title="Standup", text="yesterday I fixed the build")
    response = admin_client.get(reverse(CHANGELIST), {"q": "moon"})
    assert listed_titles(response) == ["Keynote"]


def test_search_finds_title_and_source(admin_client, alice):
    TranscriptFactory(owner=alice, title="Quarterly review", source="https://example.com/q3.mp4")
    TranscriptFactory(owner=alice, title="Other", source="https://example.com/other.mp4")
    assert listed_titles(admin_client.get(reverse(CHANGELIST), {"q": "quarterly"})) == ["Quarterly review"]
    assert listed_titles(admin_client.get(reverse(CHANGELIST), {"q": "q3.mp4"})) == ["Quarterly review"]


def test_the_list_shows_the_owner_and_filters_by_owner_source_and_language(admin_client, alice, bob):
    TranscriptFactory(owner=alice, title="Alice's", source_type=SourceType.YOUTUBE, language="en")
    TranscriptFactory(owner=bob, title="Bob's", source_type=SourceType.UPLOAD, language="de")
    response = admin_client.get(reverse(CHANGELIST))
    assert "alice" in response.content.decode()
    assert "bob" in response.content.decode()
    assert listed_titles(admin_client.get(reverse(CHANGELIST), {"owner__id__exact": bob.pk})) == ["Bob's"]
    assert listed_titles(admin_client.get(reverse(CHANGELIST), {"source_type__exact": "youtube"})) == ["Alice's"]
    assert listed_titles(admin_client.get(reverse(CHANGELIST), {"language__exact": "de"})) == ["Bob's"]


def write_files(transcript: Transcript) -> None:
    transcript.files_dir.mkdir(parents=True)
    (transcript.files_dir / "transcript.txt").write_text(transcript.text)


def test_deleting_a_transcript_in_the_admin_removes_its_files(admin_client, alice):
    transcript = TranscriptFactory(owner=alice)
    write_files(transcript)
    url = reverse("admin:transcripts_transcript_delete", args=[transcript.pk])
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Transcript.objects.filter(pk=transcript.pk).exists()
    assert not transcript.files_dir.exists()


def test_bulk_deleting_transcripts_in_the_admin_removes_their_files(admin_client, alice, bob):
    transcripts = [TranscriptFactory(owner=alice), TranscriptFactory(owner=bob)]
    for transcript in transcripts:
        write_files(transcript)
    response = admin_client.post(
        reverse(CHANGELIST),
        {"action": "delete_selected", "_selected_action": [t.pk for t in transcripts], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Transcript.objects.exists()
    assert not any(t.files_dir.exists() for t in transcripts)
