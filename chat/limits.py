"""How much one user may ask of the agent: messages waiting per chat and messages a minute.

Every accepted message is saved and becomes model API calls (money), so these are checked before anything is
saved; a refused message is neither saved nor sent, and the tab that sent it gets an error event.
"""

from __future__ import annotations

import time
import uuid
from collections import deque

import redis.asyncio as redis
from django.conf import settings

# Atomic check-and-count in Redis: drop the entries older than the window, count one more if under the limit
# (nil reply), else reply with the seconds until the oldest entry leaves the window (a string: Lua floats would
# be truncated to integers).
_REDIS_SLIDING_WINDOW = """
local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, math.ceil(window * 1000))
  return false
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + window - now)
"""


class PendingTurns:
    """Messages of each chat accepted and not yet answered: at most one in progress plus QUEUE_MAX_SIZE waiting.

    The agent answers one message at a time and the others wait their turn; unbounded, a burst of messages all
    waits and all reaches the model. Counted per chat rather than per actor, so the bound also holds while the
    actor starts and across a replaced actor. Per server process, like the actors themselves.
    """

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    @staticmethod
    def capacity() -> int:
        return settings.QUEUE_MAX_SIZE + 1

    def count(self, session_id: object) -> int:
        return self._counts.get(str(session_id), 0)

    def try_add(self, session_id: object) -> bool:
        """Take a place for one message, or False when the chat is full. No await: atomic on the event loop."""
        count = self.count(session_id)
        if count >= self.capacity():
            return False
        self._counts[str(session_id)] = count + 1
        return True

    def remove(self, session_id: object) -> None:
        count = self.count(session_id) - 1
        if count > 0:
            self._counts[str(session_id)] = count
        else:
            self._counts.pop(str(session_id), None)


class MessageRate:
    """A sliding window of the messages each user sent, across all their chats and tabs (CHAT_MESSAGES_PER_MINUTE).

    Without Redis the window is kept in this process's memory, so with several server processes a user gets the
    limit once per process. With REDIS_URL (the channel layer's Redis) it is a sorted set per user in Redis,
    shared by every process. `redis_url=None` follows settings.REDIS_URL; "" forces memory.
    """

    def __init__(
        self, *, redis_url: str | None = None, key_prefix: str | None = None, window_seconds: float = 60.0
    ) -> None:
        self.redis_url = redis_url
        self.key_prefix = key_prefix
        self.window_seconds = window_seconds
        self._sent: dict[str, deque[float]] = {}

    async def acquire(self, user_id: object) -> float | None:
        """Count one message for the user; or, at the limit, count nothing and return the seconds to wait."""
        limit = settings.CHAT_MESSAGES_PER_MINUTE
        if limit <= 0:
            return None
        url = settings.REDIS_URL if self.redis_url is None else self.redis_url
        if url:
            return await self._acquire_in_redis(url, str(user_id), limit)
        return self._acquire_in_memory(str(user_id), limit)

    def _acquire_in_memory(self, user_id: str, limit: int) -> float | None:
        now = time.time()
        sent = self._sent.setdefault(user_id, deque())
        while sent and sent[0] <= now - self.window_seconds:
            sent.popleft()
        if len(sent) < limit:
            sent.append(now)
            return None
        return sent[0] + self.window_seconds - now

    async def _acquire_in_redis(self, url: str, user_id: str, limit: int) -> float | None:
        prefix = self.key_prefix
        if prefix is None:
            prefix = settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix", "videoagent")
        # A connection per message: redis.asyncio connections belong to the event loop that opened them, and a
        # local connect costs well under a millisecond next to a model call.
        client = redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
        try:
            wait = await client.eval(
                _REDIS_SLIDING_WINDOW,
                1,
                f"{prefix}:chat-rate:{user_id}",
                time.time(),
                self.window_seconds,
                limit,
                uuid.uuid4().hex,
            )
        finally:
            await client.aclose()
        return None if wait is None else float(wait)


pending_turns = PendingTurns()
message_rate = MessageRate()
