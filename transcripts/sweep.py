"""The sweep: a job whose runner died runs again, handed on by exactly one live process, without the broker's help.

With Redis as the broker an unacknowledged message comes back only after the visibility timeout, which must stay
longer than the longest job (else a long job would run twice), so a killed worker's job would wait hours. The job
row knows much sooner: its runner's heartbeat stops (transcripts.liveness). So every Celery worker, and the web
process in the embedded mode, sweeps when it starts and then every JOB_SWEEP_SECONDS: each active job whose
runner is dead is taken by one sweeper (a conditional UPDATE that only matches the row as the sweeper read it) and
submitted again through the runner seam. The process that then runs it counts the attempt in its claim; a job
that has used up TRANSCRIPTION_MAX_ATTEMPTS fails here with the claim's message. The original message, delivered
late, does nothing: by then its claim finds the job running on a live runner, or ended.

With the defaults, a killed worker's job is running again within JOB_HEARTBEAT_TIMEOUT_SECONDS + JOB_SWEEP_SECONDS
(about 95 s), sooner on the same host, where a dead pid is seen at once. In the embedded mode the sweep at start is
how a restarted server resumes the jobs that the process before it left unfinished.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from transcripts import runner
from transcripts.errors import QueueUnavailable
from transcripts.liveness import current_runner_id, fail_out_of_attempts, out_of_attempts, runner_alive
from transcripts.models import ACTIVE_JOB_STATUSES, JobStatus, TranscriptionJob
from transcripts.progress import ProgressReporter

logger = logging.getLogger(__name__)

STARTING_AGAIN = "Starting again: the process that ran it stopped"


def jobs_of_dead_runners() -> list[TranscriptionJob]:
    """The active jobs that no live process will finish: their runner is a dead process (transcripts.liveness).

    With workers, a job without a runner is not one of them: it waits in the broker (not started yet, or published
    again by a sweep), which delivers it. In the embedded mode nothing else would ever run it."""
    jobs = TranscriptionJob.objects.filter(status__in=ACTIVE_JOB_STATUSES).order_by("created_at")
    if runner.uses_workers():
        jobs = jobs.exclude(runner="")
    return [job for job in jobs if not runner_alive(job.runner, job.heartbeat_at)]


def take_job(job: TranscriptionJob) -> bool:
    """Make the job, as read in `job`, this sweeper's to hand on; False when another sweeper took it first.

    The UPDATE matches only the row as it was read (same runner, same heartbeat), so of two sweepers that read it
    at once only the first matches: on PostgreSQL the second waits for the first's row lock and then finds the row
    changed. The new runner is the one the claim will accept: none with workers (any worker may claim it), this
    process in the embedded mode (it runs the job itself, and a job of a live runner is not swept again)."""
    new_runner = "" if runner.uses_workers() else current_runner_id()
    taken = TranscriptionJob.objects.filter(
        pk=job.pk, status__in=ACTIVE_JOB_STATUSES, runner=job.runner, heartbeat_at=job.heartbeat_at
    ).update(runner=new_runner, heartbeat_at=timezone.now(), status=JobStatus.QUEUED, stage=STARTING_AGAIN)
    return taken == 1


def run_again(job: TranscriptionJob) -> runner.JobHandle | None:
    """Take a dead runner's job and submit it again; its handle, or None when it did not go back to the runner
    (another sweeper took it, it was cancelled, or it has no attempt left). QueueUnavailable when the broker cannot
    take it: then nothing changed, and the next sweep tries again."""
    with transaction.atomic():
        if not take_job(job):
            return None
        job.refresh_from_db()
        if job.cancel_requested:  # its owner asked to stop it before its runner died
            job.status, job.stage, job.finished_at = JobStatus.CANCELLED, "Cancelled", timezone.now()
            job.save(update_fields=["status", "stage", "finished_at"])
            ProgressReporter(job).announce("Cancelled")
            return None
        if out_of_attempts(job):
            fail_out_of_attempts(job)
            ProgressReporter(job).announce(job.error)
            return None
        logger.warning("Job %s: its runner is gone; submitting it again (attempt %d next)", job.id, job.attempts + 1)
        ProgressReporter(job).announce(STARTING_AGAIN)
        # Published inside the transaction, so that a publish that fails rolls the take back. The other order would
        # be worse: a take committed without a message leaves the job waiting for nothing, while a message whose take
        # rolls back only finds the dead runner and starts the job (its claim waits for this transaction to end).
        return runner.submit(job.id)


def sweep_once() -> list[runner.JobHandle]:
    """One sweep: every job of a dead runner goes back to the runner (or ends, as run_again says); the handles
    of the jobs submitted again."""
    handles = []
    for job in jobs_of_dead_runners():
        try:
            handle = run_again(job)
        except QueueUnavailable:
            logger.warning("The queue is unavailable; the next sweep submits job %s again", job.id)
            break  # the same holds for the jobs after it
        if handle is not None:
            handles.append(handle)
    return handles


class Sweeper:
    """One daemon thread per process that sweeps every JOB_SWEEP_SECONDS until stopped (its owner sweeps once
    itself at start, where it needs the result before going on)."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, args=(self._stop,), name="job-sweep", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """End the thread after the sweep in progress, if any."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
        if thread is not None:
            thread.join(timeout)

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(settings.JOB_SWEEP_SECONDS):
            try:
                sweep_once()
            except Exception:  # a database or broker hiccup must not end the sweep for good
                logger.warning("The job sweep failed; trying again in %s s", settings.JOB_SWEEP_SECONDS, exc_info=True)
            finally:
                close_old_connections()


sweeper = Sweeper()
