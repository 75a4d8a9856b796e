"""Where jobs run, behind one seam: `submit(job_id)` hands a recorded job to the configured runner and returns a
handle to wait on. The job service and its callers (agent tool, REST, web page, command line) never know which
runner it is.

- local (the embedded default): a thread pool in this process; downloads overlap, transcriptions take a slot,
  and Whisper itself runs in this process's one Whisper child process (transcripts.whisper_process).
- celery (a broker is configured): a message to the transcription queue; a worker (`make worker`) claims the job
  row and runs it (transcripts.tasks). Progress reaches every websocket through the channel layer either way, and
  the job row in the database is the state a handle, the REST API and the pages read.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from channels.db import database_sync_to_async
from django.conf import settings

from transcripts.errors import QueueUnavailable
from transcripts.liveness import heartbeat
from transcripts.models import TranscriptionJob

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.5  # how often a handle of a job on a worker looks at the job row
LOCAL_THREADS = 8  # jobs of one process at once (downloads overlap; transcriptions wait for a slot)
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


@dataclass
class JobHandle:
    """A submitted job. `wait` and `wait_async` return the job row once it has ended (done, failed, cancelled)."""

    job_id: uuid.UUID
    future: Future[object] | None = None  # local runs: the thread's future

    def wait(self, timeout: float | None = None) -> TranscriptionJob:
        deadline = None if timeout is None else time.monotonic() + timeout
        if self.future is not None:
            self.future.result(timeout)
        while True:
            job = TranscriptionJob.objects.get(pk=self.job_id)
            if not job.is_active:
                return job
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"Job {self.job_id} still runs")
            time.sleep(POLL_SECONDS)

    async def wait_async(self) -> TranscriptionJob:
        if self.future is not None:
            await asyncio.wrap_future(self.future)
        while True:
            job = await database_sync_to_async(TranscriptionJob.objects.get)(pk=self.job_id)
            if not job.is_active:
                return job
            await asyncio.sleep(POLL_SECONDS)


def uses_workers() -> bool:
    """Whether jobs run on Celery workers rather than in this process."""
    return settings.TRANSCRIPTION_RUNNER == "celery"


def submit(job_id: uuid.UUID) -> JobHandle:
    """Hand a recorded, queued job to the runner. QueueUnavailable when the broker cannot take it."""
    if uses_workers():
        return _submit_to_workers(job_id)
    return _submit_local(job_id)


def _submit_local(job_id: uuid.UUID) -> JobHandle:
    from transcripts.pipeline import execute_job

    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=LOCAL_THREADS, thread_name_prefix="transcription-job")
    heartbeat.ensure_running()  # queued jobs of this process stay visibly alive to other hosts
    future = _executor.submit(execute_job, job_id)
    future.add_done_callback(_log_failure)
    return JobHandle(job_id, future)


def _submit_to_workers(job_id: uuid.UUID) -> JobHandle:
    from transcripts.tasks import transcribe_job

    try:
        # No retries: a broker that is down answers within its connect timeout, not after minutes.
        transcribe_job.apply_async(args=[str(job_id)], retry=False)
    except Exception as exc:  # kombu/redis raise several kinds; all mean the message was not queued
        logger.warning("Could not queue job %s: %s", job_id, exc)
        raise QueueUnavailable(
            "The transcription queue is unavailable right now, so nothing was started. Please try again in a minute."
        ) from exc
    return JobHandle(job_id)


def _log_failure(future: Future[object]) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.error("Background transcription job crashed", exc_info=future.exception())
