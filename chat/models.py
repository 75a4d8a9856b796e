"""Chat sessions and their messages (seed 4.1, stored in the database instead of JSON files)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from accounts.owned import OwnedQuerySet

TITLE_LENGTH = 50


def title_from_message(content: str) -> str:
    """Seed 4.1: the first 50 characters of the first user message, with "..." when cut."""
    content = " ".join(content.split())
    return content[:TITLE_LENGTH] + ("..." if len(content) > TITLE_LENGTH else "")


class ChatSession(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_sessions")
    title = models.CharField(max_length=TITLE_LENGTH + 3, blank=True)
    agent_session_id = models.CharField(
        max_length=100, blank=True, help_text="The Claude session id, used to resume the conversation."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.title or f"Chat {self.id}"


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user"
        AGENT = "agent"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=10, choices=Role.choices)
    content = models.TextField()
    timestamp = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["timestamp", "id"]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"


class AgentTranscriptEntry(models.Model):
    """One line of the Claude CLI's own session transcript, mirrored here so a chat resumes in any process."""

    project_key = models.CharField(max_length=255)
    agent_session_id = models.CharField(max_length=100)
    subpath = models.CharField(max_length=255, blank=True)
    entry_uuid = models.CharField(max_length=100, blank=True)
    entry = models.JSONField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["agent_session_id", "subpath"])]

    def __str__(self) -> str:
        return f"{self.agent_session_id} #{self.pk}"
