"""Where jobs run: worker threads in this process, with a bounded number of transcriptions at once.

This is the seam for scaling out: a distributed task queue can replace `submit` without touching callers.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings

logger = logging.getLogger(__name__)
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_slots: dict[int, threading.BoundedSemaphore] = {}


def submit(fn: Callable[..., object], *args: object) -> Future[object]:
    """Run fn in a background worker thread. Downloads can overlap; transcription itself takes a slot."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="transcription-job")
    future = _executor.submit(fn, *args)
    future.add_done_callback(_log_failure)
    return future


def _log_failure(future: Future[object]) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.error("Background transcription job crashed", exc_info=future.exception())


def _slot() -> threading.BoundedSemaphore:
    limit = max(1, settings.TRANSCRIPTION_CONCURRENCY)
    with _executor_lock:
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
