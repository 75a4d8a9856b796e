"""The job service: one way in for the agent's tool, the REST API, the web page and the command line.

`start_job` validates a request, records a queued job and submits it to the runner (transcripts.runner), which
runs it in this process or on a Celery worker; callers that want the result wait on the handle it returns.
Ownership is checked here: a chat session or an upload that is not the owner's is "not found".
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from urllib.parse import urlparse

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from accounts.owned import NotFound
from transcripts import runner
from transcripts.engine.download import DownloadError, check_url
from transcripts.engine.languages import LanguageError, check_model_can, normalise_language, normalise_task
from transcripts.errors import TranscriptionError
from transcripts.liveness import current_runner_id
from transcripts.models import JobStatus, SourceType, Task, Transcript, TranscriptionJob
from transcripts.progress import ProgressReporter
from transcripts.selectors import get_job_for, jobs_ahead
from uploads.models import Upload
from uploads.services import UploadRejectedError, store_upload

UPLOAD_REFERENCE = re.compile(r"^(?:upload:)?\s*([0-9a-fA-F-]{32,36})$")
YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be", "music.youtube.com"}


@dataclass(frozen=True)
class JobRequest:
    """What to transcribe and how. `source`: a link, or the id of one of the owner's uploads. `language`: a code
    or "auto"/"" (detected per chunk). `task`: transcribe, or translate (into English). `model`: one of
    available_models() ("": the default). `session_id`: the chat it was started from. `redo`: transcribe a link
    again even if this owner already has it transcribed the same way."""

    source: str
    language: str = ""
    task: str = Task.TRANSCRIBE
    model: str = ""
    session_id: uuid.UUID | str | None = None
    redo: bool = False


def available_models() -> list[str]:
    """The Whisper models users may choose, the default first."""
    return list(dict.fromkeys([settings.WHISPER_MODEL, *settings.WHISPER_MODELS]))


def checked_choices(*, model: str, language: str, task: str) -> tuple[str, str, str]:
    """(model, language, task) as the engine takes them; TranscriptionError before any work for what cannot be."""
    models = available_models()
    model = model.strip() or models[0]
    if model not in models:
        raise TranscriptionError(f"Unknown model {model!r}: choose one of {', '.join(models)}.")
    try:
        language, task = normalise_language(language), normalise_task(task)
        check_model_can(model, language=language, task=task, alternatives=models)
    except LanguageError as exc:
        raise TranscriptionError(str(exc)) from exc
    return model, language, task


def _find_upload(owner: AbstractBaseUser, source: str) -> Upload | None:
    match = UPLOAD_REFERENCE.match(source)
    if not match:
        return None
    try:
        upload_id = uuid.UUID(match.group(1))
    except ValueError:
        return None
    try:
        return Upload.objects.get_owned(owner, upload_id)
    except NotFound as exc:
        # Another user's upload id reads exactly like a missing one.
        raise TranscriptionError("No upload with that id was found in your files.") from exc


def check_session(owner: AbstractBaseUser, session_id: uuid.UUID | str | None) -> None:
    """NotFound unless the chat session is the owner's. Read through the job's own relation, so this app needs no
    import of the chat app (which depends on this one)."""
    if session_id is None:
        return
    session_model = TranscriptionJob._meta.get_field("session").related_model
    session_model.objects.get_owned(owner, session_id)  # type: ignore[union-attr]


def create_job(*, owner: AbstractBaseUser, request: JobRequest) -> TranscriptionJob:
    """Validate a request and record a queued job (not submitted yet: see start_job). A link this user already
    transcribed the same way gives a job that is done at once with the existing transcript, unless `redo`.
    Raises TranscriptionError for bad input and NotFound for a chat session not the owner's, before any work."""
    source = request.source.strip()
    if not source:
        raise TranscriptionError("Give a link to a video or the id of an uploaded file.")
    check_session(owner, request.session_id)
    model, language, task = checked_choices(model=request.model, language=request.language, task=request.task)
    fields: dict[str, object] = {
        "owner": owner,
        "session_id": request.session_id,
        "language": language,
        "task": task,
        "model_name": model,
    }
    if not runner.uses_workers():
        # This process runs the job, so it is its runner from the start: another process starting meanwhile must
        # not take a queued job for an interrupted one.
        fields.update(runner=current_runner_id(), heartbeat_at=timezone.now())
    upload = _find_upload(owner, source)
    if upload is not None:
        return TranscriptionJob.objects.create(
            source=upload.original_name, source_type=SourceType.UPLOAD, upload=upload, **fields
        )
    try:
        check_url(source, allow_private=settings.ALLOW_PRIVATE_URLS)
    except DownloadError as exc:
        raise TranscriptionError(str(exc)) from exc
    host = (urlparse(source).hostname or "").lower()
    source_type = SourceType.YOUTUBE if host in YOUTUBE_HOSTS else SourceType.URL
    # A transcript made with a detected language is reused; one forced to a language may be the wrong one.
    existing = (
        None
        if request.redo or language
        else Transcript.objects.for_owner(owner).filter(source=source, model_name=model, task=task).first()
    )
    if existing is not None:
        now = timezone.now()
        return TranscriptionJob.objects.create(
            source=source,
            source_type=source_type,
            status=JobStatus.DONE,
            stage="Already transcribed",
            percent=100.0,
            transcript=existing,
            started_at=now,
            finished_at=now,
            **fields,
        )
    return TranscriptionJob.objects.create(source=source, source_type=source_type, **fields)


