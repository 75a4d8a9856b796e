"""Who runs a job, and whether that runner still lives: the runner id, heartbeats, and the claim.

A job records its runner (`host:pid:process start time`). While a process runs jobs, one heartbeat thread
refreshes `heartbeat_at` on all of them every JOB_HEARTBEAT_SECONDS. A runner is alive when it is this process,
when it is a process on this host that /proc still shows, or (another host, which we cannot see) when its
heartbeat is younger than JOB_HEARTBEAT_TIMEOUT_SECONDS. The sweep (transcripts.sweep) and a redelivered Celery
job rely on this to tell a job in progress from one whose process died.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from transcripts.models import ACTIVE_JOB_STATUSES, JobStatus, TranscriptionJob

logger = logging.getLogger(__name__)


def _process_start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot ("" where /proc is missing or the process is gone).

    With the pid it names one process for good: after a restart a new process may get the same pid (a container's
    server is often pid 1 again), and the start time tells the two apart.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rpartition(")")[2].split()[19]  # field 22; the command name before ")" may hold spaces


def _runner_id_of_this_process() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_process_start_time(pid)}"


RUNNER_ID = _runner_id_of_this_process()


def current_runner_id() -> str:
    """This process's runner id (recomputed after a fork: a prefork worker's child is a runner of its own)."""
    global RUNNER_ID
    if RUNNER_ID.split(":")[1] != str(os.getpid()):
        RUNNER_ID = _runner_id_of_this_process()
    return RUNNER_ID


def runner_alive(runner_id: str, heartbeat_at: object = None) -> bool:
    """Whether the process named `host:pid:start time` may still be running a job that it last beat at
    `heartbeat_at` (a datetime or None)."""
    if not runner_id:
        return False
    if runner_id == current_runner_id():
        return True
    host, _, rest = runner_id.partition(":")
    pid_text, _, started = rest.partition(":")
    if host != socket.gethostname():
        return heartbeat_is_fresh(heartbeat_at)
    pid = int(pid_text) if pid_text.isdigit() else 0
    if pid <= 0 or pid == os.getpid():
        return False  # this process is not the one recorded (checked above): the pid was reused
    if Path("/proc").is_dir():
        now_started = _process_start_time(pid)
        return bool(now_started) and (not started or now_started == started)
    return heartbeat_is_fresh(heartbeat_at)


def heartbeat_is_fresh(heartbeat_at: object) -> bool:
    if heartbeat_at is None:
        return False
    return timezone.now() - heartbeat_at < timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT_SECONDS)  # type: ignore[operator]


def claim_job(job_id: uuid.UUID | str) -> TranscriptionJob | None:
    """Take the job for this process, in one transaction; None when there is nothing to do.

    Nothing to do: the job is gone, has ended (done, failed, cancelled), or a live runner other than this process
    has started it (a redelivered message while its worker still works). A job whose runner died starts again from
    the beginning, up to TRANSCRIPTION_MAX_ATTEMPTS starts; past that it fails with a message.
    """
    me = current_runner_id()
    with transaction.atomic():
        job = TranscriptionJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or not job.is_active:
            return None
        if job.attempts and job.runner != me and runner_alive(job.runner, job.heartbeat_at):
            logger.info("Job %s is already running on %s; this delivery does nothing", job.id, job.runner)
            return None
        if out_of_attempts(job):
            fail_out_of_attempts(job)
            return job
        if job.attempts:
            logger.warning("Job %s: its runner %s is gone; starting it again", job.id, job.runner)
        job.attempts += 1
        job.runner, job.heartbeat_at = me, timezone.now()
        job.status, job.stage, job.percent = JobStatus.QUEUED, "Starting", 0.0
        job.save(update_fields=["attempts", "runner", "heartbeat_at", "status", "stage", "percent"])
    heartbeat.ensure_running()
    return job


def out_of_attempts(job: TranscriptionJob) -> bool:
    """Whether the job has started TRANSCRIPTION_MAX_ATTEMPTS times already, so it may not start again."""
    return job.attempts >= settings.TRANSCRIPTION_MAX_ATTEMPTS


def fail_out_of_attempts(job: TranscriptionJob) -> None:
    """End a job that was interrupted too often, with a message that says so (the caller holds its row)."""
    job.status, job.stage, job.finished_at = JobStatus.FAILED, "Failed", timezone.now()
    job.error = (
        f"The transcription was interrupted {job.attempts} times (the process running it stopped), "
        "so it was not tried again. Please try again later."
    )
    job.save(update_fields=["status", "stage", "error", "finished_at"])
    logger.warning("Job %s failed after %d interrupted attempts", job.id, job.attempts)


class Heartbeat:
    """One daemon thread per process that keeps its jobs' heartbeats fresh while any is active."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def ensure_running(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="job-heartbeat", daemon=True)
                self._thread.start()

    def beat(self) -> int:
        """Refresh this process's active jobs; how many there are."""
        return TranscriptionJob.objects.filter(runner=current_runner_id(), status__in=ACTIVE_JOB_STATUSES).update(
            heartbeat_at=timezone.now()
        )

    def _run(self) -> None:
        stop = threading.Event()
        while not stop.wait(settings.JOB_HEARTBEAT_SECONDS):
            try:
                self.beat()
            except Exception:  # a database hiccup must not end the heartbeat for good
                logger.warning("Could not refresh the job heartbeat", exc_info=True)
            finally:
                close_old_connections()


heartbeat = Heartbeat()
