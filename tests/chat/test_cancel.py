"""Cancel over the websocket interrupts the agent's turn (a fake client stands in for the CLI here)."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async

from tests.chat.conftest import communicator_for, receive_until
from tests.chat.fake_client import FakeClient
from tests.factories import ChatSessionFactory, MessageFactory

pytestmark = pytest.mark.django_db(transaction=True)


async def test_cancel_interrupts_the_turn_in_progress(alice, registry, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    clients: list[FakeClient] = []

    def factory(**kwargs):
        def make() -> FakeClient:
            clients.append(FakeClient(delay=1.5))
            return clients[-1]

        return make

    monkeypatch.setattr("chat.conversation.make_client_factory", factory)
    session = await database_sync_to_async(ChatSessionFactory)(owner=alice)
    await database_sync_to_async(MessageFactory)(session=session, role="agent", content="Hello!")
    communicator = await communicator_for(session.id, alice)
    await communicator.connect()
    await receive_until(communicator, lambda e: e["type"] == "status")

    await communicator.send_json_to({"type": "message", "text": "a long job"})
    await receive_until(communicator, lambda e: e["type"] == "status" and e["status"] == "processing")
    await communicator.send_json_to({"type": "cancel"})
    for _ in range(50):
        if clients and clients[0].interrupted:
            break
        await asyncio.sleep(0.05)
    assert clients[0].interrupted == 1
    await receive_until(communicator, lambda e: e["type"] == "status" and e["status"] == "ready")
    await communicator.disconnect()
