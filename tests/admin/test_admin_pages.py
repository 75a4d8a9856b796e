"""Every admin page renders for a superuser: changelist, add (where adding is allowed) and change."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from accounts.models import ApiToken
from chat.models import Message
from tests.factories import ChatSessionFactory, MessageFactory, TranscriptFactory, UserFactory
from transcripts.models import SourceType, TranscriptionJob
from uploads.models import Upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(alice) -> Client:
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def one_of_each(alice) -> list[object]:
    """One row of every registered model, so every change page has something to show."""
    session = ChatSessionFactory(owner=alice, title="A chat")
    transcript = TranscriptFactory(owner=alice, session=session)
    upload = Upload(owner=alice, original_name="talk.mp4", size=4)
    upload.file.save("talk.mp4", ContentFile(b"data"), save=True)
    return [
        alice,
        Group.objects.create(name="editors"),
        ApiToken.issue(owner=alice, name="script")[0],
        session,
        MessageFactory(session=session, role=Message.Role.USER),
        transcript,
        TranscriptionJob.objects.create(
            owner=alice, source="https://example.com/a.mp4", source_type=SourceType.URL, transcript=transcript
        ),
        upload,
        # django-axes' login throttling records, read-only: an administrator unlocks by deleting an attempt.
        AccessAttempt.objects.create(
            username="alice", ip_address="192.0.2.1", user_agent="test", failures_since_start=5, path_info="/login/"
        ),
        AccessLog.objects.create(username="alice", ip_address="192.0.2.1", user_agent="test", path_info="/login/"),
        AccessFailureLog.objects.create(username="alice", ip_address="192.0.2.1", user_agent="test"),
    ]


def admin_url(model: type, action: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


def test_every_registered_model_is_covered(one_of_each):
    covered = {type(obj) for obj in one_of_each}
    assert set(admin.site._registry) <= covered


def test_the_admin_index_renders(admin_client):
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    for name in [b"Transcripts", b"Transcription jobs", b"Uploads", b"Api tokens", b"Chat sessions"]:
        assert name in response.content


def test_every_changelist_renders(admin_client, one_of_each):
    for model in admin.site._registry:
        response = admin_client.get(admin_url(model, "changelist"))
        assert response.status_code == 200, model


def test_every_change_page_renders(admin_client, one_of_each):
    for obj in one_of_each:
        response = admin_client.get(admin_url(type(obj), "change", obj.pk))
        assert response.status_code == 200, type(obj)


def test_add_pages_render_where_adding_is_allowed(admin_client, one_of_each):
    # Tokens, jobs and uploads come from their own services (a token's secret is shown once, on its owner's page);
    # login attempts and logs are written by django-axes only.
    no_add = {ApiToken, TranscriptionJob, Upload, AccessAttempt, AccessLog, AccessFailureLog}
    for model in admin.site._registry:
        response = admin_client.get(admin_url(model, "add"))
        assert response.status_code == (403 if model in no_add else 200), model


def test_the_token_admin_never_shows_the_hash(admin_client, alice):
    token, secret = ApiToken.issue(owner=alice, name="script")
    content = admin_client.get(admin_url(ApiToken, "change", token.pk)).content.decode()
    assert token.prefix in content
    assert token.hashed_secret not in content
    assert secret not in content
    assert 'name="hashed_secret"' not in content


def test_the_token_admin_revokes_selected_tokens(admin_client, alice):
    token, _ = ApiToken.issue(owner=alice, name="script")
    response = admin_client.post(
        admin_url(ApiToken, "changelist"), {"action": "revoke_tokens", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.is_revoked


def test_the_chat_session_page_shows_its_messages_inline(admin_client, alice):
    session = ChatSessionFactory(owner=alice)
    MessageFactory(session=session, content="please transcribe the keynote")
    content = admin_client.get(admin_url(type(session), "change", session.pk)).content.decode()
    assert "please transcribe the keynote" in content