def submit_job(job: TranscriptionJob) -> runner.JobHandle:
    """Hand a recorded job to the runner and tell its watchers where it stands in the queue.

    QueueUnavailable (a TranscriptionError) when the broker cannot take it: the job row is removed again, so
    nothing is left half-created."""
    if not job.is_active:
        return runner.JobHandle(job.id)
    try:
        handle = runner.submit(job.id)
    except TranscriptionError:
        job.delete()
        raise
    ahead = jobs_ahead(job)
    if ahead:
        ProgressReporter(job).queued(ahead)
    return handle


def start_job(*, owner: AbstractBaseUser, request: JobRequest) -> tuple[TranscriptionJob, runner.JobHandle]:
    """Record and submit one job; the job as recorded and a handle to wait on."""
    job = create_job(owner=owner, request=request)
    return job, submit_job(job)


async def transcribe(*, owner: AbstractBaseUser, request: JobRequest) -> Transcript:
    """Transcribe from async code (the agent's tool) and wait for the transcript; the event loop stays free.
    Raises TranscriptionError (QueueUnavailable when the queue cannot take the job)."""
    job, handle = await database_sync_to_async(start_job)(owner=owner, request=request)
    if job.is_active:
        job = await handle.wait_async()
    if job.status != JobStatus.DONE or job.transcript_id is None:
        raise TranscriptionError(job.error or "The transcription was cancelled.")
    return await database_sync_to_async(Transcript.objects.get)(pk=job.transcript_id)


def start_transcriptions(
    *,
    owner: AbstractBaseUser,
    links: list[str],
    files: list[UploadedFile],
    model: str = "",
    language: str = "",
    task: str = Task.TRANSCRIBE,
) -> tuple[list[TranscriptionJob], list[str]]:
    """Start one job per link and per file (the web page's form); returns the jobs and, per refused item, a
    message naming it. Choices that cannot work at all raise TranscriptionError before anything is stored."""
    checked_choices(model=model, language=language, task=task)
    jobs: list[TranscriptionJob] = []
    errors: list[str] = []
    sources: list[tuple[str, str]] = [(link, link) for link in links]
    for uploaded in files:
        try:
            sources.append((uploaded.name or "file", str(store_upload(owner=owner, uploaded_file=uploaded).id)))
        except UploadRejectedError as exc:
            errors.append(f"{uploaded.name}: {exc}")
    for name, source in sources:
        try:
            job, _ = start_job(
                owner=owner, request=JobRequest(source=source, model=model, language=language, task=task)
            )
            jobs.append(job)
        except TranscriptionError as exc:
            errors.append(f"{name}: {exc}")
    return jobs, errors


def cancel_job(*, owner: AbstractBaseUser, job_id: uuid.UUID | str) -> TranscriptionJob:
    """Stop one of the owner's queued or running jobs: a job not started yet ends at once, a running one at its
    next progress step (within about a second). Raises TranscriptionError for a job that has already ended."""
    job = get_job_for(owner=owner, job_id=job_id)
    if not job.is_active:
        raise TranscriptionError("This transcription has already ended.")
    TranscriptionJob.objects.filter(pk=job.pk).update(cancel_requested=True)
    not_started = TranscriptionJob.objects.filter(pk=job.pk, status=JobStatus.QUEUED, started_at__isnull=True)
    if not_started.update(status=JobStatus.CANCELLED, stage="Cancelled", finished_at=timezone.now()):
        job.refresh_from_db()
        ProgressReporter(job).announce("Cancelled")
    job.refresh_from_db()
    return job


def retry_job(*, owner: AbstractBaseUser, job_id: uuid.UUID | str) -> TranscriptionJob:
    """A new job with the same source and choices as one of the owner's failed or cancelled jobs, submitted."""
    job = get_job_for(owner=owner, job_id=job_id)
    if job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
        raise TranscriptionError("Only a failed or cancelled transcription can be tried again.")
    if job.source_type == SourceType.UPLOAD and job.upload_id is None:
        raise TranscriptionError("The uploaded file of this transcription is gone; upload it again.")
    request = JobRequest(
        source=str(job.upload_id) if job.upload_id else job.source,
        language=job.language,
        task=job.task,
        model=job.model_name,
        session_id=job.session_id,
        redo=True,
    )
    new_job, _ = start_job(owner=owner, request=request)
    return new_job
