"""A chat deleted while a tab has it open (issue 16.6), in the moments a tab's own check cannot see: the chat goes
after the tab's message was taken, or while the agent answers. Every tab of the chat gets an error and a 4404, and
nothing more is saved. (A message sent after the delete is tested against a real Daphne in
tests/test_websocket_hardening.py.)"""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async

from accounts.owned import NotFound
from chat import conversation, services
from chat.models import ChatSession, Message
from tests.chat.conftest import communicator_for, receive_until
from tests.factories import ChatSessionFactory, MessageFactory

pytestmark = pytest.mark.django_db(transaction=True)

DELETED = {"type": "error", "message": services.CHAT_DELETED}


async def open_tab(session, user):
    communicator = await communicator_for(session.id, user)
    connected, _ = await communicator.connect()
    assert connected
    await receive_until(communicator, lambda e: e["type"] == "status")
    return communicator


async def closed_with(communicator) -> tuple[list[dict], int]:
    """The events before the socket's close, and its close code."""
    events = []
    while (output := await communicator.receive_output(timeout=10))["type"] == "websocket.send":
        events.append(json.loads(output["text"]))
    assert output["type"] == "websocket.close"
    return events, output["code"]


@pytest.mark.usefixtures("registry", "no_model_service")
async def test_a_message_taken_just_before_the_delete_is_not_saved_and_every_tab_is_closed(alice):
    session = await database_sync_to_async(ChatSessionFactory)(owner=alice)
    tabs = [await open_tab(session, alice) for _ in range(2)]
    await database_sync_to_async(services.delete_session)(owner=alice, session_id=session.id)
    await conversation.answer(session, alice, "sent as the chat went")  # the tab had checked before the delete
    for tab in tabs:
        events, code = await closed_with(tab)
        assert (events, code) == ([DELETED], 4404)
    assert not await Message.objects.aexists()
    assert not await ChatSession.objects.aexists()


async def test_an_answer_finished_after_the_delete_is_dropped_and_the_tab_closed(alice, fake_agent):
    session = await database_sync_to_async(ChatSessionFactory)(owner=alice)
    await database_sync_to_async(MessageFactory)(session=session, role="agent", content="Hello!")  # no greeting
    tab = await open_tab(session, alice)
    fake_agent.gate.clear()
    await tab.send_json_to({"type": "message", "text": "a long question"})
    await receive_until(tab, lambda e: e["type"] == "status" and e["status"] == "processing")
    await database_sync_to_async(services.delete_session)(owner=alice, session_id=session.id)
    fake_agent.gate.set()
    events, code = await closed_with(tab)
    assert (events, code) == ([DELETED], 4404)
    assert fake_agent.user_prompts() == ["a long question"]  # it was asked before the delete, and its answer lost
    assert not await Message.objects.aexists()


def test_saving_into_a_deleted_chat_is_refused(alice):
    session = ChatSessionFactory(owner=alice)
    services.delete_session(owner=alice, session_id=session.id)
    with pytest.raises(NotFound, match="deleted"):
        services.save_message(session=session, role=Message.Role.USER, content="too late")
    assert not Message.objects.exists() and not ChatSession.objects.exists()
