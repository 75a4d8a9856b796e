"""One agent per chat across server processes: a tab's message, cancel and status request go to the process whose
actor owns the chat (it holds the chat's lease, chat.registry), over the channel layer; when no live process owns
it, this one becomes the owner. With the in-memory channel layer there is one process: everything runs here.

Answers come back by the usual way: every tab, in any process, is in the chat's group, and the owner broadcasts
the chat's events there. So the consumer and the status API call this module, and chat.conversation does the work.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Literal, TypedDict

from channels.db import database_sync_to_async
from django.conf import settings

from accounts.owned import NotFound
from chat import conversation, selectors
from chat.events import AgentStatus
from chat.lease import Holder
from chat.mailbox import mailbox
from chat.models import ChatSession
from chat.registry import ActorRegistry

logger = logging.getLogger(__name__)

# A live owner acknowledges a forwarded message within milliseconds; only after this long does the lease decide.
FORWARD_ACK_SECONDS = 3.0
STATUS_REPLY_SECONDS = 2.0
NOT_ANSWERING = "The chat's agent on another server is not answering. Please send your message again shortly."
MOVING = "The agent's server is not answering; moving this chat to this server…"
OWNER_LOST = (
    "The server running this chat's agent stopped before the answer was finished. Please send your message again."
)
# How often a process asks the owner elsewhere about a chat whose tabs here wait on it (chat.cluster.watch_owner).
WATCH_SECONDS = 1.0
BUSY = {AgentStatus.PROCESSING, AgentStatus.INITIALIZING}


class ForwardedMessage(TypedDict):
    type: Literal["agent.message"]
    session_id: str
    owner_id: Any
    text: str


class ForwardedCancel(TypedDict):
    type: Literal["agent.cancel"]
    session_id: str


class StatusRequest(TypedDict):
    type: Literal["agent.status"]
    session_id: str


class ForwardReply(TypedDict, total=False):
    refusal: str | None  # why the owner refused the message (shown to the tab that sent it), or None
    moved: bool  # the process no longer owns the chat: find its owner again
    error: str  # the owner failed to take the message


class StatusReply(TypedDict):
    status: str
    message: str | None


def _registry() -> ActorRegistry:
    # Looked up at each call, not imported: tests give each test a registry of its own (tests/chat/conftest.py).
    return conversation.registry


async def submit(session: ChatSession, owner: Any, text: str) -> str | None:
    """Have the chat's owner process answer a tab's message; a refusal for that tab, or None."""
    for _ in range(3):  # a chat changes owner rarely, never several times within one message
        holder = await _registry().claim(session.id)
        if holder is None:
            return await conversation.submit(session, owner, text)
        message: ForwardedMessage = {
            "type": "agent.message",
            "session_id": str(session.id),
            "owner_id": owner.pk,
            "text": text,
        }
        reply = await _forward(session.id, holder, dict(message))
        if reply is None:  # the owner died: its lease has lapsed, and the next claim takes the chat over here
            continue
        if reply.get("moved"):
            continue
        if "error" in reply:
            return str(reply["error"])
        if reply.get("refusal") is None:
            watch_owner(session.id, holder, busy=True)  # the owner answers now; should it die, these tabs hear it
        return reply.get("refusal")
    return NOT_ANSWERING


async def _forward(session_id: object, holder: Holder, message: dict[str, Any]) -> dict[str, Any] | None:
    """The owner's reply; None when the owner is gone (no reply and its lease lapsed). A live owner that does not
    reply within AGENT_LEASE_SECONDS (it keeps renewing its lease) gets the NOT_ANSWERING refusal instead."""
    replied = asyncio.ensure_future(mailbox.request(holder.channel, message))
    try:
        return await asyncio.wait_for(asyncio.shield(replied), FORWARD_ACK_SECONDS)
    except TimeoutError:
        pass
    leases = _registry().leases
    assert leases is not None  # a holder elsewhere means there are leases
    logger.warning("Session %s: %s did not acknowledge a message; waiting for its lease", session_id, holder)
    await conversation.broadcast_status(session_id, AgentStatus.INITIALIZING, MOVING)
    # Whichever comes first: a late reply (the owner was only slow), or its lease lapsing (the owner is dead).
    lapsed = asyncio.ensure_future(leases.wait_until_released(session_id, holder, within=settings.AGENT_LEASE_SECONDS))
    try:
        await asyncio.wait([replied, lapsed], return_when=asyncio.FIRST_COMPLETED)
        if replied.done():
            return replied.result()
        if lapsed.result():
            return None
        return {"refusal": NOT_ANSWERING}
    finally:
        replied.cancel()
        lapsed.cancel()


async def cancel(session_id: object) -> None:
    """Interrupt the chat's turn in progress, in whichever process runs it."""
    holder = await _registry().holder_elsewhere(session_id)
    if holder is None:
        await conversation.cancel(session_id)
        return
    request: ForwardedCancel = {"type": "agent.cancel", "session_id": str(session_id)}
    await mailbox.tell(holder.channel, dict(request))


