"""Reading the chat's data: the owner's sessions and their messages (writes are in chat.services).

Lookups are scoped to the owner: another user's session raises the same NotFound as a missing one, and the edges
turn it into their answer (a 404 page or JSON body, websocket close 4404).
"""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet

from accounts.owned import NotFound
from chat.models import ChatSession, Message


def sessions_for(*, owner: AbstractBaseUser) -> QuerySet[ChatSession]:
    """The owner's sessions, most recently updated first (seed 4.1)."""
    return ChatSession.objects.for_owner(owner).order_by("-updated_at")


def get_session_for(*, owner: AbstractBaseUser, session_id: uuid.UUID | str) -> ChatSession:
    """The owner's session, or NotFound: another user's id looks exactly like a missing one."""
    return ChatSession.objects.get_owned(owner, session_id)


def list_sessions(*, owner: AbstractBaseUser, limit: int = 50) -> list[ChatSession]:
    """The owner's sessions, most recently updated first, with message counts."""
    return list(sessions_for(owner=owner).annotate(message_count=Count("messages"))[:limit])


def latest_session_for(*, owner: AbstractBaseUser) -> ChatSession | None:
    return sessions_for(owner=owner).first()


def session_messages(*, session_id: uuid.UUID | str) -> list[Message]:
    """A session's messages, oldest first (the history a tab gets when it connects)."""
    return list(Message.objects.filter(session_id=session_id).order_by("timestamp", "id"))


def session_exists(*, session_id: uuid.UUID | str) -> bool:
    return ChatSession.objects.filter(id=session_id).exists()


def has_messages(*, session_id: uuid.UUID | str) -> bool:
    return Message.objects.filter(session_id=session_id).exists()


def stored_agent_session_id(*, session_id: uuid.UUID | str) -> str:
    """The Claude session id a new actor of this chat resumes ("" before the first answer)."""
    return ChatSession.objects.values_list("agent_session_id", flat=True).get(id=session_id)


def get_session_with_owner(*, session_id: uuid.UUID | str, owner_id: object) -> ChatSession:
    """A session together with its owner, for work that arrives without a request (a message forwarded from another
    server process); NotFound unless the session is that user's."""
    try:
        return ChatSession.objects.select_related("owner").get(id=session_id, owner_id=owner_id)
    except (ChatSession.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise NotFound("Chat session not found") from exc
