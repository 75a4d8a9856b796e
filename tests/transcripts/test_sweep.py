"""The sweep: a dead runner's job is taken by exactly one sweeper and runs again (counted by the claim), a live
runner's job is left alone, and a job past its attempts or cancelled ends instead of starting again.

Jobs run for real in this process's executor (the embedded runner), so these tests use transactions of their own.
"""

from __future__ import annotations

import socket
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from transcripts import recovery
from transcripts.liveness import current_runner_id
from transcripts.models import JobStatus, SourceType, Transcript, TranscriptionJob
from transcripts.sweep import STARTING_AGAIN, jobs_of_dead_runners, run_again, sweep_once, take_job

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DEAD_HERE = f"{socket.gethostname()}:999999999:1"  # a process of this host that no longer runs


def stale(settings) -> object:
    return timezone.now() - timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT_SECONDS + 1)


@pytest.fixture
def dead_runners_job(alice, make_upload, settings):
    """A job of jfk.flac that a runner of another host started once and then stopped beating for."""

    def make(**fields: object) -> TranscriptionJob:
        upload = make_upload(alice, "jfk.flac")
        defaults = {
            "status": JobStatus.TRANSCRIBING,
            "percent": 40.0,
            "attempts": 1,
            "runner": "another-host:7:1",
            "heartbeat_at": stale(settings),
        }
        return TranscriptionJob.objects.create(
            owner=alice, source="jfk.flac", source_type=SourceType.UPLOAD, upload=upload, **{**defaults, **fields}
        )

    return make


def test_a_dead_runners_job_runs_again_here_and_its_claim_counts_the_attempt(dead_runners_job, recorded_events):
    job = dead_runners_job()
    (handle,) = sweep_once()
    finished = handle.wait(timeout=120)
    assert finished.status == JobStatus.DONE, finished.error
    assert finished.attempts == 2 and finished.runner == current_runner_id()
    assert Transcript.objects.filter(jobs=job).count() == 1
    assert next(e["message"] for e in recorded_events if e["job_id"] == str(job.id)) == STARTING_AGAIN
    assert sweep_once() == []  # done: nothing left to sweep


def test_two_sweeps_at_once_hand_the_job_on_once(dead_runners_job):
    job = dead_runners_job()
    start = threading.Barrier(2)
    handles: list[list[object]] = []

    def sweep() -> None:
        start.wait()
        try:
            handles.append(sweep_once())
        finally:
            connection.close()

    sweepers = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in sweepers:
        thread.start()
    for thread in sweepers:
        thread.join(timeout=60)
    assert sorted(len(found) for found in handles) == [0, 1]
    (handle,) = next(found for found in handles if found)
    finished = handle.wait(timeout=120)  # type: ignore[attr-defined]
    assert finished.status == JobStatus.DONE and finished.attempts == 2, finished.error
    assert Transcript.objects.filter(jobs=job).count() == 1


def test_of_two_sweepers_that_read_the_job_at_once_only_the_first_takes_it(dead_runners_job):
    job = dead_runners_job(status=JobStatus.DOWNLOADING)
    read_by_both = TranscriptionJob.objects.get(pk=job.pk)
    assert take_job(read_by_both) is True
    assert take_job(read_by_both) is False
    job.refresh_from_db()
    assert (job.status, job.stage, job.runner, job.attempts) == (
        JobStatus.QUEUED,
        STARTING_AGAIN,
        current_runner_id(),
        1,  # counted by the claim of the process that runs it, not here
    )


def test_past_its_attempts_the_sweep_fails_the_job_with_its_message(dead_runners_job, settings, recorded_events):
    job = dead_runners_job(attempts=settings.TRANSCRIPTION_MAX_ATTEMPTS)
    assert sweep_once() == []
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.finished_at is not None
    assert job.error == (
        f"The transcription was interrupted {settings.TRANSCRIPTION_MAX_ATTEMPTS} times (the process running it "
        "stopped), so it was not tried again. Please try again later."
    )
    assert recorded_events[-1]["status"] == "failed" and recorded_events[-1]["message"] == job.error


def test_a_job_cancelled_before_its_runner_died_ends_cancelled(dead_runners_job, recorded_events):
    job = dead_runners_job(cancel_requested=True)
    assert run_again(job) is None
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.attempts == 1
    assert recorded_events[-1]["status"] == "cancelled"


def test_jobs_of_live_runners_are_left_alone(dead_runners_job, settings):
    fresh_elsewhere = dead_runners_job(heartbeat_at=timezone.now())
    # A live process of this host is alive whatever its heartbeat says (it may be waiting for a slot).
    this_process = dead_runners_job(runner=current_runner_id(), heartbeat_at=stale(settings))
    done = dead_runners_job(status=JobStatus.DONE)
    assert jobs_of_dead_runners() == []
    assert sweep_once() == []
    for job in (fresh_elsewhere, this_process, done):
        before = job.status
        job.refresh_from_db()
        assert job.status == before and job.attempts == 1


def test_a_dead_process_of_this_host_is_seen_at_once(dead_runners_job):
    dead_here = dead_runners_job(runner=DEAD_HERE, heartbeat_at=timezone.now())
    assert jobs_of_dead_runners() == [dead_here]


def test_with_workers_the_sweep_leaves_the_jobs_waiting_in_the_broker_to_it(dead_runners_job, settings):
    settings.TRANSCRIPTION_RUNNER = "celery"
    never_started = dead_runners_job(status=JobStatus.QUEUED, attempts=0, runner="", heartbeat_at=None)
    published_again = dead_runners_job(status=JobStatus.QUEUED, runner="", heartbeat_at=timezone.now())
    dead = dead_runners_job()
    assert jobs_of_dead_runners() == [dead]
    assert recovery.recover_interrupted_jobs() == 0  # a dead runner's job is the sweep's, never failed
    for job in (never_started, published_again, dead):
        job.refresh_from_db()
        assert job.status != JobStatus.FAILED


def test_with_workers_a_job_published_again_that_no_worker_claimed_for_hours_fails(dead_runners_job, settings):
    settings.TRANSCRIPTION_RUNNER = "celery"
    patience = settings.CELERY_VISIBILITY_TIMEOUT_SECONDS + settings.JOB_HEARTBEAT_TIMEOUT_SECONDS
    lost = dead_runners_job(
        status=JobStatus.QUEUED, runner="", heartbeat_at=timezone.now() - timedelta(seconds=patience + 5)
    )
    assert recovery.recover_interrupted_jobs() == 1
    lost.refresh_from_db()
    assert lost.status == JobStatus.FAILED and lost.error == recovery.LOST_ERROR
