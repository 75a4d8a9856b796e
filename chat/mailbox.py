"""This server process's address on the channel layer: one long-lived channel and one task reading it.

Other processes send it a chat's work there (chat.cluster registers the handlers) and get an answer back on their
own mailbox. Created lazily on the running loop, which under Daphne is the one loop of the process's lifetime.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

# Unique among every process sharing the Redis, even on several machines and across a pid reused after a restart.
PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
REPLY = "agent.reply"

Handler = Callable[[dict[str, Any]], Awaitable[Mapping[str, Any] | None]]


def cancel_requested() -> bool:
    """The current task was asked to stop. redis-py can turn a cancellation that meets its own read timeout into a
    TimeoutError; a loop that carried on after it would never stop."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class Mailbox:
    def __init__(self) -> None:
        # Message type → the coroutine that handles it; what it returns goes back to the sender as the reply.
        self.handlers: dict[str, Handler] = {}
        self._channel = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reader: asyncio.Task[None] | None = None
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}

    async def address(self) -> str:
        """This process's channel name, with its reader running."""
        loop = asyncio.get_running_loop()
        if self._reader is None or self._reader.done() or self._loop is not loop:
            # The default "specific" prefix, like the consumers' channels: channels_redis reads all of a process's
            # channels from one Redis list per prefix, under one lock. A prefix of its own made the mailbox's
            # reader hold that lock while blocking on its own list, and every websocket of the process went deaf.
            self._channel = await get_channel_layer().new_channel()
            self._loop = loop
            self._reader = loop.create_task(self._read(self._channel), name="agent-mailbox")
        return self._channel

    async def request(self, channel: str, message: dict[str, Any]) -> dict[str, Any]:
        """Send `message` to another process's mailbox and wait for its handler's reply (callers bound the wait)."""
        request_id = uuid.uuid4().hex
        reply_to = await self.address()
        future = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        try:
            await get_channel_layer().send(channel, {**message, "reply_to": reply_to, "request_id": request_id})
            return await future
        finally:
            self._waiting.pop(request_id, None)

    async def tell(self, channel: str, message: dict[str, Any]) -> None:
        """Send `message` to another process's mailbox; no reply."""
        await get_channel_layer().send(channel, message)

    async def _read(self, channel: str) -> None:
        layer = get_channel_layer()
        while True:
            try:
                message = await layer.receive(channel)
            except Exception:
                if cancel_requested():
                    raise asyncio.CancelledError from None
                logger.exception("Agent mailbox: receive failed; retrying")
                await asyncio.sleep(1)
                continue
            # One at a time, in the order sent: a tab's messages reach the chat's agent in the order typed.
            await self._dispatch(message)

    async def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == REPLY:
            future = self._waiting.get(message.get("request_id", ""))
            if future is not None and not future.done():
                future.set_result(message)
            return
        handler = self.handlers.get(str(kind))
        if handler is None:
            logger.warning("Agent mailbox: no handler for %r", kind)
            return
        try:
            reply = await handler(message)
        except Exception:
            logger.exception("Agent mailbox: handling %r failed", kind)
            reply = {"error": "The server process of this chat's agent failed to take the request."}
        if not message.get("reply_to"):
            return
        try:
            await self.tell(message["reply_to"], {**(reply or {}), "type": REPLY, "request_id": message["request_id"]})
        except Exception as exc:  # the sender stops waiting on its own
            logger.warning("Agent mailbox: could not reply to %s: %s", message["reply_to"], exc)

    async def close(self) -> None:
        """Stop reading (tests; a server's mailbox lives as long as the process)."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None


mailbox = Mailbox()
