"""Chat fixtures: a fresh actor registry and message limits per test, a fake model service, a fake agent,
websocket communicators."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.test import Client

from chat.limits import MessageRate, PendingTurns
from chat.registry import ActorRegistry
from tests.chat.fake_client import FakeAgent
from tests.fake_anthropic import FakeAnthropic

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
HOST = (b"host", b"127.0.0.1:8000")


@pytest.fixture
async def registry(monkeypatch) -> AsyncIterator[ActorRegistry]:
    """A registry of this test's own, stopped at the end (no CLI process outlives its test)."""
    fresh = ActorRegistry()
    monkeypatch.setattr("chat.registry.registry", fresh)
    monkeypatch.setattr("chat.conversation.registry", fresh)
    yield fresh
    await fresh.stop_all()
    from chat import conversation

    pending = [task for task in conversation._background if not task.done()]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


@pytest.fixture(autouse=True)
def fresh_limits(monkeypatch) -> MessageRate:
    """This test's own message counts: a rate window in memory, or in Redis under a key prefix of its own."""
    rate = MessageRate(key_prefix=f"test-{uuid.uuid4().hex}")
    monkeypatch.setattr("chat.limits.message_rate", rate)
    monkeypatch.setattr("chat.limits.pending_turns", PendingTurns())
    return rate


@pytest.fixture
def fake_agent(monkeypatch, registry) -> FakeAgent:
    """Every agent the chat starts is a FakeClient (no CLI, no model service): fast tests of the chat's limits."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    agent = FakeAgent()
    monkeypatch.setattr("chat.conversation.make_client_factory", agent.client_factory)
    return agent


@pytest.fixture
def no_model_service(monkeypatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake_api(monkeypatch, settings) -> Iterator[FakeAnthropic]:
    """The scripted fake Messages API; the real CLI is pointed at it."""
    settings.AGENT_MAX_RETRIES = 0
    settings.AGENT_API_TIMEOUT_SECONDS = 20
    with FakeAnthropic() as fake:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
        yield fake


def session_cookie(user: Any) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{django_settings.SESSION_COOKIE_NAME}={client.cookies[django_settings.SESSION_COOKIE_NAME].value}".encode()


async def communicator_for(session_id: object, user: Any | None, *, origin: bytes = ORIGIN[1]) -> WebsocketCommunicator:
    """A websocket to the full ASGI application: origin check, session auth, routing, consumer."""
    from videoagent.asgi import application

    headers = [(b"origin", origin), HOST]
    if user is not None:
        headers.append((b"cookie", await database_sync_to_async(session_cookie)(user)))
    return WebsocketCommunicator(application, f"/ws/chat/{session_id}/", headers=headers)


async def receive_until(communicator: WebsocketCommunicator, predicate, timeout: float = 60) -> list[dict]:
    """Collect events until one matches predicate; returns all of them (the match last)."""
    events: list[dict] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        event = await communicator.receive_json_from(timeout=max(0.1, deadline - loop.time()))
        events.append(event)
        if predicate(event):
            return events


# The local media server and its files, shared with the transcription tests.
from tests.transcripts.conftest import make_upload, media_dir, media_server  # noqa: E402, F401