async def status(session_id: object, *, watch: bool = False) -> tuple[AgentStatus, str | None]:
    """The chat's agent status (seed 5.1), asked of the process that runs it. With `watch` (a tab connecting here),
    a busy or silent owner elsewhere is followed until it is idle or gone, so the tab never waits on a dead one."""
    holder = await _registry().holder_elsewhere(session_id)
    if holder is None:
        return conversation.current_status(session_id)
    reply = await _owner_status(holder, session_id)
    if reply is None:
        if watch:
            watch_owner(session_id, holder, busy=False, moving=True)
        return AgentStatus.INITIALIZING, MOVING
    agent_status = AgentStatus(reply["status"])
    if watch and agent_status in BUSY:
        watch_owner(session_id, holder, busy=True)
    return agent_status, reply.get("message")


async def _owner_status(holder: Holder, session_id: object) -> dict[str, Any] | None:
    """The owner's reply to a status request, or None when it does not answer in time."""
    request: StatusRequest = {"type": "agent.status", "session_id": str(session_id)}
    try:
        return await asyncio.wait_for(mailbox.request(holder.channel, dict(request)), STATUS_REPLY_SECONDS)
    except TimeoutError:
        return None


# Tabs here waiting on an owner elsewhere: one watcher per chat and process.
_watchers: dict[str, asyncio.Task[None]] = {}


def watch_owner(session_id: object, holder: Holder, *, busy: bool, moving: bool = False) -> None:
    """Follow the chat's owner in another process while tabs here wait on it. An owner that dies sends nothing
    more: without this, a tab that saw "processing" (or "moving") would keep its send button disabled."""
    key = str(session_id)
    running = _watchers.get(key)
    if running is None or running.done():
        _watchers[key] = conversation.spawn(_watch_owner(key, holder, busy=busy, moving=moving))


async def _watch_owner(session_id: str, holder: Holder, *, busy: bool, moving: bool) -> None:
    leases = _registry().leases
    assert leases is not None  # an owner elsewhere means there are leases
    while await leases.holder(session_id) == holder:
        await asyncio.sleep(WATCH_SECONDS)
        reply = await _owner_status(holder, session_id)
        if reply is None:
            continue  # dead or stalled: its lease decides
        if AgentStatus(reply["status"]) in BUSY:
            busy = True
            continue
        if moving:  # this process told its tab the chat was moving; the owner was only slow
            await conversation.broadcast_status(session_id, AgentStatus(reply["status"]), reply.get("message"))
        return  # idle: the owner announced the end of its turn itself
    if await leases.holder(session_id) is not None:
        return  # another process has taken the chat over already and reports on it itself
    if not await leases.first_to_report_loss(session_id, holder):
        return
    logger.warning("Session %s: its agent's process %s is gone", session_id, holder.process_id)
    if busy:
        await conversation.broadcast_error(session_id, OWNER_LOST)
    else:
        await conversation.broadcast_status(session_id, AgentStatus.READY)


# The owner's side: what other processes send to this process's mailbox.

_session_with_owner = database_sync_to_async(selectors.get_session_with_owner)


async def _take_message(request: dict[str, Any]) -> ForwardReply:
    """Answer a message forwarded by another process as if its tab were connected here (limits, saving, queue)."""
    if not _registry().serves(request["session_id"]):
        return {"moved": True}
    try:
        session = await _session_with_owner(session_id=request["session_id"], owner_id=request["owner_id"])
    except NotFound:
        return {"refusal": "This chat no longer exists."}
    return {"refusal": await conversation.submit(session, session.owner, request["text"])}


async def _take_cancel(request: dict[str, Any]) -> None:
    await conversation.cancel(request["session_id"])


async def _report_status(request: dict[str, Any]) -> StatusReply:
    agent_status, message = conversation.current_status(request["session_id"])
    return {"status": str(agent_status), "message": message}


mailbox.handlers.update({"agent.message": _take_message, "agent.cancel": _take_cancel, "agent.status": _report_status})
