"""The seed's testing checklist for SessionActor and the registry, with a fake client (no CLI)."""

from __future__ import annotations

import asyncio
import time

import pytest

from chat.actor import GREETING_FALLBACK, SessionActor
from chat.registry import ActorRegistry, AgentBusyError
from tests.chat.fake_client import FakeClient


def make_actor(session_id: str = "s1", *, delay: float = 0.0, greet: bool = True) -> SessionActor:
    return SessionActor(session_id, client_factory=lambda: FakeClient(delay=delay), greet=greet)


async def test_it_greets_then_answers_messages():
    actor = make_actor()
    await actor.start()
    try:
        assert await actor.get_greeting() == "Hello from the fake agent!"
        assert await actor.process_message("hi") == "echo: hi"
        assert actor.is_running and not actor.is_processing
    finally:
        await actor.stop()
    assert not actor.is_running and actor.active_task is None


async def test_concurrent_creation_with_the_same_id_makes_one_worker():
    registry = ActorRegistry()
    created: list[SessionActor] = []

    def create() -> SessionActor:
        actor = make_actor("same")
        created.append(actor)
        return actor

    results = await asyncio.gather(*(registry.get_or_create("same", create) for _ in range(20)))
    try:
        assert len(created) == 1
        assert {id(actor) for actor, _ in results} == {id(created[0])}
        assert sum(was_created for _, was_created in results) == 1
    finally:
        await registry.stop_all()


async def test_no_race_when_many_sessions_are_created_and_cleaned_at_once(settings):
    settings.SESSION_TTL_SECONDS = 0.0
    registry = ActorRegistry()
    ids = [f"s{i}" for i in range(10)]
    await asyncio.gather(
        *(registry.get_or_create(i, lambda i=i: make_actor(i, greet=False)) for i in ids),
        registry.cleanup_expired_sessions(),
        *(registry.get_or_create(i, lambda i=i: make_actor(i, greet=False)) for i in ids),
    )
    assert len(registry.active_sessions) <= len(ids)
    await asyncio.sleep(0.01)
    await registry.cleanup_expired_sessions()
    assert registry.active_sessions == {}


async def test_sessions_are_cleaned_up_after_the_ttl(settings):
    settings.SESSION_TTL_SECONDS = 0.2
    registry = ActorRegistry()
    actor, _ = await registry.get_or_create("idle", lambda: make_actor("idle", greet=False))
    busy, _ = await registry.get_or_create("busy", lambda: make_actor("busy", greet=False))
    assert await registry.cleanup_expired_sessions() == 0
    await asyncio.sleep(0.3)
    busy.touch()
    assert await registry.cleanup_expired_sessions() == 1
    assert not actor.is_running and list(registry.active_sessions) == ["busy"]
    await registry.stop_all()


async def test_the_cleanup_loop_runs_by_itself(settings):
    settings.SESSION_TTL_SECONDS = 0.05
    settings.CLEANUP_INTERVAL_SECONDS = 0.1
    registry = ActorRegistry()
    actor, _ = await registry.get_or_create("idle", lambda: make_actor("idle", greet=False))
    await asyncio.sleep(0.5)
    assert registry.active_sessions == {} and not actor.is_running
    await registry.stop_all()


async def test_stop_cancels_a_worker_that_ignores_the_sentinel(settings):
    settings.GRACEFUL_SHUTDOWN_TIMEOUT = 0.2
    actor = make_actor(delay=30, greet=False)
    await actor.start()
    pending = asyncio.create_task(actor.process_message("slow"))
    await asyncio.sleep(0.1)
    task = actor.active_task
    started = time.monotonic()
    await actor.stop()
    assert time.monotonic() - started < 2
    assert task is not None and task.cancelled()
    pending.cancel()


async def test_the_greeting_falls_back_after_its_timeout(settings):
    settings.GREETING_TIMEOUT_SECONDS = 0.2
    actor = make_actor(delay=5)
    await actor.start()
    try:
        assert await actor.get_greeting() == GREETING_FALLBACK
    finally:
        await actor.stop()


async def test_a_slow_answer_times_out_and_the_turn_is_interrupted(settings):
    settings.RESPONSE_TIMEOUT_SECONDS = 0.2
    actor = make_actor(delay=5, greet=False)
    await actor.start()
    try:
        with pytest.raises(TimeoutError, match=r"timed out after 0\.2 seconds"):
            await actor.process_message("slow")
        assert FakeClient.instances[-1].interrupted == 1
        assert not actor.is_processing
    finally:
        await actor.stop()


async def test_a_failing_message_does_not_kill_the_worker():
    actor = make_actor(greet=False)
    await actor.start()
    try:
        with pytest.raises(ValueError, match="cannot be processed"):
            await actor.process_message("explode")
        assert await actor.process_message("still here?") == "echo: still here?"
    finally:
        await actor.stop()


async def test_a_dead_worker_gives_a_clear_error_instead_of_hanging():
    class Crashing(FakeClient):
        async def __aenter__(self) -> FakeClient:
            await asyncio.sleep(0.05)
            raise OSError("the CLI could not start")

    actor = SessionActor("crash", client_factory=Crashing, greet=False)
    await actor.start()
    with pytest.raises(RuntimeError, match=r"Session is closed|stopped unexpectedly|crashed"):
        await actor.process_message("hello")
    await actor.stop()


async def test_the_registry_is_capped(settings):
    settings.AGENT_MAX_SESSIONS = 2
    registry = ActorRegistry()
    for name in ("a", "b"):
        await registry.get_or_create(name, lambda name=name: make_actor(name, greet=False))
    with pytest.raises(AgentBusyError, match="busy"):
        await registry.get_or_create("c", lambda: make_actor("c", greet=False))
    actor, created = await registry.get_or_create("a", lambda: make_actor("a", greet=False))
    assert not created and actor.is_running
    await registry.stop_all()


def test_an_actor_expires_only_after_its_ttl():
    actor = make_actor()
    assert not actor.is_expired(ttl=60)
    actor.last_activity -= 61
    assert actor.is_expired(ttl=60)
    actor.touch()
    assert not actor.is_expired(ttl=60)
