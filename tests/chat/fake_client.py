"""A stand-in for ClaudeSDKClient to drive SessionActor without a CLI (the real one is tested end to end too)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
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
