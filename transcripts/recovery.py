"""What a process does about jobs when it starts or stops: leave its unfinished jobs to start again, fail the
ones nothing will run any more, sweep work files.

Both modes keep one rule: a job belongs to its runner while that runner lives (transcripts.liveness). A job whose
runner died is run again by the sweep (transcripts.sweep), up to TRANSCRIPTION_MAX_ATTEMPTS: the next start of an
embedded server resumes what the one before it left, and with Celery a live worker takes over a dead one's job.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from transcripts.liveness import current_runner_id
from transcripts.models import ACTIVE_JOB_STATUSES, JobStatus, TranscriptionJob

logger = logging.getLogger(__name__)

LOST_ERROR = "The transcription queue lost this job before a worker started it again. Please try again."
SUSPENDED_STAGE = "Waiting for the server: it stopped, and this transcription starts again when it is back"


def job_work_dir(job_id: uuid.UUID | str) -> Path:
    """The job's own scratch folder under the data directory (removed when the job ends, or by the sweep)."""
    return Path(settings.JOB_WORK_DIR) / f"job-{job_id}"


def suspend_own_jobs() -> int:
    """When a web process stops: its in-process jobs stop with it, so they are left queued, still naming this
    process as their runner. Once it has exited that runner is dead, and the next start (or another server's sweep)
    runs them again from their source, counting the attempt. Jobs that Celery workers run are theirs and go on."""
    count = TranscriptionJob.objects.filter(runner=current_runner_id(), status__in=ACTIVE_JOB_STATUSES).update(
        status=JobStatus.QUEUED, stage=SUSPENDED_STAGE
    )
    if count:
        logger.warning("Left %d unfinished transcription job(s) to start again at the next start", count)
    return count


def recover_interrupted_jobs() -> int:
    """With workers: fail the jobs whose message evidently got lost, so none shows as queued forever.

    That is a job the sweep published again (no runner, attempts counted) that no worker has claimed long after
    the broker's visibility timeout. Every other active job is in hand: a live runner works on it, the sweep will
    publish again a dead runner's job, and the broker holds one that never started. In the embedded mode nothing
    is failed: the sweep at start resumes every job of a dead runner.
    """
    if settings.TRANSCRIPTION_RUNNER != "celery":
        return 0
    patience = settings.CELERY_VISIBILITY_TIMEOUT_SECONDS + settings.JOB_HEARTBEAT_TIMEOUT_SECONDS
    count = TranscriptionJob.objects.filter(
        status__in=ACTIVE_JOB_STATUSES,
        runner="",
        attempts__gte=1,
        heartbeat_at__lt=timezone.now() - timedelta(seconds=patience),
    ).update(status=JobStatus.FAILED, stage="Failed", error=LOST_ERROR, finished_at=timezone.now())
    if count:
        logger.warning("Marked %d transcription job(s) that the queue lost as failed", count)
    return count


def sweep_work_dirs() -> int:
    """Remove the scratch folders of jobs that are not running (killed mid-download, or long gone).

    Run after the start-up sweep: a folder of an active job belongs to a live process (here or on
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
