"""The websocket protocol, declared once. The README documents the same shapes.

Client → server: `{"type": "message", "text": str}` and `{"type": "cancel"}`.
Server → client: the events below, as JSON objects with a "type" key.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, TypedDict


class AgentStatus(StrEnum):
    """Seed 5.1."""

    INITIALIZING = "initializing"
    READY = "ready"
    PROCESSING = "processing"
    ERROR = "error"


class MessageIn(TypedDict):
    type: Literal["message"]
    text: str


class CancelIn(TypedDict):
    type: Literal["cancel"]


class StatusEvent(TypedDict):
    type: Literal["status"]
    status: str  # an AgentStatus value
    message: str | None


class ChatMessageEvent(TypedDict):
    type: Literal["message"]
    id: str
    role: str  # "user" | "agent"
    content: str
    html: str  # an agent message's content as sanitised HTML (chat/markdown.py); "" for a user's message
    timestamp: str  # ISO 8601


class HistoryEvent(TypedDict):
    type: Literal["history"]
    session_id: str
    title: str
    messages: list[ChatMessageEvent]


class DeltaEvent(TypedDict):
    """A piece of the agent's answer as it streams; the full answer follows as a `message` event."""

    type: Literal["delta"]
    text: str


class TitleEvent(TypedDict):
    """The chat got its title (from the first user message)."""

    type: Literal["title"]
    title: str


class ErrorEvent(TypedDict):
    type: Literal["error"]
    message: str


def chat_group(session_id: object) -> str:
    return f"chat_{session_id}"
