"""The Celery task of the transcription queue: one job, claimed in the database, run by transcripts.pipeline.

The task itself holds no state: the message carries only the job id. Run twice (a redelivery, or the sweep's new
message beside the original one), the claim makes the second run a no-op while the first runner lives or once the
job has ended, and a fresh start once its runner has died.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready, worker_shutting_down

logger = logging.getLogger(__name__)


@shared_task(name="transcripts.tasks.transcribe_job")
def transcribe_job(job_id: str) -> None:
    from transcripts.pipeline import execute_job

    execute_job(job_id)


@worker_ready.connect
def _prepare_worker(**kwargs: object) -> None:
    """A starting worker fails the jobs that the queue lost, hands on the jobs of dead runners (then keeps sweeping
    for them, transcripts.sweep), sweeps stale work files, and loads the default Whisper model, which it then keeps
    for every job."""
    from django.conf import settings

    from transcripts.engine.whisper import load_model
    from transcripts.pipeline import engine_config
    from transcripts.recovery import recover_interrupted_jobs, sweep_work_dirs
    from transcripts.sweep import sweep_once, sweeper

    recover_interrupted_jobs()
    sweep_once()
    sweep_work_dirs()
    sweeper.start()
    load_model(engine_config())
    logger.info("Worker ready: model %s loaded", settings.WHISPER_MODEL)


@worker_shutting_down.connect
def _stop_sweeping(sig: str = "", how: str = "", **kwargs: object) -> None:
    # Warm shutdown (SIGTERM) lets the running job finish; a cold one (or a kill) leaves its message
    # unacknowledged and the job's heartbeat stops, so a live worker's sweep soon publishes the job again (and
    # RabbitMQ hands the message back at once). A stopping worker takes no other worker's job.
    from transcripts.sweep import sweeper

    logger.info("Worker stopping (%s, %s shutdown)", sig, how)
    sweeper.stop()
