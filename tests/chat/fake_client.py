"""A stand-in for ClaudeSDKClient to drive SessionActor without a CLI (the real one is tested end to end too)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from claude_agent_sdk import AssistantMessage, ResultMessage, TextBlock


class FakeClient:
    """Answers each query with `answer(prompt)`, after `delay` seconds; `fail` raises for a prompt."""

    instances: list[FakeClient] = []

    def __init__(self, *, delay: float = 0.0, greeting: str = "Hello from the fake agent!") -> None:
        self.delay = delay
        self.greeting = greeting
        self.prompts: list[str] = []
        self.entered = 0
        self.interrupted = 0
        FakeClient.instances.append(self)

    async def __aenter__(self) -> FakeClient:
        self.entered += 1
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def query(self, prompt: str) -> None:
        self.prompts.append(prompt)
        if prompt == "explode":
            raise ValueError("this message cannot be processed")

    async def interrupt(self) -> None:
        self.interrupted += 1

    async def receive_response(self) -> AsyncIterator[Any]:
        await asyncio.sleep(self.delay)
        prompt = self.prompts[-1]
        text = self.greeting if prompt.startswith("Start the conversation") else f"echo: {prompt}"
        yield AssistantMessage(content=[TextBlock(text=text)], model="fake")
        yield ResultMessage(
            subtype="success", duration_ms=1, duration_api_ms=1, is_error=False, num_turns=1, session_id="fake-session"
        )


class GatedClient(FakeClient):
    """A FakeClient that holds each answer until `gate` is set, so a test decides when turns finish."""

    def __init__(self, gate: asyncio.Event, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gate = gate

    async def receive_response(self) -> AsyncIterator[Any]:
        await self.gate.wait()
        async for message in super().receive_response():
            yield message


class FakeAgent:
    """Stands in for every agent CLI the chat starts (see the `fake_agent` fixture); answers flow while `gate` is
    set, and `clients` are all the clients started, in order."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.gate.set()
        self.clients: list[GatedClient] = []

    def client_factory(self, **kwargs: Any) -> Callable[[], GatedClient]:
        def start() -> GatedClient:
            self.clients.append(GatedClient(self.gate))
            return self.clients[-1]

        return start

    def user_prompts(self) -> list[str]:
        """What reached the model, greetings left out."""
        return [p for c in self.clients for p in c.prompts if not p.startswith("Start the conversation")]
