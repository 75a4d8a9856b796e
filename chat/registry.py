"""The actors of this process (seed 2.1, 2.8, 2.9): one per chat session, created under a lock, capped in all
(AGENT_MAX_SESSIONS) and per user (AGENT_MAX_SESSIONS_PER_USER), and stopped by a cleanup loop when idle past
SESSION_TTL_SECONDS, when no tab has been open on their chat for AGENT_IDLE_DISCONNECTED_SECONDS, or when their
worker died."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from django.conf import settings

from chat.actor import SessionActor
from chat.events import AgentStatus

logger = logging.getLogger(__name__)


class AgentBusyError(RuntimeError):
    """Every agent slot of this server is taken, or every one the user may have is answering."""


class ActorRegistry:
    def __init__(self) -> None:
        self.active_sessions: dict[str, SessionActor] = {}
        # Open websockets per chat session (with or without an actor yet): an actor whose chat has none is stopped
        # once idle for AGENT_IDLE_DISCONNECTED_SECONDS.
        self.connections: dict[str, int] = {}
        self._lock: asyncio.Lock | None = None
        self._cleanup_task: asyncio.Task[None] | None = None

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
                evicted = self._make_room_for(owner_id)
                if len(self.active_sessions) >= settings.AGENT_MAX_SESSIONS:
                    raise AgentBusyError(
                        "All agent sessions of this server are busy. Please try again in a few minutes."
                    )
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
        if self._cleanup_task is not None:
            self._cleanup_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._cleanup_task
            self._cleanup_task = None
        async with self.lock:
            actors = list(self.active_sessions.values())
            self.active_sessions.clear()
        # All at once: each may take GRACEFUL_SHUTDOWN_TIMEOUT, and a server stopping must not take that many times.
        await asyncio.gather(*(actor.stop() for actor in actors), return_exceptions=True)

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
