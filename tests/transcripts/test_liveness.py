"""Who runs a job: the claim (at most one live runner, restarts after a runner died, a limit on attempts),
heartbeats, recovery in both modes, and the queue position a waiting job reports."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.job_helpers import make_job
from transcripts import recovery
from transcripts.liveness import claim_job, current_runner_id, heartbeat
from transcripts.models import JobStatus, SourceType, TranscriptionJob
from transcripts.pipeline import execute_job
from transcripts.selectors import jobs_ahead
from transcripts.sweep import jobs_of_dead_runners

pytestmark = pytest.mark.django_db


def job_of(owner, **fields) -> TranscriptionJob:
    defaults = {"source": "https://example.com/talk.mp4", "source_type": SourceType.URL}
    return TranscriptionJob.objects.create(owner=owner, **{**defaults, **fields})


def long_ago(settings) -> object:
    return timezone.now() - timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT_SECONDS + 1)


def test_a_job_that_has_ended_is_not_claimed_again(alice):
    for status in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED):
        job = job_of(alice, status=status, attempts=1, runner="elsewhere:1:1")
        assert claim_job(job.id) is None
        job.refresh_from_db()
        assert (job.status, job.attempts, job.runner) == (status, 1, "elsewhere:1:1")


def test_a_second_delivery_of_a_job_that_a_live_runner_works_on_does_nothing(alice):
    job = job_of(alice, status=JobStatus.TRANSCRIBING, attempts=1, runner="elsewhere:1:1", heartbeat_at=timezone.now())
    assert claim_job(job.id) is None
    job.refresh_from_db()
    assert (job.status, job.attempts, job.runner) == (JobStatus.TRANSCRIBING, 1, "elsewhere:1:1")


def test_a_job_whose_runner_died_starts_again_from_the_beginning(alice, settings):
    job = job_of(
        alice,
        status=JobStatus.TRANSCRIBING,
        percent=55.0,
        attempts=1,
        runner="elsewhere:1:1",
        heartbeat_at=long_ago(settings),
    )
    claimed = claim_job(job.id)
    assert claimed is not None
    job.refresh_from_db()
    assert (job.status, job.stage, job.percent, job.attempts) == (JobStatus.QUEUED, "Starting", 0.0, 2)
    assert job.runner == current_runner_id() and job.heartbeat_at > long_ago(settings)


@pytest.mark.django_db(transaction=True)  # a runner closes its database connection when the job ends
def test_past_its_attempts_a_job_fails_with_a_message_and_says_so(alice, settings, recorded_events):
    settings.TRANSCRIPTION_MAX_ATTEMPTS = 2
    job = job_of(alice, status=JobStatus.DOWNLOADING, attempts=2, runner="elsewhere:1:1", heartbeat_at=None)
    execute_job(job.id)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.attempts == 2 and job.finished_at is not None
    assert job.error.startswith("The transcription was interrupted 2 times")
    assert recorded_events[-1]["status"] == "failed" and recorded_events[-1]["message"] == job.error


def test_the_heartbeat_refreshes_only_this_processs_active_jobs(alice, settings):
    stale = long_ago(settings)
    mine = job_of(alice, status=JobStatus.TRANSCRIBING, runner=current_runner_id(), heartbeat_at=stale)
    mine_done = job_of(alice, status=JobStatus.DONE, runner=current_runner_id(), heartbeat_at=stale)
    theirs = job_of(alice, status=JobStatus.TRANSCRIBING, runner="elsewhere:1:1", heartbeat_at=stale)
    assert heartbeat.beat() == 1
    for job in (mine, mine_done, theirs):
        job.refresh_from_db()
    assert mine.heartbeat_at > stale and mine_done.heartbeat_at == stale and theirs.heartbeat_at == stale


def test_with_workers_recovery_leaves_the_brokers_and_the_sweeps_jobs_alone(alice, settings):
    settings.TRANSCRIPTION_RUNNER = "celery"
    waiting = job_of(alice)  # queued on the broker: no runner yet
    dead_runner = job_of(
        alice,
        status=JobStatus.TRANSCRIBING,
        attempts=1,
        runner="elsewhere:2:1",
        heartbeat_at=timezone.now() - timedelta(seconds=settings.CELERY_VISIBILITY_TIMEOUT_SECONDS + 3600),
    )
    assert recovery.recover_interrupted_jobs() == 0  # the sweep publishes the dead runner's job again
    for job in (waiting, dead_runner):
        job.refresh_from_db()
    assert waiting.status == JobStatus.QUEUED and dead_runner.status == JobStatus.TRANSCRIBING


def test_without_workers_a_job_made_here_is_this_processs_and_alive_from_the_start(alice):
    job = make_job(alice, "https://93.184.215.14/talk.mp4")
    assert job.runner == current_runner_id() and job.heartbeat_at is not None
    assert jobs_of_dead_runners() == []


def test_a_queued_job_counts_the_jobs_of_every_user_ahead_of_it(alice, bob):
    first = job_of(bob)
    running = job_of(alice, status=JobStatus.TRANSCRIBING)
    second = job_of(alice)
    third = job_of(alice)
    assert [jobs_ahead(job) for job in (first, second, third)] == [0, 1, 2]
    assert jobs_ahead(running) is None
