"""Nobody takes every agent slot: one user keeps at most AGENT_MAX_SESSIONS_PER_USER agents, and an agent whose
chat has no tab open stops after AGENT_IDLE_DISCONNECTED_SECONDS. The agent is a fake client here."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from channels.db import database_sync_to_async

from chat.actor import SessionActor
from chat.registry import AgentBusyError
from tests.chat.conftest import communicator_for, receive_until
from tests.chat.fake_client import GatedClient
from tests.factories import ChatSessionFactory


def agent_answer(event: dict) -> bool:
    return event["type"] == "message" and event["role"] == "agent"


async def open_tab(session, user):
    communicator = await communicator_for(session.id, user)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def open_new_chat(user):
    """A new chat and a tab on it; the agent starts to greet it, and the greeting has arrived on return."""
    session = await database_sync_to_async(ChatSessionFactory)(owner=user)
    communicator = await open_tab(session, user)
    events = await receive_until(communicator, lambda e: agent_answer(e) or e["type"] == "error", timeout=10)
    assert agent_answer(events[-1]), events[-1]
    return session, communicator


async def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "the condition did not come true in time"
        await asyncio.sleep(0.02)


def gated_actor(session_id: str, gate: asyncio.Event, owner_id: object = None) -> Callable[[], SessionActor]:
    return lambda: SessionActor(session_id, client_factory=lambda: GatedClient(gate), greet=False, owner_id=owner_id)


@pytest.mark.django_db(transaction=True)
async def test_a_users_fourth_agent_stops_their_oldest_idle_one_and_no_one_elses(
    alice, bob, fake_agent, registry, settings
):
    settings.AGENT_MAX_SESSIONS_PER_USER = 3
    bobs = [await open_new_chat(bob) for _ in range(2)]  # the oldest agents of all
    alices = [await open_new_chat(alice) for _ in range(3)]
    oldest = registry.get(alices[0][0].id)
    assert oldest is not None and len(registry.active_sessions) == 5

    alices.append(await open_new_chat(alice))

    assert registry.get(alices[0][0].id) is None and not oldest.is_running
    kept = [bobs[0], bobs[1], alices[1], alices[2], alices[3]]
    assert set(registry.active_sessions) == {str(session.id) for session, _ in kept}
    assert all(actor.is_running for actor in registry.active_sessions.values())

    # The chat whose agent stopped goes on: its next message starts an agent, in place of alice's next oldest.
    first_tab = alices[0][1]
    await first_tab.send_json_to({"type": "message", "text": "still there?"})
    assert (await receive_until(first_tab, agent_answer, timeout=10))[-1]["content"] == "echo: still there?"
    assert registry.get(alices[1][0].id) is None
    assert registry.get(bobs[0][0].id) is not None and registry.get(bobs[1][0].id) is not None
    for _, communicator in bobs + alices:
        await communicator.disconnect()


async def test_a_fourth_agent_is_refused_while_the_users_three_are_all_answering(registry, settings):
    settings.AGENT_MAX_SESSIONS_PER_USER = 3
    gate = asyncio.Event()
    actors = [
        (await registry.get_or_create(f"a{i}", gated_actor(f"a{i}", gate, "alice"), owner_id="alice"))[0]
        for i in range(3)
    ]
    turns = [asyncio.create_task(actor.process_message("a long job")) for actor in actors]
    await asyncio.sleep(0.05)

    with pytest.raises(AgentBusyError, match=r"already have 3 agents answering in other chats"):
        await registry.get_or_create("a3", gated_actor("a3", gate, "alice"), owner_id="alice")
    assert all(actor.is_running for actor in actors) and len(registry.active_sessions) == 3
    _, created = await registry.get_or_create("b0", gated_actor("b0", gate, "bob"), owner_id="bob")
    assert created

    gate.set()
    assert await asyncio.gather(*turns) == ["echo: a long job"] * 3
    actors[0].last_activity -= 10  # the least recently used
    fourth, created = await registry.get_or_create("a3", gated_actor("a3", gate, "alice"), owner_id="alice")
    assert created and fourth.is_running
    assert not actors[0].is_running and registry.get("a0") is None


@pytest.mark.django_db(transaction=True)
async def test_a_closed_tabs_agent_stops_after_the_idle_time_and_a_chat_with_a_tab_open_keeps_its_agent(
    alice, fake_agent, registry, settings
):
    settings.AGENT_IDLE_DISCONNECTED_SECONDS = 0.5
    closed_chat, closed_tab = await open_new_chat(alice)
    kept_chat, kept_tab = await open_new_chat(alice)
    second_tab = await open_tab(kept_chat, alice)
    closed_actor, kept_actor = registry.get(closed_chat.id), registry.get(kept_chat.id)
    assert closed_actor is not None and kept_actor is not None

    await closed_tab.disconnect()
    await second_tab.disconnect()  # the kept chat still has its first tab
    loop = asyncio.get_running_loop()
    closed_at = loop.time()
    await eventually(lambda: registry.get(closed_chat.id) is None)
    assert loop.time() - closed_at >= 0.4
    # The registry lets go of an actor first, then stops it (its CLI may take a moment to exit).
    await eventually(lambda: not closed_actor.is_running)

    await asyncio.sleep(1.0)  # the kept chat's agent has been idle far past the idle time too
    assert registry.get(kept_chat.id) is kept_actor and kept_actor.is_running
    await kept_tab.disconnect()
    await eventually(lambda: registry.get(kept_chat.id) is None)


async def test_an_agent_without_a_tab_is_not_stopped_in_the_middle_of_a_turn(registry, settings):
    settings.AGENT_IDLE_DISCONNECTED_SECONDS = 0.1  # the cleanup loop then looks every 0.05 s
    gate = asyncio.Event()
    actor, _ = await registry.get_or_create("s", gated_actor("s", gate))
    turn = asyncio.create_task(actor.process_message("a long job"))
    await asyncio.sleep(0.5)
    assert registry.get("s") is actor and actor.is_running

    gate.set()
    assert await turn == "echo: a long job"
    await eventually(lambda: registry.get("s") is None)
    await eventually(lambda: not actor.is_running)
