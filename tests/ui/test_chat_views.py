"""The chat pages: the newest chat or a new one, the owner's chat only."""

from __future__ import annotations

import pytest
from django.test import Client

from chat.models import ChatSession
from tests.factories import ChatSessionFactory, MessageFactory

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
