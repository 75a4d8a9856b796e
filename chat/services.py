"""What the chat does with its data: sessions and messages (seed 4.1 and 5.5). Reads are in chat.selectors."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from accounts.owned import NotFound
from chat.models import ChatSession, Message, title_from_message
from chat.selectors import list_sessions as list_sessions  # tests/test_models.py still reads it here

CHAT_DELETED = "This chat was deleted; open another one to go on."


def create_session(*, owner: AbstractBaseUser) -> ChatSession:
    return ChatSession.objects.create(owner=owner)


@transaction.atomic
def save_message(*, session: ChatSession, role: str, content: str) -> Message:
    """Store a message; the first user message gives the session its title; the session's update time moves.
    NotFound when the session was deleted meanwhile (in another tab, over the API): its row is locked first, so a
    delete either happens before (nothing saved) or waits for this one."""
    if not ChatSession.objects.select_for_update().filter(id=session.id).exists():
        raise NotFound(CHAT_DELETED)
    message = Message.objects.create(session=session, role=role, content=content)
    if not session.title and role == Message.Role.USER:
        # Only while the chat is untitled in the database: `session` may be another tab's copy (or another server
        # process's), loaded before that tab's first message named the chat.
        ChatSession.objects.filter(id=session.id, title="").update(title=title_from_message(content))
        session.refresh_from_db(fields=["title"])
    session.save(update_fields=["updated_at"])
    return message


def store_agent_session_id(*, session_id: uuid.UUID | str, agent_session_id: str) -> None:
    """Remember the Claude session id, so the chat's next actor (in any server process) resumes it."""
    ChatSession.objects.filter(id=session_id).exclude(agent_session_id=agent_session_id).update(
        agent_session_id=agent_session_id
    )


@transaction.atomic
def delete_session(*, owner: AbstractBaseUser, session_id: uuid.UUID | str) -> None:
    """Delete the owner's session with its messages; NotFound for anyone else's. Its row is locked first, as
    save_message locks it: a message being saved is deleted with the chat, and one saved later is refused."""
    ChatSession.objects.select_for_update().get_owned(owner, session_id).delete()
