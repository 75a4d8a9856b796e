"""What the job service raises; str() of each is a message for the user."""

from __future__ import annotations


class TranscriptionError(Exception):
    """A transcription that cannot be done (bad input, a refused choice, a job in the wrong state)."""


class QueueUnavailable(TranscriptionError):
    """The job queue (the Celery broker) cannot take the job now; nothing was stored. Try again later."""
