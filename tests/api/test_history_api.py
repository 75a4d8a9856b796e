"""Chat history and status endpoints (seed 5.1, 5.2): owner-scoped, 404 for anyone else's chat."""

from __future__ import annotations

import pytest

from chat.models import ChatSession, Message
from chat.services import save_message
from tests.factories import ChatSessionFactory, MessageFactory

pytestmark = pytest.mark.django_db


def test_history_lists_only_my_sessions_most_recent_first(alice_api, alice, bob):
    older = ChatSessionFactory(owner=alice, title="older")
    newer = ChatSessionFactory(owner=alice, title="newer")
    save_message(session=older, role="user", content="hi")  # bumps older's update time
    ChatSessionFactory(owner=bob, title="bob's")
    body = alice_api.get("/api/history").json()
    assert [s["title"] for s in body["sessions"]] == ["older", "newer"]
    assert body["total"] == 2 and body["sessions"][0]["message_count"] == 1
    assert {s["session_id"] for s in body["sessions"]} == {str(older.id), str(newer.id)}


def test_a_session_detail_has_its_messages_in_order(alice_api, alice):
    session = ChatSessionFactory(owner=alice)
    for role, content in [("agent", "Hello"), ("user", "transcribe this"), ("agent", "Done")]:
        MessageFactory(session=session, role=role, content=content)
    body = alice_api.get(f"/api/history/{session.id}").json()
    assert [(m["role"], m["content"]) for m in body["messages"]] == [
        ("agent", "Hello"),
        ("user", "transcribe this"),
        ("agent", "Done"),
    ]


def test_another_users_session_is_404_everywhere(alice_api, bob):
    session = ChatSessionFactory(owner=bob)
    MessageFactory(session=session, content="bob's secret")
    for method, url in [
        ("get", f"/api/history/{session.id}"),
        ("delete", f"/api/history/{session.id}"),
        ("get", f"/api/status/{session.id}"),
    ]:
        response = getattr(alice_api, method)(url)
        assert response.status_code == 404 and "secret" not in response.content.decode()
    assert ChatSession.objects.filter(id=session.id).exists()


def test_deleting_a_session_removes_its_messages(alice_api, alice):
    session = ChatSessionFactory(owner=alice)
    MessageFactory(session=session)
    assert alice_api.delete(f"/api/history/{session.id}").json() == {"success": True}
    assert not ChatSession.objects.filter(id=session.id).exists() and not Message.objects.exists()


def test_a_new_chat_is_created(alice_api, alice):
    response = alice_api.post("/api/history")
    assert response.status_code == 201
    assert ChatSession.objects.get(owner=alice).id.hex == response.json()["session_id"].replace("-", "")


def test_status_of_a_chat_without_an_agent(alice_api, alice, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    session = ChatSessionFactory(owner=alice)
    assert alice_api.get(f"/api/status/{session.id}").json() == {
        "status": "ready",
        "session_id": str(session.id),
        "message": None,
    }
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    assert alice_api.get(f"/api/status/{session.id}").json()["status"] == "error"


def test_anonymous_callers_get_401(client, alice):
    session = ChatSessionFactory(owner=alice)
    for url in ["/api/history", f"/api/history/{session.id}", f"/api/status/{session.id}"]:
        assert client.get(url).status_code == 401
