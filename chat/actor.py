"""SessionActor (seed 2.2–2.7): one Claude CLI conversation, driven by a worker task through bounded queues."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from claude_agent_sdk import AssistantMessage, ResultMessage, StreamEvent, TextBlock
from django.conf import settings

from chat.agent import GREETING_PROMPT

logger = logging.getLogger(__name__)

GREETING_FALLBACK = "Hello! I'm ready to help you transcribe videos. (Note: Initialization was slow)"
GREETING_ERROR = "Hello! I encountered an issue during startup but I'm ready to help."


class AgentClient(Protocol):
    """What the actor needs of ClaudeSDKClient (tests drive the actor with a fake too)."""

    async def __aenter__(self) -> AgentClient: ...
    async def __aexit__(self, *exc: object) -> Any: ...
    async def query(self, prompt: str) -> None: ...
    def receive_response(self) -> Any: ...
    async def interrupt(self) -> None: ...


class AgentError(RuntimeError):
    """The model service failed a turn; the message is for the user."""


ClientFactory = Callable[[], AgentClient]
DeltaCallback = Callable[[str], Awaitable[None]]
SessionIdCallback = Callable[[str], Awaitable[None]]


def readable_api_error(message: ResultMessage | AssistantMessage) -> str:
    status = getattr(message, "api_error_status", None)
    detail = (getattr(message, "result", None) or str(getattr(message, "error", "") or "")).strip()
    reasons = {
        401: "The model service refused our credentials (401); check ANTHROPIC_API_KEY.",
        403: "The model service refused the request (403).",
        429: "The model service is rate limiting us (429); try again in a minute.",
    }
    if status in reasons:
        return reasons[status]
    if status and status >= 500:
        return f"The model service had an error ({status}); try again shortly."
    return f"The model service failed: {detail or 'unknown error'}"


class SessionActor:
    """Owns one agent conversation. `process_message` is serialised, so several tabs can share an actor."""

    def __init__(
        self,
        session_id: str,
        *,
        client_factory: ClientFactory,
        greet: bool = True,
        owner_id: object = None,
        on_delta: DeltaCallback | None = None,
        on_session_id: SessionIdCallback | None = None,
    ) -> None:
        self.session_id = session_id
        self.owner_id = owner_id  # the registry caps the agents of one user
        self.client_factory = client_factory
        self.greet = greet
        self.on_delta = on_delta
        self.on_session_id = on_session_id
        # Items carry their turn number, so a late answer to a timed-out turn is never taken for the next one.
        self.input_queue: asyncio.Queue[tuple[int, str] | None] = asyncio.Queue(maxsize=settings.QUEUE_MAX_SIZE)
        self.response_queue: asyncio.Queue[tuple[int, str | Exception]] = asyncio.Queue(maxsize=settings.QUEUE_MAX_SIZE)
        self._turn = 0
        self.greeting_queue: asyncio.Queue[str] = asyncio.Queue(maxsize=1)
        self.active_task: asyncio.Task[None] | None = None
        self._running_event = asyncio.Event()
        self._turn_lock = asyncio.Lock()
        self._client: AgentClient | None = None
        self.last_activity: float = time.time()
        self._is_processing = False
        self._turns_pending = 0

    @property
    def is_running(self) -> bool:
        return self._running_event.is_set()

    @property
    def is_processing(self) -> bool:
        return self._is_processing

    @property
    def is_busy(self) -> bool:
        """A turn is running or waiting for the one before it: stopping the actor now would lose it."""
        return self._turns_pending > 0

    def touch(self) -> None:
        self.last_activity = time.time()

    def is_expired(self, ttl: float | None = None) -> bool:
        return time.time() - self.last_activity > (settings.SESSION_TTL_SECONDS if ttl is None else ttl)

    async def start(self) -> None:
        self._running_event.set()
        self.active_task = asyncio.create_task(self._worker_loop(), name=f"agent-{self.session_id}")

    async def stop(self) -> None:
        """Send the sentinel, give the worker GRACEFUL_SHUTDOWN_TIMEOUT, then cancel it (seed 2.4)."""
        if not self._running_event.is_set() and self.active_task is None:
            return
        self._running_event.clear()
        with contextlib.suppress(asyncio.QueueFull):
            self.input_queue.put_nowait(None)
        task = self.active_task
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=settings.GRACEFUL_SHUTDOWN_TIMEOUT)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            logger.debug("Session %s: Worker force-cancelled", self.session_id)
        except asyncio.CancelledError:
            pass
        finally:
            self.active_task = None

    async def get_greeting(self) -> str:
        if not self._running_event.is_set():
            raise RuntimeError("Session is closed")
        self.touch()
        try:
            return await asyncio.wait_for(self.greeting_queue.get(), timeout=settings.GREETING_TIMEOUT_SECONDS)
        except TimeoutError:
            logger.warning("Session %s: Greeting timed out", self.session_id)
            return GREETING_FALLBACK

    async def process_message(self, message: str) -> str:
        """Send one message and wait for the whole answer (seed 2.6), one turn at a time."""
        self._turns_pending += 1
        try:
            async with self._turn_lock:
                return await self._process_message(message)
        finally:
            self._turns_pending -= 1

    async def _process_message(self, message: str) -> str:
        if not self._running_event.is_set() or not self.active_task:
            raise RuntimeError("Session is closed")
        self.touch()
        self._is_processing = True
        self._turn += 1
        turn = self._turn
        deadline = asyncio.get_running_loop().time() + settings.RESPONSE_TIMEOUT_SECONDS
        try:
            await self.input_queue.put((turn, message))
            while True:
                result = await self._next_response(deadline)
                if result[0] == turn:
                    if isinstance(result[1], Exception):
                        raise result[1]
                    return result[1]
                # The late answer of a turn that timed out earlier: not this message's answer.
                logger.info("Session %s: dropped the late answer of turn %s", self.session_id, result[0])
        finally:
            self._is_processing = False
            self.touch()

    async def _next_response(self, deadline: float) -> tuple[int, str | Exception]:
        """The next answer, or TimeoutError at the deadline, or RuntimeError when the worker dies first."""
        assert self.active_task is not None
        get_response = asyncio.create_task(self.response_queue.get())
        timeout = max(0.0, deadline - asyncio.get_running_loop().time())
        done, _ = await asyncio.wait(
            [get_response, self.active_task], timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if get_response in done:
            return get_response.result()
        get_response.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await get_response
        if not done:
            await self.cancel()  # stop the turn at the CLI too, so the next message starts clean
            raise TimeoutError(f"Response timed out after {settings.RESPONSE_TIMEOUT_SECONDS:g} seconds")
        try:
            await self.active_task
        except Exception as exc:
            raise RuntimeError(f"Session worker crashed: {exc}") from exc
        raise RuntimeError("Session worker stopped unexpectedly")

    async def cancel(self) -> None:
        """Interrupt the turn in progress (the user pressed Cancel, or it timed out)."""
        if self._client is not None and self._is_processing:
            with contextlib.suppress(Exception):
                await self._client.interrupt()

    async def _collect(self, client: AgentClient) -> str:
        """Read one turn: stream text deltas, gather the answer, turn API failures into AgentError."""
        parts: list[str] = []
        failure: str | None = None
        async for message in client.receive_response():
            if isinstance(message, StreamEvent):
                delta = message.event.get("delta", {}) if message.event.get("type") == "content_block_delta" else {}
                if delta.get("type") == "text_delta" and self.on_delta:
                    await self.on_delta(delta.get("text", ""))
            elif isinstance(message, AssistantMessage):
                if message.error:
                    failure = failure or readable_api_error(message)
                parts.extend(block.text for block in message.content if isinstance(block, TextBlock))
            elif isinstance(message, ResultMessage):
                if message.session_id and self.on_session_id:
                    await self.on_session_id(message.session_id)
                if message.is_error:
                    failure = readable_api_error(message)
        if failure:
            raise AgentError(failure)
        return "\n".join(part for part in parts if part)

    async def _worker_loop(self) -> None:
        logger.info("Session %s: Worker started", self.session_id)
        try:
            async with self.client_factory() as client:
                self._client = client
                if self.greet:
                    try:
                        await client.query(GREETING_PROMPT)
                        greeting = await self._collect(client)
                        await self.greeting_queue.put(greeting or GREETING_ERROR)
                    except Exception as exc:
                        logger.error("Session %s: Greeting failed: %s", self.session_id, exc)
                        await self.greeting_queue.put(GREETING_ERROR)
                logger.info("Session %s: Ready for input", self.session_id)
                while self._running_event.is_set():
                    try:
                        item = await asyncio.wait_for(self.input_queue.get(), timeout=1.0)
                    except TimeoutError:
                        continue
                    if item is None:
                        break
                    turn, user_message = item
                    try:
                        await client.query(user_message)
                        await self.response_queue.put((turn, await self._collect(client)))
                    except AgentError as exc:
                        logger.warning("Session %s: Model service error: %s", self.session_id, exc)
                        await self.response_queue.put((turn, exc))
                    except Exception as exc:
                        logger.error("Session %s: Error processing message: %s", self.session_id, exc)
                        await self.response_queue.put((turn, exc))
                        if not self._client_alive(exc):
                            raise
        except asyncio.CancelledError:
            logger.info("Session %s: Worker cancelled", self.session_id)
            raise
        except Exception as exc:
            logger.error("Session %s: Worker crashed: %s", self.session_id, exc, exc_info=True)
        finally:
            self._client = None
            self._running_event.clear()
            logger.info("Session %s: Worker shutdown", self.session_id)

    @staticmethod
    def _client_alive(exc: Exception) -> bool:
        """A dead CLI process cannot take another message; end the worker so the registry replaces it."""
        from claude_agent_sdk import CLIConnectionError, ProcessError

        return not isinstance(exc, ProcessError | CLIConnectionError)
