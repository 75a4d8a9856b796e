"""Stopping a Daphne server in order on SIGTERM (or Ctrl-C), within a bound.

Daphne stops its Twisted reactor on SIGTERM, cancels the open connections and returns, but the agents' Claude CLI
processes and background work still belong to the process: without this, a server with one used chat was still
running 150 s after SIGTERM. Here, before the reactor shuts down: new chat connections are refused, every agent is
stopped (graceful, then cancelled, each in GRACEFUL_SHUTDOWN_TIMEOUT, all at once), which ends its CLI process,
and this process's unfinished transcription jobs are left queued, to start again at the next start. A watchdog
then makes sure the process exits a few seconds later even if a worker thread (a transcription in progress) would
hold it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

EXIT_MARGIN_SECONDS = 3.0  # after the agents' graceful stop, before the process is made to exit
_shutting_down = threading.Event()


def is_shutting_down() -> bool:
    """True once the server is stopping: new chat connections are refused."""
    return _shutting_down.is_set()


def install_for_daphne() -> None:
    """Register the shutdown steps with Daphne's reactor (nothing under another server or in tests)."""
    if "daphne.server" not in sys.modules:
        return
    from twisted.internet import reactor

    reactor.addSystemEventTrigger("before", "shutdown", _before_shutdown)  # type: ignore[attr-defined]
    reactor.addSystemEventTrigger("after", "shutdown", _start_exit_watchdog)  # type: ignore[attr-defined]


def _before_shutdown() -> Any:
    from twisted.internet import defer

    _shutting_down.set()
    _start_exit_watchdog(settings.GRACEFUL_SHUTDOWN_TIMEOUT + 2 * EXIT_MARGIN_SECONDS)
    logger.info("Shutting down: stopping agents; unfinished jobs start again at the next start")
    deferred = defer.Deferred.fromFuture(asyncio.ensure_future(stop_everything()))
    deferred.addErrback(lambda failure: logger.error("Shutdown step failed: %s", failure.getErrorMessage()))
    return deferred  # the reactor waits for it before it stops


async def stop_everything() -> None:
    """Stop every agent of this process at once, then leave its unfinished jobs for the next start."""
    from channels.db import database_sync_to_async

    from chat.registry import registry
    from transcripts.recovery import suspend_own_jobs
    from transcripts.sweep import sweeper

    try:
        await asyncio.wait_for(registry.stop_all(), timeout=settings.GRACEFUL_SHUTDOWN_TIMEOUT + EXIT_MARGIN_SECONDS)
    except TimeoutError:
        logger.warning("Some agents did not stop in time")
    await asyncio.to_thread(sweeper.stop)  # a stopping process takes no other process's job
    await database_sync_to_async(suspend_own_jobs)()


def _start_exit_watchdog(seconds: float = EXIT_MARGIN_SECONDS) -> None:
    """Exit the process after `seconds` unless it has exited by then (a daemon timer never holds it up itself)."""

    def exit_now() -> None:
        logger.warning("Shutdown: exiting now; unfinished jobs start again at the next start")
        logging.shutdown()
        os._exit(0)

    timer = threading.Timer(seconds, exit_now)
    timer.daemon = True
    timer.start()
