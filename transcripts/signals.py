"""Deleting a transcript (one row, a queryset, the admin's bulk action) removes its files too."""

from __future__ import annotations

from django.db.models.signals import post_delete
from django.dispatch import receiver

from transcripts.models import Transcript


@receiver(post_delete, sender=Transcript)
def remove_transcript_files(sender: type[Transcript], instance: Transcript, **kwargs: object) -> None:
    instance.remove_files()
