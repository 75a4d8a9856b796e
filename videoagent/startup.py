"""Work done once when a server process starts (Daphne imports videoagent.asgi exactly once)."""

from __future__ import annotations

import logging
import os

from django.db import DatabaseError

logger = logging.getLogger(__name__)


def on_server_start() -> None:
    # Tests import the ASGI application many times against a test database; they call this themselves.
    if os.environ.get("VIDEOAGENT_SKIP_STARTUP") == "1":
        return
    from videoagent.shutdown import install_for_daphne

    install_for_daphne()
    from transcripts import runner
    from transcripts.recovery import recover_interrupted_jobs, sweep_work_dirs
    from transcripts.sweep import sweep_once, sweeper

    try:
        if runner.uses_workers():
            recover_interrupted_jobs()  # the workers sweep for dead runners' jobs, not the web processes
        else:
            # The embedded runner: resume what the last run of the server (or another process) left unfinished.
            resumed = sweep_once()
            if resumed:
                logger.warning("Resumed %d unfinished transcription job(s)", len(resumed))
        sweep_work_dirs()
    except DatabaseError:
        logger.warning("Could not check for unfinished jobs (has `manage.py migrate` run?)", exc_info=True)
    if not runner.uses_workers():
        sweeper.start()
