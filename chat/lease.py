"""Leases in Redis that name the one server process whose actor owns a chat, when several processes share Redis.

The owner sets `{prefix}:agent-lease:{session_id}` only if it is absent, with an expiry (SET NX PX), renews it while
its actor lives, and deletes it when the actor stops. Renewing and deleting compare the value first (in Lua, so
atomically): a slow owner whose lease lapsed never extends or deletes the lease of the process that took the chat
over. A process killed with -9 deletes nothing; the expiry is what hands its chats to the others.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass

import redis.asyncio as redis
from django.conf import settings

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


@dataclass(frozen=True)
class Holder:
    """Who holds a lease: a server process, and its mailbox on the channel layer (where others forward to it)."""

    process_id: str
    channel: str

    def encode(self) -> str:
        return f"{self.process_id} {self.channel}"

    @classmethod
    def decode(cls, value: bytes | str) -> Holder:
        text = value.decode() if isinstance(value, bytes) else value
        process_id, _, channel = text.partition(" ")
        return cls(process_id, channel)


class AgentLeases:
    """The chats' leases in one Redis, under `prefix`, each lasting `ttl_seconds` unless renewed."""

    def __init__(self, *, url: str, prefix: str, ttl_seconds: float) -> None:
        self.url = url
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self._redis: redis.Redis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def key(self, session_id: object) -> str:
        return f"{self.prefix}:agent-lease:{session_id}"

    def _client(self) -> redis.Redis:
        # redis.asyncio connections belong to the event loop that opened them: Daphne runs one loop for its
        # lifetime, while tests run one per test.
        loop = asyncio.get_running_loop()
        if self._redis is None or self._loop is not loop:
            self._redis = redis.from_url(self.url, socket_connect_timeout=5, socket_timeout=5)
            self._loop = loop
        return self._redis

    @property
    def _ttl_ms(self) -> int:
        return max(1, int(self.ttl_seconds * 1000))

    async def acquire(self, session_id: object, holder: Holder) -> bool:
        """Take the chat's lease if nobody holds it."""
        return bool(await self._client().set(self.key(session_id), holder.encode(), nx=True, px=self._ttl_ms))

    async def holder(self, session_id: object) -> Holder | None:
        value = await self._client().get(self.key(session_id))
        return None if value is None else Holder.decode(value)

    async def renew(self, leases: Mapping[str, Holder]) -> set[str]:
        """Extend each of these leases that is still held by the given holder (one round trip for all); the
        session ids whose lease was renewed. A missing one lapsed or was taken over."""
        if not leases:
            return set()
        pipeline = self._client().pipeline(transaction=False)
        for session_id, holder in leases.items():
            pipeline.eval(_RENEW, 1, self.key(session_id), holder.encode(), self._ttl_ms)
        results = await pipeline.execute()
        return {session_id for session_id, renewed in zip(leases, results, strict=True) if renewed}

    async def release(self, session_id: object, holder: Holder) -> bool:
        """Delete the lease if `holder` still holds it; False (and nothing deleted) otherwise."""
        return bool(await self._client().eval(_RELEASE, 1, self.key(session_id), holder.encode()))

    async def wait_until_released(self, session_id: object, holder: Holder, *, within: float) -> bool:
        """Poll until `holder` no longer holds the lease (released, lapsed or taken over): True, or False when it
        still holds it after `within` seconds (a live holder renews its lease)."""
        deadline = time.monotonic() + within
        while await self.holder(session_id) == holder:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(min(0.25, self.ttl_seconds / 10))
        return True

    async def first_to_report_loss(self, session_id: object, holder: Holder) -> bool:
        """True for exactly one of the processes that saw `holder` lose the chat: the one that tells the chat's
        tabs (each process whose tabs wait on that holder watches it, and a tab should hear it once)."""
        key = f"{self.key(session_id)}:lost:{holder.process_id}"
        return bool(await self._client().set(key, "1", nx=True, ex=60))

    async def aclose(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None


def leases_from_settings() -> AgentLeases | None:
    """The leases in the channel layer's Redis, or None without REDIS_URL (one process: no lease needed)."""
    if not settings.REDIS_URL:
        return None
    prefix = settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix", "videoagent")
    return AgentLeases(url=settings.REDIS_URL, prefix=prefix, ttl_seconds=settings.AGENT_LEASE_SECONDS)
