"""Deleting an upload row removes the stored file."""

from __future__ import annotations

from django.db.models.signals import post_delete
from django.dispatch import receiver

from uploads.models import Upload


@receiver(post_delete, sender=Upload)
def remove_upload_file(sender: type[Upload], instance: Upload, **kwargs: object) -> None:
    if instance.file:
        instance.file.delete(save=False)
