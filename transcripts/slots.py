"""Transcription slots: at most TRANSCRIPTION_CONCURRENCY transcriptions at once in one process (a web process in
the embedded mode, or a Celery worker), so parallel jobs wait instead of exhausting memory. Downloads do not take
a slot."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from django.conf import settings

_lock = threading.Lock()
_slots: dict[int, threading.BoundedSemaphore] = {}


def _slot() -> threading.BoundedSemaphore:
    limit = max(1, settings.TRANSCRIPTION_CONCURRENCY)
    with _lock:
        return _slots.setdefault(limit, threading.BoundedSemaphore(limit))


def slot_is_free() -> bool:
    slot = _slot()
    if slot.acquire(blocking=False):
        slot.release()
        return True
    return False


@contextlib.contextmanager
def transcription_slot() -> Iterator[None]:
    """Hold one of TRANSCRIPTION_CONCURRENCY slots, so parallel jobs queue instead of exhausting memory."""
    slot = _slot()
    with slot:
        yield
