"""Files a user uploaded for transcription."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models

from accounts.owned import OwnedQuerySet


def upload_path(instance: Upload, filename: str) -> str:
    # The stored name is ours (owner id + uuid + a checked extension); the user's name is kept only as data.
    suffix = Path(filename).suffix.lower()
    return f"uploads/{instance.owner_id}/{instance.id}{suffix}"


class Upload(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploads")
    original_name = models.CharField(max_length=255)
    file = models.FileField(upload_to=upload_path, max_length=300)
    size = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name
