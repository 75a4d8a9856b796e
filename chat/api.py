"""Chat endpoints: status (seed 5.1) and history (seed 5.2), scoped to the caller's own sessions."""

from __future__ import annotations

import uuid
from datetime import datetime

from asgiref.sync import async_to_sync
from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from chat import cluster, selectors, services
from chat.models import ChatSession, Message
from videoagent.api_errors import COMMON_ERRORS, ErrorOut

router = Router(tags=["chat"])


class StatusOut(Schema):
    status: str
    session_id: str | None = None
    message: str | None = None


class ChatMessageOut(Schema):
    id: uuid.UUID
    role: str
    content: str
    timestamp: datetime


class SessionSummaryOut(Schema):
    session_id: uuid.UUID = Field(validation_alias="id")
    title: str
    created_at: datetime
    updated_at: datetime
    message_count: int


class SessionDetailOut(Schema):
    session_id: uuid.UUID = Field(validation_alias="id")
    title: str
    created_at: datetime
    updated_at: datetime
    messages: list[ChatMessageOut]

    @staticmethod
    def resolve_messages(obj: ChatSession) -> list[Message]:
        return selectors.session_messages(session_id=obj.id)


class HistoryListOut(Schema):
    sessions: list[SessionSummaryOut]
    total: int


class DeletedOut(Schema):
    success: bool


@router.get("/status/{session_id}", response={200: StatusOut, 404: ErrorOut, **COMMON_ERRORS})
def get_status(request: HttpRequest, session_id: uuid.UUID) -> StatusOut:
    """The agent's state for one of your chats: initializing, ready, processing or error."""
    selectors.get_session_for(owner=request.user, session_id=session_id)  # NotFound: a JSON 404
    # Asked of the server process whose agent owns the chat, which may be another one (chat.cluster).
    status, message = async_to_sync(cluster.status)(session_id)
    return StatusOut(status=str(status), session_id=str(session_id), message=message)


@router.get("/history", response={200: HistoryListOut, **COMMON_ERRORS})
def list_history(request: HttpRequest, limit: int = 50) -> HistoryListOut:
    sessions = selectors.list_sessions(owner=request.user, limit=max(1, min(limit, 200)))
    return HistoryListOut(sessions=sessions, total=len(sessions))


@router.post("/history", response={201: SessionSummaryOut, 401: ErrorOut})
def create_history(request: HttpRequest) -> Status:
    """Start a new chat; connect to ws/chat/<session_id>/ to talk in it."""
    session = services.create_session(owner=request.user)
    session.message_count = 0
    return Status(201, session)


@router.get("/history/{session_id}", response={200: SessionDetailOut, 404: ErrorOut, **COMMON_ERRORS})
def get_history(request: HttpRequest, session_id: uuid.UUID) -> ChatSession:
    return selectors.get_session_for(owner=request.user, session_id=session_id)


@router.delete("/history/{session_id}", response={200: DeletedOut, 404: ErrorOut, **COMMON_ERRORS})
def delete_history(request: HttpRequest, session_id: uuid.UUID) -> DeletedOut:
    services.delete_session(owner=request.user, session_id=session_id)
    return DeletedOut(success=True)
