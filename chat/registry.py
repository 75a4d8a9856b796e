"""The actors of this process (seed 2.1, 2.8, 2.9): one per chat session, created under a lock, capped in all
(AGENT_MAX_SESSIONS) and per user (AGENT_MAX_SESSIONS_PER_USER), and stopped by a cleanup loop when idle past
SESSION_TTL_SECONDS, when no tab has been open on their chat for AGENT_IDLE_DISCONNECTED_SECONDS, or when their
worker died.

With several server processes (the Redis channel layer), a chat's actor lives only in the process that holds the
chat's lease (chat.lease): the registry takes it before it creates the actor, renews what it holds, and releases it
with the actor. Other processes forward the chat's messages here (chat.cluster).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from redis.exceptions import RedisError

from chat.actor import SessionActor
from chat.events import AgentStatus
from chat.lease import AgentLeases, Holder, leases_from_settings
from chat.mailbox import PROCESS_ID, cancel_requested, mailbox

logger = logging.getLogger(__name__)


class AgentBusyError(RuntimeError):
    """Every agent slot of this server is taken, or every one the user may have is answering."""


class AgentElsewhereError(RuntimeError):
    """Another server process holds the chat's lease: its agent runs there."""

    def __init__(self, holder: Holder) -> None:
        super().__init__(f"The chat's agent runs in another server process ({holder.process_id})")
        self.holder = holder


@dataclass(frozen=True)
class Claim:
    """A chat's lease held by this process: the value it was set with, and since when (time.monotonic())."""

    holder: Holder
    since: float


