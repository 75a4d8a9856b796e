"""The actors of this process (seed 2.1, 2.8, 2.9): one per chat session, created under a lock, capped,
and stopped by a cleanup loop when idle past SESSION_TTL_SECONDS or when their worker died."""

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
    """Every agent slot of this server is taken."""


class ActorRegistry:
    def __init__(self) -> None:
        self.active_sessions: dict[str, SessionActor] = {}
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

    async def get_or_create(self, session_id: str, create: Callable[[], SessionActor]) -> tuple[SessionActor, bool]:
        """The running actor for a session, or a new started one; (actor, created)."""
        session_id = str(session_id)
        async with self.lock:
            actor = self.active_sessions.get(session_id)
            if actor is not None and actor.is_running:
                actor.touch()
                return actor, False
            if actor is not None:  # its worker died: replace it
                self.active_sessions.pop(session_id)
                await actor.stop()
            if len(self.active_sessions) >= settings.AGENT_MAX_SESSIONS:
                raise AgentBusyError("All agent sessions of this server are busy. Please try again in a few minutes.")
            logger.info("Initializing new session actor: %s", session_id)
            actor = create()
            await actor.start()
            self.active_sessions[session_id] = actor
            self._ensure_cleanup_loop()
            return actor, True

    async def discard(self, session_id: str) -> None:
        async with self.lock:
            actor = self.active_sessions.pop(str(session_id), None)
        if actor is not None:
            await actor.stop()

    async def cleanup_expired_sessions(self) -> int:
        """Stop actors idle past the TTL or whose worker has died (not those in the middle of a turn)."""
        async with self.lock:
            expired = [
                session_id
                for session_id, actor in self.active_sessions.items()
                if not actor.is_running or (actor.is_expired() and not actor.is_processing)
            ]
            actors = [self.active_sessions.pop(session_id) for session_id in expired]
        for session_id in expired:
            logger.info("Cleaning up expired session: %s", session_id)
        # Concurrently: each stop may wait GRACEFUL_SHUTDOWN_TIMEOUT for its CLI to exit.
        await asyncio.gather(*(actor.stop() for actor in actors))
        return len(actors)

    async def _cleanup_loop(self) -> None:
        while True:
            await asyncio.sleep(settings.CLEANUP_INTERVAL_SECONDS)
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
        for actor in actors:
            await actor.stop()

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
