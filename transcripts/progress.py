"""Live job progress (paperless-ngx's pattern): a reporter that always sends a first and a last event.

Events go through the channel layer to the job's group, the owner's jobs group (the jobs page) and, for a chat's
job, to the chat's group, so the websocket shows progress whichever process runs the job. The job row is updated
too (throttled), so REST clients and a reloaded page see the same state. The reporter is also where a running job
learns that its owner cancelled it: each step checks (at most once a second) and raises JobCancelled.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from types import TracebackType

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from transcripts.events import JobProgressEvent, job_group, jobs_group, session_jobs_group
from transcripts.models import JobStatus, TranscriptionJob
from transcripts.selectors import jobs_ahead

logger = logging.getLogger(__name__)

MIN_INTERVAL_SECONDS = 0.25  # at most a few progress events per second
CANCEL_CHECK_SECONDS = 1.0  # how often a running job looks for its owner's cancel request


# Where a reporter's events go: (groups, event). The default is the channel layer; anything else (a test, a bench)
# passes its own.
EventSink = Callable[[list[str], JobProgressEvent], None]


class JobCancelled(Exception):
    """The owner cancelled the job while it ran."""


def send_event(groups: list[str], event: JobProgressEvent) -> None:
    """Deliver one event to each group. Called from worker threads, never from the event loop."""
    layer = get_channel_layer()
    if layer is None:
        return
    for group in groups:
        try:
            async_to_sync(layer.group_send)(group, dict(event))
        except Exception:  # a full or unreachable layer must not fail the transcription itself
            logger.warning("Could not send progress to %s", group, exc_info=True)


def queued_message(ahead: int) -> str:
    return f"Queued: {ahead} {'job' if ahead == 1 else 'jobs'} ahead" if ahead else "Queued: next in line"


def saved_progress_event(job: TranscriptionJob) -> JobProgressEvent:
    """The job's state as saved, in the shape of its live events, for a page that draws it before the next event
    (the chat after a reload). The message is what the reporter's last event said for the same state."""
    status = JobStatus(job.status)
    ahead = jobs_ahead(job)  # None unless the job waits in the queue
    if status == JobStatus.DONE:
        message = f"Transcript ready. Warning: {job.warning}" if job.warning else "Transcript ready"
    elif status == JobStatus.FAILED:
        message = job.error or "Failed"
    elif ahead is not None:
        message = queued_message(ahead)
    else:
        message = job.stage or status.label
    return {
        "type": "job.progress",
        "job_id": str(job.id),
        "status": str(status),
        "stage": job.stage or status.label,
        "percent": round(job.percent, 1),
        "message": message,
        "transcript_id": job.transcript_id,
        "warning": job.warning,
        "jobs_ahead": ahead,
    }


class ProgressReporter:
    """Reports one job's progress. Percent never goes backwards; the last event is `done` or `failed`."""

    def __init__(self, job: TranscriptionJob, *, sink: EventSink | None = None) -> None:
        self.job = job
        self.sink = sink or send_event
        self.groups = [job_group(job.id), jobs_group(job.owner_id)]
        if job.session_id:
            self.groups.append(session_jobs_group(job.session_id))
        self.percent = 0.0
        self.status = JobStatus(job.status)
        self.stage = job.stage or "Queued"
        self.finished = False
        self._last_sent = 0.0
        self._unsent = False  # a throttled step whose value nobody has seen yet
        self._cancel_checked = float("-inf")  # the first step always looks
        self.cancel_seen = False

    def __enter__(self) -> ProgressReporter:
        self.job.started_at = timezone.now()
        self._emit("Starting", force=True)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self.finished:
            self.fail("The transcription stopped unexpectedly.")

    def update(self, status: JobStatus, stage: str, percent: float, message: str = "") -> None:
        """A step; stage changes are always sent, steps within a stage are throttled.

        The throttle never loses a stage's latest value: a step it held back is sent before the next stage starts.
        """
        self.raise_if_cancelled()
        force = status != self.status or stage != self.stage
        if force:
            self._flush()
        self.status, self.stage = status, stage
        self.percent = max(self.percent, min(100.0, percent))
        self._emit(message or stage, force=force)

    def done(self, transcript_id: str, *, warning: str = "") -> None:
        self._flush()
        self.status, self.stage, self.percent, self.finished = JobStatus.DONE, "Done", 100.0, True
        self.job.warning = warning
        message = f"Transcript ready. Warning: {warning}" if warning else "Transcript ready"
        self._emit(message, force=True, transcript_id=transcript_id)

    def raise_if_cancelled(self) -> None:
        """JobCancelled if the owner asked to stop this job (checked at most once a CANCEL_CHECK_SECONDS)."""
        now = time.monotonic()
        if self.cancel_seen or now - self._cancel_checked < CANCEL_CHECK_SECONDS:
            if self.cancel_seen:
                raise JobCancelled
            return
        self._cancel_checked = now
        if TranscriptionJob.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            self.cancel_seen = True
            raise JobCancelled

    def queued(self, ahead: int) -> None:
        """The job waits behind `ahead` others (sent once when it is submitted; the row stays as it is)."""
        self.finished, self.percent = True, self.job.percent
        self._emit(queued_message(ahead), force=True, save=False, ahead=ahead)

    def announce(self, message: str) -> None:
        """Send the job's current state as it is in the database (for a change made outside a run)."""
        self.finished, self.percent = True, self.job.percent
        self._emit(message, force=True, save=False)

    def cancelled(self) -> None:
        self._unsent = False
        self.status, self.stage, self.finished = JobStatus.CANCELLED, "Cancelled", True
        self.job.error = ""
        self._emit("Cancelled", force=True)

    def interrupted(self, message: str) -> None:
        """The process running the job died under it and it starts again: it is queued again, not ended."""
        self._unsent = False
        self.status, self.stage, self.finished = JobStatus.QUEUED, message, True
        TranscriptionJob.objects.filter(pk=self.job.pk).update(status=JobStatus.QUEUED, stage=message)
        self._emit(message, force=True, save=False)

    def fail(self, error: str) -> None:
        self._flush()
        self.status, self.stage, self.finished = JobStatus.FAILED, "Failed", True
        self.job.error = error
        self._emit(error, force=True)

    def _emit(
        self,
        message: str,
        *,
        force: bool,
        transcript_id: str | None = None,
        save: bool = True,
        ahead: int | None = None,
    ) -> None:
        now = time.monotonic()
        if not force and now - self._last_sent < MIN_INTERVAL_SECONDS:
            self._unsent = True
            return
        self._last_sent, self._unsent = now, False
        if save:
            self._save(transcript_id)
        event: JobProgressEvent = {
            "type": "job.progress",
            "job_id": str(self.job.id),
            "status": str(self.status),
            "stage": self.stage,
            "percent": round(self.percent, 1),
            "message": message,
            "transcript_id": transcript_id,
            "warning": self.job.warning,
            "jobs_ahead": ahead,
        }
        self.sink(self.groups, event)

    def _flush(self) -> None:
        if self._unsent and not self.finished:
            self._emit(self.stage, force=True)

    def _save(self, transcript_id: str | None) -> None:
        job = self.job
        job.status, job.stage, job.percent = self.status, self.stage, round(self.percent, 1)
        fields = ["status", "stage", "percent", "started_at", "error", "warning"]
        if self.finished:
            job.finished_at = timezone.now()
            job.transcript_id = transcript_id
            fields += ["finished_at", "transcript"]
        job.save(update_fields=fields)
