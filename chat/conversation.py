"""What a chat does, for every tab connected to it: greet once, answer messages, broadcast live events.

The consumer only parses and forwards; this module talks to the actor registry, the database and the channel
layer. Work started here outlives the websocket that started it, so an answer is saved even if the tab closes.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Coroutine
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from claude_agent_sdk import ClaudeSDKClient, ClaudeSDKError
from django.conf import settings

from accounts.owned import NotFound
from chat import limits, selectors, services
from chat.actor import AgentError, ClientFactory, SessionActor
from chat.agent import build_options, model_service_configured
from chat.events import AgentStatus, ChatMessageEvent, HistoryEvent, chat_group
from chat.markdown import render_markdown
from chat.models import ChatSession, Message
from chat.registry import AgentBusyError, AgentElsewhereError, registry
from chat.session_store import DatabaseSessionStore

logger = logging.getLogger(__name__)

NO_MODEL_SERVICE = (
    "No model service is configured, so the agent cannot answer. An administrator can set ANTHROPIC_API_KEY "
    "(or ANTHROPIC_AUTH_TOKEN / ANTHROPIC_BASE_URL) and restart. The library, uploads and API work without it."
)
_background: set[asyncio.Task[Any]] = set()


def spawn(coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    """Run detached from the websocket; keep a reference so the task is not garbage-collected."""
    task = asyncio.create_task(coroutine)
    _background.add(task)
    task.add_done_callback(_background.discard)
    return task


def make_client_factory(*, owner: Any, session: ChatSession, resume: str) -> ClientFactory:
    """The real Claude CLI; tests replace this function to drive the actor with a fake client."""
    return lambda: ClaudeSDKClient(
        build_options(owner=owner, session=session, resume=resume, session_store=DatabaseSessionStore())
    )


async def broadcast(session_id: object, event: dict[str, Any]) -> None:
    await get_channel_layer().group_send(chat_group(session_id), {"type": "chat.event", "event": event})


async def broadcast_status(session_id: object, status: AgentStatus, message: str | None = None) -> None:
    await broadcast(session_id, {"type": "status", "status": str(status), "message": message})


async def broadcast_error(session_id: object, message: str) -> None:
    await broadcast(session_id, {"type": "error", "message": message})
    await broadcast_status(session_id, AgentStatus.ERROR, message)


def message_event(message: Message) -> ChatMessageEvent:
    return {
        "type": "message",
        "id": str(message.id),
        "role": message.role,
        "content": message.content,
        "html": render_markdown(message.content) if message.role == Message.Role.AGENT else "",
        "timestamp": message.timestamp.isoformat(),
    }


@database_sync_to_async
def history_event(session: ChatSession) -> HistoryEvent:
    session.refresh_from_db(fields=["title"])  # another tab's first message may have named the chat since
    return {
        "type": "history",
        "session_id": str(session.id),
        "title": session.title,
        "messages": [message_event(m) for m in selectors.session_messages(session_id=session.id)],
    }


async def broadcast_deleted(session_id: object) -> None:
    """The chat was deleted (in another tab, over the API): every tab of it is told and closed (4404)."""
    await get_channel_layer().group_send(chat_group(session_id), {"type": "chat.deleted"})


# channels' database_sync_to_async closes stale connections around each call, which a long-lived process needs.
_save_message = database_sync_to_async(services.save_message)


async def _save(*, session: ChatSession, role: str, content: str) -> Message | None:
    """The saved message, or None when the chat was deleted under it (nothing is saved; its tabs are closed)."""
    try:
        return await _save_message(session=session, role=role, content=content)
    except NotFound:
        await broadcast_deleted(session.id)
        return None


_has_messages = database_sync_to_async(selectors.has_messages)
_store_agent_session_id = database_sync_to_async(services.store_agent_session_id)
_stored_agent_session_id = database_sync_to_async(selectors.stored_agent_session_id)


async def _ensure_actor(session: ChatSession, owner: Any, *, greet: bool) -> tuple[SessionActor, bool]:
    session_id = str(session.id)

    async def on_delta(text: str) -> None:
        await broadcast(session_id, {"type": "delta", "text": text})

    async def on_session_id(agent_session_id: str) -> None:
        await _store_agent_session_id(session_id=session_id, agent_session_id=agent_session_id)

    if registry.get(session_id) is None:
        await broadcast_status(session_id, AgentStatus.INITIALIZING, "Starting the agent…")
    # Read the resume id fresh: an earlier actor of this chat may have stored a newer one.
    resume = await _stored_agent_session_id(session_id=session.id)
    factory = make_client_factory(owner=owner, session=session, resume=resume)
    return await registry.get_or_create(
        session_id,
        lambda: SessionActor(
            session_id,
            client_factory=factory,
            greet=greet,
            owner_id=owner.pk,
            on_delta=on_delta,
            on_session_id=on_session_id,
        ),
        owner_id=owner.pk,
    )


def tab_opened(session: ChatSession) -> None:
    registry.attach(str(session.id))


def tab_closed(session: ChatSession) -> None:
    registry.detach(str(session.id))


def current_status(session_id: object) -> tuple[AgentStatus, str | None]:
    if registry.get(str(session_id)) is not None:
        return registry.status(str(session_id))
    if not model_service_configured():
        return AgentStatus.ERROR, NO_MODEL_SERVICE
    return AgentStatus.READY, None


async def greet_new_chat(session: ChatSession, owner: Any) -> None:
    """A new chat's greeting, generated once by the agent and stored as its first message."""
    if not model_service_configured() or await _has_messages(session_id=session.id):
        return
    if await registry.claim(session.id) is not None:
        return  # the chat's agent runs in another server process, which greets
    try:
        actor, created = await _ensure_actor(session, owner, greet=True)
    except AgentElsewhereError:
        return
    except AgentBusyError as exc:
        await broadcast_error(session.id, str(exc))
        return
    if not created:
        return  # another tab's connection is already greeting
    greeting = await actor.get_greeting()
    if await _has_messages(session_id=session.id):
        return
    saved = await _save(session=session, role=Message.Role.AGENT, content=greeting)
    if saved is None:
        return
    await broadcast(session.id, message_event(saved))
    await broadcast_status(session.id, AgentStatus.READY)


