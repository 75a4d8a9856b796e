"""Jobs in tests: made through the job service, and run in the test's own thread (the pipeline, as a runner does),
so the test's database transaction sees everything the job wrote."""

from __future__ import annotations

from typing import Any

from transcripts.jobs import JobRequest, create_job
from transcripts.models import TranscriptionJob
from transcripts.pipeline import execute_job


def make_job(owner: Any, source: str, **choices: Any) -> TranscriptionJob:
    """create_job with a JobRequest of `source` and `choices` (language, task, model, session_id, redo)."""
    return create_job(owner=owner, request=JobRequest(source=source, **choices))


def run_job(job: TranscriptionJob) -> TranscriptionJob:
    execute_job(job.id)
    job.refresh_from_db()
    return job


def transcribe_now(owner: Any, source: str, **choices: Any) -> TranscriptionJob:
    """Make the job and run it to its end; the job as it ended."""
    return run_job(make_job(owner, source, **choices))
