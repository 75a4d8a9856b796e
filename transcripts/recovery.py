"""What a process does about jobs when it starts or stops: fail the ones whose runner died, sweep work files.

Both modes keep one rule: a job belongs to its runner while that runner lives (transcripts.liveness). With Celery,
a job whose worker died is not failed here but left to the broker, which hands it to another worker (acks_late);
only when that has not happened long after the visibility timeout is it failed, so none shows as running forever.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from transcripts.liveness import current_runner_id, runner_alive
from transcripts.models import ACTIVE_JOB_STATUSES, JobStatus, TranscriptionJob

logger = logging.getLogger(__name__)

INTERRUPTED_ERROR = "Interrupted (server restarted) before this transcription finished. Please try again."
STOPPED_ERROR = "Interrupted: the server was stopped before this transcription finished. Please try again."


def job_work_dir(job_id: uuid.UUID | str) -> Path:
    """The job's own scratch folder under the data directory (removed when the job ends, or by the sweep)."""
    return Path(settings.JOB_WORK_DIR) / f"job-{job_id}"


def interrupt_own_jobs() -> int:
    """When a web process stops: mark its unfinished in-process jobs failed (their threads end with it).

    Jobs that Celery workers run are theirs, not this process's, and go on."""
    count = TranscriptionJob.objects.filter(runner=current_runner_id(), status__in=ACTIVE_JOB_STATUSES).update(
        status=JobStatus.FAILED, stage="Failed", error=STOPPED_ERROR, finished_at=timezone.now()
    )
    if count:
        logger.warning("Marked %d unfinished transcription job(s) as interrupted", count)
    return count


def _left_to_the_broker(job: TranscriptionJob) -> bool:
    """With Celery, a job still in the broker's hands: not started yet, or a dead worker's job that the broker
    will deliver again (until well past the visibility timeout, when that evidently did not happen)."""
    if settings.TRANSCRIPTION_RUNNER != "celery":
        return False
    if not job.attempts:
        return True
    silent_since = job.heartbeat_at or job.created_at
    patience = settings.CELERY_VISIBILITY_TIMEOUT_SECONDS + settings.JOB_HEARTBEAT_TIMEOUT_SECONDS
    return timezone.now() - silent_since < timedelta(seconds=patience)


def recover_interrupted_jobs() -> int:
    """Mark jobs that a stopped process left unfinished as failed, so none shows as running forever.

    A job is interrupted when no runner is recorded, or its runner is dead (transcripts.liveness): a process of
    this host that is gone, or one elsewhere whose heartbeat stopped. Jobs of live runners are left alone, and so
    are jobs the Celery broker still holds.
    """
    candidates = TranscriptionJob.objects.filter(status__in=ACTIVE_JOB_STATUSES).only(
        "id", "runner", "heartbeat_at", "attempts", "created_at"
    )
    interrupted = [
        job.id for job in candidates if not runner_alive(job.runner, job.heartbeat_at) and not _left_to_the_broker(job)
    ]
    if interrupted:
        TranscriptionJob.objects.filter(id__in=interrupted, status__in=ACTIVE_JOB_STATUSES).update(
            status=JobStatus.FAILED, stage="Failed", error=INTERRUPTED_ERROR, finished_at=timezone.now()
        )
        logger.warning("Marked %d interrupted transcription job(s) as failed", len(interrupted))
    return len(interrupted)


def sweep_work_dirs() -> int:
    """Remove the scratch folders of jobs that are not running (killed mid-download, or long gone).

    Run after recover_interrupted_jobs at start-up: a folder of an active job belongs to a live process (here or on
    another host sharing the data directory) and is left alone.
    """
    root = Path(settings.JOB_WORK_DIR)
    if not root.is_dir():
        return 0
    folders = {path.name.removeprefix("job-"): path for path in root.glob("job-*") if path.is_dir()}
    valid_ids = []
    for name in folders:
        try:
            valid_ids.append(uuid.UUID(name))
        except ValueError:
            continue
    active = {
        str(job_id)
        for job_id in TranscriptionJob.objects.filter(id__in=valid_ids, status__in=ACTIVE_JOB_STATUSES).values_list(
            "id", flat=True
        )
    }
    removed = [path for name, path in folders.items() if name not in active]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    if removed:
        logger.warning("Removed the work files of %d job(s) that no longer run", len(removed))
    return len(removed)
