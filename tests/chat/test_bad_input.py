"""Messages the chat websocket cannot read get an error event on a socket that stays open: a message nested
100,000 deep used to close it with 1011, a lone surrogate ("\\ud800") was silently dropped, and a NUL failed on
PostgreSQL."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from chat.decoding import INVALID_CHARACTERS, MAX_DEPTH, TOO_DEEP, BadMessage, decode_message
from chat.models import Message
from tests.chat.conftest import communicator_for, receive_until
from tests.factories import ChatSessionFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("registry", "no_model_service")]


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ("[" * 100_000 + "]" * 100_000, TOO_DEEP),
        ('{"type": "message", "text": "hi", "x": ' + "[" * 40 + "]" * 40 + "}", TOO_DEEP),
        ('{"type": "message", "text": "\\ud800"}', INVALID_CHARACTERS),
        ('{"type": "message", "text": "ok", "\\udc00": 1}', INVALID_CHARACTERS),
        # Saved on SQLite, a DataError on PostgreSQL (issue 16.1): refused on both.
        ('{"type": "message", "text": "a\\u0000b"}', "The message cannot contain a NUL character."),
    ],
)
async def test_an_unreadable_message_gets_an_error_and_the_socket_stays_usable(alice, payload, error):
    session = await database_sync_to_async(ChatSessionFactory)(owner=alice)
    communicator = await communicator_for(session.id, alice)
    connected, _ = await communicator.connect()
    assert connected
    await receive_until(communicator, lambda e: e["type"] == "status")
    await communicator.send_to(text_data=payload)
    assert await communicator.receive_json_from() == {"type": "error", "message": error}
    assert not await Message.objects.filter(session=session).aexists()
    await communicator.send_json_to({"type": "message", "text": "still there?"})
    events = await receive_until(communicator, lambda e: e["type"] == "error")
    assert any(e["type"] == "message" and e["content"] == "still there?" for e in events)
    await communicator.disconnect()


def test_json_as_deep_as_the_limit_and_escaped_surrogate_pairs_are_read():
    nested = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert decode_message(nested) is not None
    with pytest.raises(BadMessage, match="nested too deeply"):
        decode_message("[" + nested + "]")
    assert decode_message('{"text": "\\ud83d\\ude00"}') == {"text": "😀"}