class ActorRegistry:
    def __init__(self) -> None:
        self.active_sessions: dict[str, SessionActor] = {}
        # Open websockets per chat session (with or without an actor yet): an actor whose chat has none is stopped
        # once idle for AGENT_IDLE_DISCONNECTED_SECONDS.
        self.connections: dict[str, int] = {}
        self._lock: asyncio.Lock | None = None
        self._cleanup_task: asyncio.Task[None] | None = None
        # None with the in-memory channel layer: one server process, nothing to agree on.
        self.leases: AgentLeases | None = leases_from_settings()
        # The chats whose lease this process holds (changed only under the lock, like active_sessions).
        self.held: dict[str, Claim] = {}
        self._lease_task: asyncio.Task[None] | None = None

    @property
    def lock(self) -> asyncio.Lock:
        # Created lazily inside the running loop (Daphne has one loop for the process's lifetime).
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    def get(self, session_id: str) -> SessionActor | None:
        return self.active_sessions.get(str(session_id))

    def attach(self, session_id: str) -> None:
        """A websocket on this chat opened."""
        session_id = str(session_id)
        self.connections[session_id] = self.connections.get(session_id, 0) + 1
        if (actor := self.get(session_id)) is not None:
            actor.touch()

    def detach(self, session_id: str) -> None:
        """A websocket on this chat closed; with the last one, the actor's time without a tab starts."""
        session_id = str(session_id)
        remaining = self.connections.get(session_id, 0) - 1
        if remaining > 0:
            self.connections[session_id] = remaining
            return
        self.connections.pop(session_id, None)
        if (actor := self.get(session_id)) is not None:
            actor.touch()

    async def get_or_create(
        self, session_id: str, create: Callable[[], SessionActor], *, owner_id: object = None
    ) -> tuple[SessionActor, bool]:
        """The running actor for a session, or a new started one; (actor, created). A user at their cap loses
        their oldest idle actor to the new one; AgentBusyError when there is no room."""
        session_id = str(session_id)
        evicted: list[SessionActor] = []
        try:
            async with self.lock:
                actor = self.active_sessions.get(session_id)
                if actor is not None and actor.is_running:
                    actor.touch()
                    return actor, False
                if actor is not None:  # its worker died: replace it
                    self.active_sessions.pop(session_id)
                    await actor.stop()
                if (holder := await self._claim(session_id)) is not None:
                    raise AgentElsewhereError(holder)
                try:
                    evicted = self._make_room_for(owner_id)
                    if len(self.active_sessions) >= settings.AGENT_MAX_SESSIONS:
                        raise AgentBusyError(
                            "All agent sessions of this server are busy. Please try again in a few minutes."
                        )
                except AgentBusyError:
                    await self._release(session_id)  # another server process may have room for the chat
                    raise
                for old in evicted:
                    await self._release(old.session_id)
                logger.info("Initializing new session actor: %s", session_id)
                actor = create()
                await actor.start()
                self.active_sessions[session_id] = actor
                self._ensure_cleanup_loop()
                return actor, True
        finally:
            # Outside the lock: a stop may wait GRACEFUL_SHUTDOWN_TIMEOUT, and other chats need not.
            await asyncio.gather(*(old.stop() for old in evicted))

    def _make_room_for(self, owner_id: object) -> list[SessionActor]:
        """Take out the owner's oldest idle actors (dead ones first) so that one more fits their cap."""
        limit = settings.AGENT_MAX_SESSIONS_PER_USER
        if owner_id is None or limit <= 0:
            return []
        theirs = [(key, actor) for key, actor in self.active_sessions.items() if actor.owner_id == owner_id]
        excess = len(theirs) - limit + 1
        if excess <= 0:
            return []
        idle = sorted(
            ((key, actor) for key, actor in theirs if not actor.is_busy),
            key=lambda item: (item[1].is_running, item[1].last_activity),
        )
        if len(idle) < excess:
            raise AgentBusyError(
                f"You already have {len(theirs)} agents answering in other chats, the most one user may have at "
                "once. Wait until one of them has answered, then try again."
            )
        for key, _ in idle[:excess]:
            logger.info("Stopping session %s: its user opened one more agent than they may have", key)
        return [self.active_sessions.pop(key) for key, _ in idle[:excess]]

    async def discard(self, session_id: str) -> None:
        async with self.lock:
            actor = self.active_sessions.pop(str(session_id), None)
            await self._release(str(session_id))
        if actor is not None:
            await actor.stop()

    def _without_tab(self, session_id: str, actor: SessionActor) -> bool:
        """No websocket on the chat, and none (nor a turn) for AGENT_IDLE_DISCONNECTED_SECONDS."""
        return not self.connections.get(session_id) and actor.is_expired(settings.AGENT_IDLE_DISCONNECTED_SECONDS)

    async def cleanup_expired_sessions(self) -> int:
        """Stop actors idle past the TTL, idle with no tab open, or whose worker has died (never one with a turn
        running or waiting)."""
        async with self.lock:
            expired = [
                session_id
                for session_id, actor in self.active_sessions.items()
                if not actor.is_running
                or (not actor.is_busy and (actor.is_expired() or self._without_tab(session_id, actor)))
            ]
            actors = [self.active_sessions.pop(session_id) for session_id in expired]
            for session_id in expired:
                await self._release(session_id)
        for session_id in expired:
            logger.info("Cleaning up expired session: %s", session_id)
        # Concurrently: each stop may wait GRACEFUL_SHUTDOWN_TIMEOUT for its CLI to exit.
        await asyncio.gather(*(actor.stop() for actor in actors))
        return len(actors)

    @staticmethod
    def cleanup_interval() -> float:
        """CLEANUP_INTERVAL_SECONDS, or more often, so an agent without a tab stops within 1.5 times its idle time."""
        return min(settings.CLEANUP_INTERVAL_SECONDS, settings.AGENT_IDLE_DISCONNECTED_SECONDS / 2)

    async def _cleanup_loop(self) -> None:
        while True:
            await asyncio.sleep(self.cleanup_interval())
            try:
                await self.cleanup_expired_sessions()
            except Exception:
                logger.exception("Session cleanup failed")

    def _ensure_cleanup_loop(self) -> None:
        if self._cleanup_task is None or self._cleanup_task.done():
            self._cleanup_task = asyncio.create_task(self._cleanup_loop(), name="agent-session-cleanup")

    async def stop_all(self) -> None:
        """Stop every actor and release every lease of this process (graceful shutdown, videoagent.shutdown)."""
        for task in (self._cleanup_task, self._lease_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._cleanup_task = self._lease_task = None
        async with self.lock:
            actors = list(self.active_sessions.values())
            self.active_sessions.clear()
            # Released first, so the other server processes can take these chats over while the CLIs exit.
            for session_id in list(self.held):
                await self._release(session_id)
        # All at once: each may take GRACEFUL_SHUTDOWN_TIMEOUT, and a server stopping must not take that many times.
        await asyncio.gather(*(actor.stop() for actor in actors), return_exceptions=True)

    # The chat's lease (only with several server processes; every method is a no-op when self.leases is None).

    def serves(self, session_id: object) -> bool:
        """This process is the chat's home: it holds the chat's lease, or it is the only process."""
        return self.leases is None or str(session_id) in self.held

    async def claim(self, session_id: object) -> Holder | None:
        """Make this process the chat's home unless another process is: None when the chat's actor runs here (or
        may be started here), else the process holding the chat's lease."""
        if self.serves(session_id):
            return None
        async with self.lock:
            return await self._claim(str(session_id))

    async def holder_elsewhere(self, session_id: object) -> Holder | None:
        """The other server process whose actor owns the chat, if there is one."""
        if self.leases is None or self.serves(session_id):
            return None
        holder = await self.leases.holder(session_id)
        return None if holder is None or holder.process_id == PROCESS_ID else holder

    async def _claim(self, session_id: str) -> Holder | None:
        """claim(), under the lock: claims and releases of one process never interleave."""
        if self.leases is None or session_id in self.held:
            return None
        me = Holder(PROCESS_ID, await mailbox.address())
        for _ in range(3):
            if await self.leases.acquire(session_id, me):
                self.held[session_id] = Claim(me, time.monotonic())
                self._ensure_lease_loop()
                return None
            holder = await self.leases.holder(session_id)
            if holder is not None and holder.process_id != PROCESS_ID:
                return holder
            if holder is not None:  # this process's own, untracked (a registry replaced in tests): retake it
                await self.leases.release(session_id, holder)
            # else it lapsed between the two calls: try again
        raise RedisError(f"Could not take or read the lease of chat {session_id}")

    async def _release(self, session_id: str) -> None:
        """Give the chat's lease back, under the lock. Callers release before they stop the actor: it is idle or
        dead by then (the registry never stops a turn), and another process may start the chat while its CLI exits."""
        claim = self.held.pop(session_id, None)
        if claim is None or self.leases is None:
            return
        try:
            await self.leases.release(session_id, claim.holder)
        except RedisError as exc:
            logger.warning("Session %s: could not release its lease (it lapses on its own): %s", session_id, exc)

    async def renew_leases(self) -> int:
        """Renew every lease this process holds; stop the actors whose lease was lost (it lapsed while this process
        stalled, or Redis lost it: another process may run the chat now), and give back leases taken for an actor
        that was never created. The number of actors stopped."""
        if self.leases is None:
            return 0
        async with self.lock:
            renewed = await self.leases.renew({key: claim.holder for key, claim in self.held.items()})
            lost = [key for key in self.held if key not in renewed]
            for key in lost:
                logger.warning("Session %s: this process lost the chat's lease; stopping its agent here", key)
                del self.held[key]
            unused = [
                key
                for key, claim in self.held.items()
                if key not in self.active_sessions and time.monotonic() - claim.since > self.leases.ttl_seconds
            ]
            for key in unused:
                await self._release(key)
            actors = [actor for key in lost if (actor := self.active_sessions.pop(key, None)) is not None]
        await asyncio.gather(*(actor.stop() for actor in actors))
        return len(actors)

    async def _lease_loop(self) -> None:
        assert self.leases is not None
        while True:
            # A third of the lease: one late or failed renewal never lets a live owner's lease lapse.
            await asyncio.sleep(self.leases.ttl_seconds / 3)
            try:
                await self.renew_leases()
            except Exception:
                if cancel_requested():
                    raise asyncio.CancelledError from None
                logger.exception("Renewing the agent leases failed")

    def _ensure_lease_loop(self) -> None:
        if self._lease_task is None or self._lease_task.done():
            self._lease_task = asyncio.create_task(self._lease_loop(), name="agent-lease-renewal")

    def status(self, session_id: str) -> tuple[AgentStatus, str | None]:
        """Seed 5.1."""
        actor = self.get(session_id)
        if actor is None:
            return AgentStatus.INITIALIZING, "Session not yet initialized"
        if not actor.is_running:
            return AgentStatus.ERROR, "Session worker stopped"
        if actor.is_processing:
            return AgentStatus.PROCESSING, None
        return AgentStatus.READY, None


registry = ActorRegistry()
