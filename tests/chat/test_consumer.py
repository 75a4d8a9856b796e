"""The websocket without a model service: authentication, ownership, origin, input validation, persistence."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from chat.conversation import NO_MODEL_SERVICE
from chat.models import Message
from tests.chat.conftest import communicator_for, receive_until
from tests.factories import ChatSessionFactory, MessageFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("registry", "no_model_service")]


async def connect(session, user):
    communicator = await communicator_for(session.id, user)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def test_an_anonymous_websocket_is_refused_with_4401(alice):
    session = await database_sync_to_async(ChatSessionFactory)(owner=alice)
    communicator = await communicator_for(session.id, None)
    await communicator.connect()
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 4401}


async def test_another_users_session_is_refused_with_4404(alice, bob):
    session = await database_sync_to_async(ChatSessionFactory)(owner=bob)
    await database_sync_to_async(MessageFactory)(session=session, content="bob's secret")
    communicator = await communicator_for(session.id, alice)
    await communicator.connect()
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 4404}


async def test_an_unknown_session_is_refused_with_4404(alice):
    communicator = await communicator_for("8d3e1c1e-0000-4000-8000-000000000000", alice)
    await communicator.connect()
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 4404}


async def test_a_foreign_origin_is_refused(alice):
    session = await database_sync_to_async(ChatSessionFactory)(owner=alice)
    communicator = await communicator_for(session.id, alice, origin=b"http://evil.example.com")
    connected, _ = await communicator.connect()
    assert not connected


async def test_history_then_status_are_sent_on_connect(alice):
    session = await database_sync_to_async(ChatSessionFactory)(owner=alice)
    await database_sync_to_async(MessageFactory)(session=session, role="agent", content="Hello!")
    communicator = await connect(session, alice)
    history = await communicator.receive_json_from()
    assert history["type"] == "history"
    assert [m["content"] for m in history["messages"]] == ["Hello!"]
    status = await communicator.receive_json_from()
    assert status == {"type": "status", "status": "error", "message": NO_MODEL_SERVICE}
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ("{not json", "must be JSON"),
        ('{"type": "dance"}', "Unknown message type"),
        ('["message"]', "Unknown message type"),
        ('{"type": "message", "text": "   "}', "empty"),
        ('{"type": "message", "text": 42}', "empty"),
    ],
)
async def test_bad_input_gets_an_error_and_the_connection_stays_usable(alice, payload, error):
    session = await database_sync_to_async(ChatSessionFactory)(owner=alice)
    communicator = await connect(session, alice)
    await receive_until(communicator, lambda e: e["type"] == "status")
    await communicator.send_to(text_data=payload)
    event = await communicator.receive_json_from()
    assert event["type"] == "error" and error in event["message"]
    await communicator.send_json_to({"type": "message", "text": "still there?"})
    events = await receive_until(communicator, lambda e: e["type"] == "error")
    assert any(e["type"] == "message" and e["content"] == "still there?" for e in events)
    await communicator.disconnect()


async def test_an_oversize_message_is_refused_and_not_saved(alice, settings):
    settings.CHAT_MESSAGE_MAX_CHARS = 100
    session = await database_sync_to_async(ChatSessionFactory)(owner=alice)
    communicator = await connect(session, alice)
    await receive_until(communicator, lambda e: e["type"] == "status")
    await communicator.send_json_to({"type": "message", "text": "x" * 101})
    event = await communicator.receive_json_from()
    assert event == {"type": "error", "message": "The message is too long (limit 100 characters)."}
    assert not await Message.objects.filter(session=session).aexists()
    await communicator.disconnect()


async def test_without_a_model_service_the_message_is_kept_and_the_chat_says_why(alice):
    session = await database_sync_to_async(ChatSessionFactory)(owner=alice)
    communicator = await connect(session, alice)
    await receive_until(communicator, lambda e: e["type"] == "status")
    await communicator.send_json_to({"type": "message", "text": "transcribe https://youtu.be/x"})
    events = await receive_until(communicator, lambda e: e["type"] == "status")
    assert events[0]["type"] == "message" and events[0]["role"] == "user"
    assert {"type": "error", "message": NO_MODEL_SERVICE} in events
    assert {"type": "title", "title": "transcribe https://youtu.be/x"} in events
    saved = [m async for m in Message.objects.filter(session=session).values_list("role", "content")]
    assert saved == [("user", "transcribe https://youtu.be/x")]
    await session.arefresh_from_db()
    assert session.title == "transcribe https://youtu.be/x"
    await communicator.disconnect()


async def test_the_next_message_after_a_deactivation_closes_the_socket_with_4401_and_is_not_saved(alice):
    # At once, before the socket's login watch looks again (tests/test_websocket_hardening.py shows that one).
    session = await database_sync_to_async(ChatSessionFactory)(owner=alice)
    communicator = await connect(session, alice)
    await receive_until(communicator, lambda e: e["type"] == "status")
    await type(alice).objects.filter(pk=alice.pk).aupdate(is_active=False)
    await communicator.send_json_to({"type": "message", "text": "after"})
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}
    assert not await Message.objects.filter(session=session).aexists()
