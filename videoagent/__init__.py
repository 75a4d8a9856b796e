"""The project package. Importing it makes the Celery app current, so tasks bind to it (Celery's Django pattern)."""

from videoagent.celery import app as celery_app

__all__ = ("celery_app",)
