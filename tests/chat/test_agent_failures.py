"""The model service failing, the CLI dying, and resuming a chat from the database — with the real CLI."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from pathlib import Path

import pytest
from channels.db import database_sync_to_async

from tests.chat.conftest import communicator_for, receive_until
from tests.factories import ChatSessionFactory, MessageFactory
from tests.fake_anthropic import error, hang, text

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(240)]


def answered(event: dict) -> bool:
    return (event["type"] == "message" and event["role"] == "agent") or event["type"] == "error"


async def open_existing_chat(alice):
    """A chat that already has its greeting, so connecting does not start the CLI."""
    session = await database_sync_to_async(ChatSessionFactory)(owner=alice)
    await database_sync_to_async(MessageFactory)(session=session, role="agent", content="Hello!")
    communicator = await communicator_for(session.id, alice)
    await communicator.connect()
    await receive_until(communicator, lambda e: e["type"] == "status")
    return session, communicator


async def ask(communicator, message: str, timeout: float = 90) -> dict:
    await communicator.send_json_to({"type": "message", "text": message})
    events = await receive_until(communicator, answered, timeout=timeout)
    return events[-1]


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (error(401, "invalid x-api-key"), "refused our credentials (401)"),
        (error(500, "internal server error"), "model service"),
    ],
)
async def test_a_failing_model_service_gives_a_readable_error_and_the_next_message_works(
    alice, fake_api, registry, failure, reason
):
    fake_api.add(failure, text("Working again."))
    _, communicator = await open_existing_chat(alice)
    event = await ask(communicator, "hello")
    assert event["type"] == "error" and reason in event["message"], event
    event = await ask(communicator, "hello again")
    assert event == {**event, "type": "message", "role": "agent", "content": "Working again."}
    await communicator.disconnect()


async def test_a_model_service_that_hangs_times_out_and_the_next_message_works(alice, fake_api, registry, settings):
    settings.RESPONSE_TIMEOUT_SECONDS = 3
    fake_api.add(hang(8), text("Working again."))
    _, communicator = await open_existing_chat(alice)
    event = await ask(communicator, "hello")
    assert event["type"] == "error" and "took too long" in event["message"]
    settings.RESPONSE_TIMEOUT_SECONDS = 60
    event = await ask(communicator, "hello again")
    assert event["type"] == "message" and event["content"] == "Working again."
    await communicator.disconnect()


def cli_pid(registry, session_id) -> int:
    actor = registry.get(str(session_id))
    # The SDK keeps the CLI process on its transport; reaching in is fine for a test that must kill it.
    return actor._client._transport._process.pid


async def test_a_cli_killed_mid_turn_gives_an_error_and_the_next_message_resumes_the_chat(alice, fake_api, registry):
    fake_api.add(text("First answer."), hang(20), text("Back again."))
    session, communicator = await open_existing_chat(alice)
    assert (await ask(communicator, "remember the word pineapple"))["content"] == "First answer."

    await communicator.send_json_to({"type": "message", "text": "this turn will die"})
    while len(fake_api.requests) < 2:
        await asyncio.sleep(0.1)
    os.kill(cli_pid(registry, session.id), signal.SIGKILL)
    event = (await receive_until(communicator, answered))[-1]
    assert event["type"] == "error" and "stopped unexpectedly" in event["message"]

    event = await ask(communicator, "are you back?")
    assert event["type"] == "message" and event["content"] == "Back again."
    resumed = str(fake_api.requests[-1]["messages"])
    assert "remember the word pineapple" in resumed and "First answer." in resumed
    await communicator.disconnect()


async def test_a_chat_resumes_from_the_database_after_the_cli_files_are_gone(alice, fake_api, registry, settings):
    fake_api.add(text("Noted: the code word is pineapple."), text("It was pineapple."))
    session, communicator = await open_existing_chat(alice)
    await ask(communicator, "the code word is pineapple")
    await communicator.disconnect()

    await registry.discard(str(session.id))
    shutil.rmtree(Path(settings.AGENT_HOME_DIR) / str(session.id))

    communicator = await communicator_for(session.id, alice)
    await communicator.connect()
    await receive_until(communicator, lambda e: e["type"] == "status")
    event = await ask(communicator, "what was the code word?")
    assert event["content"] == "It was pineapple."
    earlier = str(fake_api.requests[-1]["messages"])
    assert "the code word is pineapple" in earlier and "Noted: the code word is pineapple." in earlier
    await communicator.disconnect()


async def test_past_the_session_cap_the_user_is_told_to_try_again(alice, fake_api, registry, settings):
    settings.AGENT_MAX_SESSIONS = 1
    fake_api.default = text("OK.")
    _, first = await open_existing_chat(alice)
    assert (await ask(first, "hello"))["content"] == "OK."
    _, second = await open_existing_chat(alice)
    event = await ask(second, "hello")
    assert event["type"] == "error" and "busy" in event["message"] and "try again" in event["message"]
    await first.disconnect()
    await second.disconnect()