async def submit(session: ChatSession, owner: Any, text: str) -> str | None:
    """Answer a user message in the background, or say why it is refused (then nothing is saved or sent). In this
    process: chat.cluster.submit decides which process that is."""
    if not limits.pending_turns.try_add(session.id):
        return (
            f"Too many messages waiting: the agent answers one at a time and at most {settings.QUEUE_MAX_SIZE} "
            "may wait in a chat. This message was not sent; send it again once the agent has answered."
        )
    try:
        wait = await limits.message_rate.acquire(owner.pk)
    except BaseException:
        limits.pending_turns.remove(session.id)
        raise
    if wait is not None:
        limits.pending_turns.remove(session.id)
        return (
            f"You are sending messages too fast (at most {settings.CHAT_MESSAGES_PER_MINUTE} a minute). "
            f"This message was not sent; you can send again in {max(1, math.ceil(wait))} seconds."
        )
    session_id = str(session.id)
    ahead = _last_in_line.get(session_id)
    in_line = _last_in_line[session_id] = asyncio.get_running_loop().create_future()

    def done(_: object) -> None:  # however the answer ends (this runs even for a task cancelled unstarted)
        limits.pending_turns.remove(session_id)
        _mark_in_line(in_line)
        if _last_in_line.get(session_id) is in_line:
            del _last_in_line[session_id]

    spawn(answer(session, owner, text, ahead=ahead, in_line=in_line)).add_done_callback(done)
    return None


# A chat's messages reach its agent in the order they were sent. Each message's task waits until the one sent
# before it is in line at the actor (whose turn lock serves first come, first served), not until it is answered:
# without this, saves and channel-layer sends finishing out of order reorder a burst of messages.
_last_in_line: dict[str, asyncio.Future[None]] = {}


def _mark_in_line(in_line: asyncio.Future[None] | None) -> None:
    if in_line is not None and not in_line.done():
        in_line.set_result(None)


async def answer(
    session: ChatSession,
    owner: Any,
    text: str,
    *,
    ahead: asyncio.Future[None] | None = None,
    in_line: asyncio.Future[None] | None = None,
) -> None:
    """Save the user's message, get the agent's answer, save and broadcast it (seed 5.5). `ahead` resolves when
    the message sent before this one is in line at the agent; `in_line` is resolved when this one is."""
    if ahead is not None:
        await asyncio.wait([ahead])  # not `await ahead`: cancelling this task must not cancel the shared future
    untitled = not session.title
    saved = await _save(session=session, role=Message.Role.USER, content=text)
    if saved is None:  # deleted after the tab's check: the agent is not asked
        return
    await broadcast(session.id, message_event(saved))
    if untitled and session.title:  # the first user message named the chat (seed 4.1)
        await broadcast(session.id, {"type": "title", "title": session.title})
    if not model_service_configured():
        await broadcast_error(session.id, NO_MODEL_SERVICE)
        return
    try:
        actor, _ = await _ensure_actor(session, owner, greet=False)
        await broadcast_status(session.id, AgentStatus.PROCESSING)
        # No await between these two: process_message joins the actor's line before the next message's task runs.
        _mark_in_line(in_line)
        reply = await actor.process_message(text)
    except AgentBusyError as exc:
        await broadcast_error(session.id, str(exc))
    except AgentElsewhereError:
        # This process lost the chat's lease between taking the message and starting the agent (it stalled past
        # AGENT_LEASE_SECONDS): another process runs the chat now.
        await broadcast_error(session.id, "This chat's agent moved to another server. Please send your message again.")
    except AgentError as exc:
        await broadcast_error(session.id, str(exc))
    except TimeoutError as exc:
        await broadcast_error(session.id, f"The agent took too long to answer: {exc}. Please try again.")
    except (RuntimeError, ClaudeSDKError) as exc:
        # The worker or its CLI process died: replace the actor; the next message resumes the chat.
        logger.warning("Session %s: agent stopped: %s", session.id, exc)
        await registry.discard(str(session.id))
        await broadcast_error(
            session.id, f"The agent stopped unexpectedly ({exc}). Send your message again to restart it."
        )
    except Exception as exc:
        logger.exception("Session %s: message failed", session.id)
        await broadcast_error(session.id, f"The agent could not answer: {exc}")
    else:
        saved = await _save(session=session, role=Message.Role.AGENT, content=reply)
        if saved is not None:
            await broadcast(session.id, message_event(saved))
            await broadcast_status(session.id, AgentStatus.READY)


async def cancel(session_id: object) -> None:
    actor = registry.get(str(session_id))
    if actor is not None:
        await actor.cancel()
