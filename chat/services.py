"""What the chat does with its data: sessions and messages (seed 4.1 and 5.5)."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import Http404

from chat.models import ChatSession, Message, title_from_message


def create_session(*, owner: AbstractBaseUser) -> ChatSession:
    return ChatSession.objects.create(owner=owner)


def get_session_for(*, owner: AbstractBaseUser, session_id: uuid.UUID | str) -> ChatSession:
    """The owner's session, or Http404: another user's id looks exactly like a missing one."""
    try:
        return ChatSession.objects.get(id=session_id, owner=owner)
    except (ChatSession.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Chat session not found") from exc


@transaction.atomic
def save_message(*, session: ChatSession, role: str, content: str) -> Message:
    """Store a message; the first user message gives the session its title; the session's update time moves."""
    message = Message.objects.create(session=session, role=role, content=content)
    update_fields = ["updated_at"]
    if not session.title and role == Message.Role.USER:
        session.title = title_from_message(content)
        update_fields.append("title")
    session.save(update_fields=update_fields)
    return message


def list_sessions(*, owner: AbstractBaseUser, limit: int = 50) -> list[ChatSession]:
    """The owner's sessions, most recently updated first (seed 4.1), with message counts."""
    from django.db.models import Count

    queryset = ChatSession.objects.filter(owner=owner).annotate(message_count=Count("messages"))
    return list(queryset.order_by("-updated_at")[:limit])


def delete_session(*, owner: AbstractBaseUser, session_id: uuid.UUID | str) -> None:
    get_session_for(owner=owner, session_id=session_id).delete()
