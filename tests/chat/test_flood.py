"""A flood of chat messages is bounded: per chat by QUEUE_MAX_SIZE, per user by CHAT_MESSAGES_PER_MINUTE; and
what is accepted reaches the agent in the order it was sent.

A refused message gets an error event in the tab that sent it and is neither saved nor sent to the model.
The agent is a fake client here (tests/chat/fake_client.py); the bounds are checked before the agent is reached.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid

import pytest
import redis
from channels.db import database_sync_to_async

from chat import conversation
from chat.limits import MessageRate
from chat.models import Message
from tests.chat.conftest import communicator_for, receive_until
from tests.factories import ChatSessionFactory, MessageFactory

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def redis_is_running() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


@pytest.fixture(params=["memory", "redis"])
def rate(request, monkeypatch) -> MessageRate:
    """The per-user window kept in this process's memory, then in Redis (as with REDIS_URL), for the same test."""
    if request.param == "redis":
        if not redis_is_running():
            if os.environ.get("VIDEOAGENT_REQUIRE_SERVICES") == "1":
                pytest.fail(f"Redis is not reachable at {REDIS_URL}")
            pytest.skip(f"Redis is not reachable at {REDIS_URL}")
        rate = MessageRate(redis_url=REDIS_URL, key_prefix=f"test-{uuid.uuid4().hex}")
    else:
        rate = MessageRate(redis_url="")
    monkeypatch.setattr("chat.limits.message_rate", rate)
    return rate


async def open_chat(user):
    """A chat that already has its greeting (so connecting starts no agent), and a tab on it."""
    session = await database_sync_to_async(ChatSessionFactory)(owner=user)
    await database_sync_to_async(MessageFactory)(session=session, role="agent", content="Hello!")
    communicator = await communicator_for(session.id, user)
    connected, _ = await communicator.connect()
    assert connected
    await receive_until(communicator, lambda e: e["type"] == "status")
    return session, communicator


def agent_answer(event: dict) -> bool:
    return event["type"] == "message" and event["role"] == "agent"


async def user_messages(session) -> list[str]:
    return [c async for c in Message.objects.filter(session=session, role="user").values_list("content", flat=True)]


@pytest.mark.django_db(transaction=True)
async def test_a_burst_of_50_messages_keeps_one_in_progress_and_queue_max_size_waiting(alice, fake_agent, settings):
    settings.QUEUE_MAX_SIZE = 10
    settings.CHAT_MESSAGES_PER_MINUTE = 0  # no rate limit: this test is about the queue alone
    accepted = settings.QUEUE_MAX_SIZE + 1  # the one the agent is answering, and the ones waiting for it
    fake_agent.gate.clear()  # the agent answers nothing until the whole burst is in
    session, communicator = await open_chat(alice)

    for number in range(50):
        await communicator.send_json_to({"type": "message", "text": f"message {number}"})
    events: list[dict] = []
    while sum(e["type"] == "error" for e in events) < 50 - accepted or len(await user_messages(session)) < accepted:
        events.append(await communicator.receive_json_from(timeout=10))

    errors = [e for e in events if e["type"] == "error"]
    assert len(errors) == 50 - accepted
    assert all(e["message"].startswith("Too many messages waiting") for e in errors), errors[0]
    expected = [f"message {number}" for number in range(accepted)]
    assert await user_messages(session) == expected
    assert fake_agent.user_prompts() == ["message 0"]  # the others wait for their turn

    fake_agent.gate.set()
    answers = [e for e in events if agent_answer(e)]
    while len(answers) < accepted:
        event = await communicator.receive_json_from(timeout=10)
        assert event["type"] != "error", event
        answers += [event] if agent_answer(event) else []
    assert [e["content"] for e in answers] == [f"echo: {text}" for text in expected]
    assert fake_agent.user_prompts() == expected
    assert await Message.objects.filter(session=session).acount() == 1 + 2 * accepted

    # Answered messages free their places: the chat takes messages again.
    await communicator.send_json_to({"type": "message", "text": "one more"})
    event = (await receive_until(communicator, lambda e: agent_answer(e) or e["type"] == "error", timeout=10))[-1]
    assert event["content"] == "echo: one more"
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_burst_reaches_the_agent_in_the_order_sent_even_when_channel_layer_sends_finish_out_of_order(
    alice, fake_agent, monkeypatch, settings
):
    settings.CHAT_MESSAGES_PER_MINUTE = 0
    broadcast = conversation.broadcast

    async def slow_for_the_first_message(session_id: object, event: dict) -> None:
        if event.get("content") == "first":
            await asyncio.sleep(0.3)  # as a send to Redis may be
        await broadcast(session_id, event)

    monkeypatch.setattr("chat.conversation.broadcast", slow_for_the_first_message)
    session, communicator = await open_chat(alice)
    texts = ["first", "second", "third"]
    for text in texts:
        await communicator.send_json_to({"type": "message", "text": text})
    answers: list[dict] = []
    while len(answers) < len(texts):
        answers += [(await receive_until(communicator, agent_answer, timeout=10))[-1]]

    assert fake_agent.user_prompts() == texts
    assert [e["content"] for e in answers] == [f"echo: {text}" for text in texts]
    assert await user_messages(session) == texts
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_the_fourth_message_within_a_minute_is_refused_in_any_of_the_users_chats_and_not_saved(
    alice, bob, fake_agent, rate, settings
):
    settings.CHAT_MESSAGES_PER_MINUTE = 3
    chat_a, tab_a = await open_chat(alice)
    chat_b, tab_b = await open_chat(alice)
    for tab, text in [(tab_a, "one"), (tab_b, "two"), (tab_a, "three")]:
        await tab.send_json_to({"type": "message", "text": text})
        assert (await receive_until(tab, agent_answer, timeout=10))[-1]["content"] == f"echo: {text}"

    await tab_b.send_json_to({"type": "message", "text": "four"})
    events = await receive_until(tab_b, lambda e: e["type"] == "error", timeout=10)
    refusal = events[-1]["message"]
    assert refusal.startswith("You are sending messages too fast (at most 3 a minute)."), refusal
    seconds = int(re.search(r"you can send again in (\d+) seconds", refusal).group(1))
    assert 1 <= seconds <= 60
    assert not any(e["type"] == "message" for e in events)
    assert await user_messages(chat_a) == ["one", "three"]
    assert await user_messages(chat_b) == ["two"]
    assert sorted(fake_agent.user_prompts()) == ["one", "three", "two"]  # two agents: one per chat

    # Bob has a minute of his own.
    _, bob_tab = await open_chat(bob)
    await bob_tab.send_json_to({"type": "message", "text": "bob's first"})
    assert (await receive_until(bob_tab, agent_answer, timeout=10))[-1]["content"] == "echo: bob's first"
    for communicator in (tab_a, tab_b, bob_tab):
        await communicator.disconnect()


async def test_the_window_slides_and_refused_messages_do_not_count(rate, settings):
    settings.CHAT_MESSAGES_PER_MINUTE = 2
    rate.window_seconds = 0.5
    assert await rate.acquire(1) is None
    assert await rate.acquire(1) is None
    wait = await rate.acquire(1)
    assert wait is not None and 0 < wait <= 0.5
    assert await rate.acquire(2) is None  # another user's window
    await asyncio.sleep(wait + 0.1)
    assert await rate.acquire(1) is None
    assert await rate.acquire(1) is None  # the refused one above left no trace in the window
    assert await rate.acquire(1) is not None
