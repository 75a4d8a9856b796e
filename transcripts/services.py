"""Transcription as a service: one entry point for the agent's tool, the REST API, the UI and the command line.

create_job validates the request and records a job; run_job does the blocking work (download, probe, Whisper,
files) in a worker thread; `transcribe` does both from async code without blocking the event loop.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import close_old_connections, transaction
from django.utils import timezone

from chat.models import ChatSession
from transcripts import runner
from transcripts.engine.download import (
    DownloadConfig,
    DownloadError,
    check_url,
    download_audio,
    duration_over_limit,
)
from transcripts.engine.formats import FORMATS
from transcripts.engine.languages import LanguageError, check_model_can, normalise_language, normalise_task
from transcripts.engine.probe import MediaError, probe_media
from transcripts.engine.whisper import EngineConfig, TranscriptionResult, transcribe_file
from transcripts.models import (
    ACTIVE_JOB_STATUSES,
    JobStatus,
    SourceType,
    Task,
    Transcript,
    TranscriptionJob,
)
from transcripts.progress import JobCancelled, ProgressReporter
from transcripts.selectors import export_transcript, get_job_for
from uploads.models import Upload
from uploads.services import UploadRejectedError, sanitise_original_name, store_upload

logger = logging.getLogger(__name__)

DOWNLOAD_SHARE = 20.0  # percent of a link job's progress bar given to the download
UPLOAD_REFERENCE = re.compile(r"^(?:upload:)?\s*([0-9a-fA-F-]{32,36})$")
YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be", "music.youtube.com"}
DOCUMENT_MAX_CHARS = 2_000_000
INTERRUPTED_ERROR = "Interrupted (server restarted) before this transcription finished. Please try again."
STOPPED_ERROR = "Interrupted: the server was stopped before this transcription finished. Please try again."
T = TypeVar("T")


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


RUNNER_ID = f"{socket.gethostname()}:{os.getpid()}:{_process_start_time(os.getpid())}"


class TranscriptionError(Exception):
    """A transcription that cannot be done; str() is a message for the user."""


def available_models() -> list[str]:
    """The Whisper models users may choose, the default first."""
    return list(dict.fromkeys([settings.WHISPER_MODEL, *settings.WHISPER_MODELS]))


def engine_config(model: str = "") -> EngineConfig:
    return EngineConfig(
        model=model or settings.WHISPER_MODEL,
        device=settings.WHISPER_DEVICE,
        compute_type=settings.WHISPER_COMPUTE_TYPE,
        beam_size=settings.WHISPER_BEAM_SIZE,
        cpu_threads=settings.WHISPER_CPU_THREADS,
        vad_filter=settings.WHISPER_VAD_FILTER,
        cache_dir=Path(settings.MODEL_CACHE_DIR),
        decoding=settings.WHISPER_DECODING,
        batch_size=settings.WHISPER_BATCH_SIZE,
        language_detector=settings.WHISPER_LANGUAGE_DETECTOR,
        num_workers=max(1, settings.TRANSCRIPTION_CONCURRENCY),
    )


def _checked_choices(*, model: str, language: str, task: str) -> tuple[str, str, str]:
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


def download_config() -> DownloadConfig:
    return DownloadConfig(
        max_bytes=settings.DOWNLOAD_MAX_BYTES,
        max_duration_seconds=settings.DOWNLOAD_MAX_DURATION_SECONDS,
        socket_timeout=settings.DOWNLOAD_SOCKET_TIMEOUT_SECONDS,
        allow_private=settings.ALLOW_PRIVATE_URLS,
    )


def _find_upload(owner: AbstractBaseUser, source: str) -> Upload | None:
    match = UPLOAD_REFERENCE.match(source)
    if not match:
        return None
    try:
        upload_id = uuid.UUID(match.group(1))
    except ValueError:
        return None
    upload = Upload.objects.filter(id=upload_id, owner=owner).first()
    if upload is None:
        # Another user's upload id reads exactly like a missing one.
        raise TranscriptionError("No upload with that id was found in your files.")
    return upload


def create_job(
    *,
    owner: AbstractBaseUser,
    source: str,
    session: ChatSession | None = None,
    language: str = "",
    task: str = Task.TRANSCRIBE,
    model: str = "",
    redo: bool = False,
) -> TranscriptionJob:
    """Validate a request (a link, or the id of one of the owner's uploads) and record a queued job.

    `language` is a code or "auto"/"" (detect per chunk); `task` is transcribe or translate (into English);
    `model` is one of available_models() (default: the first). A link this user already transcribed the same way
    gives a job that is done at once with the existing transcript, unless `redo`. Raises TranscriptionError for
    bad input, before any work starts.
    """
    source = source.strip()
    if not source:
        raise TranscriptionError("Give a link to a video or the id of an uploaded file.")
    if session is not None and session.owner_id != owner.pk:
        raise TranscriptionError("Chat session not found.")
    model, language, task = _checked_choices(model=model, language=language, task=task)
    # The creating process runs the job (runner.submit or `transcribe`), so it is the job's runner from the start:
    # another process starting meanwhile must not take a queued job for an interrupted one.
    fields = {
        "owner": owner,
        "session": session,
        "language": language,
        "task": task,
        "model_name": model,
        "runner": RUNNER_ID,
    }
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
        if redo or language
        else Transcript.objects.filter(owner=owner, source=source, model_name=model, task=task).first()
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


def submit_job(job: TranscriptionJob) -> None:
    """Run the job in the background (the REST API and the UI answer at once and follow progress)."""
    if job.is_active:
        runner.submit(run_job, job.id)


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
    _checked_choices(model=model, language=language, task=task)
    jobs: list[TranscriptionJob] = []
    errors: list[str] = []
    for link in links:
        try:
            jobs.append(create_job(owner=owner, source=link, model=model, language=language, task=task))
        except TranscriptionError as exc:
            errors.append(f"{link}: {exc}")
    for uploaded in files:
        try:
            upload = store_upload(owner=owner, uploaded_file=uploaded)
        except UploadRejectedError as exc:
            errors.append(f"{uploaded.name}: {exc}")
            continue
        jobs.append(create_job(owner=owner, source=str(upload.id), model=model, language=language, task=task))
    for job in jobs:
        submit_job(job)
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
    source = str(job.upload_id) if job.upload_id else job.source
    new_job = create_job(
        owner=owner,
        source=source,
        session=job.session,
        language=job.language,
        task=job.task,
        model=job.model_name,
        redo=True,
    )
    submit_job(new_job)
    return new_job


def run_job(job_id: uuid.UUID | str) -> TranscriptionJob:
    """Do the job's blocking work. Never raises for bad input: the job ends failed with a readable error."""
    job = TranscriptionJob.objects.select_related("upload").get(pk=job_id)
    if not job.is_active:
        return job
    TranscriptionJob.objects.filter(pk=job.pk).update(runner=RUNNER_ID)
    workdir = job_work_dir(job.id)
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        with ProgressReporter(job) as progress:
            try:
                progress.raise_if_cancelled()
                transcript = _transcribe_job(job, progress, workdir)
            except JobCancelled:
                progress.cancelled()
            except (DownloadError, MediaError, TranscriptionError) as exc:
                # yt-dlp wraps what its progress hook raised; a cancel seen there is still a cancel.
                if progress.cancel_seen:
                    progress.cancelled()
                else:
                    progress.fail(str(exc))
            except Exception:
                if progress.cancel_seen:
                    progress.cancelled()
                else:
                    logger.exception("Job %s failed", job.id)
                    progress.fail("The transcription failed unexpectedly; the server log has the details.")
            else:
                progress.done(transcript.id, warning=transcript.warning)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        close_old_connections()
    return job


def _transcribe_job(job: TranscriptionJob, progress: ProgressReporter, workdir: Path) -> Transcript:
    started = time.monotonic()
    if job.upload is not None:
        media_path, title, base = Path(job.upload.file.path), Path(job.upload.original_name).stem, 0.0
    else:
        progress.update(JobStatus.DOWNLOADING, "Downloading", 0.0)
        media = download_audio(
            job.source,
            workdir,
            download_config(),
            on_progress=lambda percent, detail: progress.update(
                JobStatus.DOWNLOADING, "Downloading", percent * DOWNLOAD_SHARE / 100, detail
            ),
        )
        media_path, title, base = media.path, media.title, DOWNLOAD_SHARE
    job.download_seconds = round(time.monotonic() - started, 3)
    info = probe_media(media_path)
    limit = settings.DOWNLOAD_MAX_DURATION_SECONDS
    if job.upload is None and info.duration > limit:
        # yt-dlp knows a video's length beforehand only where the site says it; a plain file link is checked here.
        raise duration_over_limit(info.duration, limit)

    if not runner.slot_is_free():
        progress.update(JobStatus.QUEUED, "Waiting for a free transcription slot", base)
    with runner.transcription_slot():
        progress.update(JobStatus.TRANSCRIBING, "Transcribing", base)
        started = time.monotonic()
        result = transcribe_file(
            media_path,
            engine_config(job.model_name),
            language=job.language,
            task=job.task,
            on_progress=lambda percent: progress.update(
                JobStatus.TRANSCRIBING, "Transcribing", base + percent * (100 - base) / 100
            ),
        )
        job.transcribe_seconds = round(time.monotonic() - started, 3)
    job.warning = result.warning
    TranscriptionJob.objects.filter(pk=job.pk).update(
        download_seconds=job.download_seconds, transcribe_seconds=job.transcribe_seconds, warning=result.warning
    )
    if not result.segments:
        raise TranscriptionError("No speech was found in this media.")
    return _store_transcript(job, result, title, media_path)


def _store_transcript(job: TranscriptionJob, result: TranscriptionResult, title: str, media: Path) -> Transcript:
    with transaction.atomic():
        transcript = Transcript.objects.create(
            owner_id=job.owner_id,
            session_id=job.session_id,
            title=title[:300] or job.source[:300],
            source=job.source,
            source_type=job.source_type,
            language=result.language,
            languages=result.languages,
            task=result.task,
            translation_of=_original_of(job) if result.task == Task.TRANSLATE else None,
            warning=result.warning,
            duration=round(result.duration, 3),
            model_name=result.model_name,
            text=result.text,
            segments=result.segments,
            size=len(result.text.encode()),
        )
        # Inside the transaction: if writing fails, the row is rolled back and the files removed.
        try:
            write_transcript_files(transcript)
            _keep_media(transcript, job, media)
        except OSError:
            transcript.remove_files()
            raise
    return transcript


def _keep_media(transcript: Transcript, job: TranscriptionJob, media: Path) -> None:
    """Record the media for the transcript page's player: an upload stays where it is; a link's download moves
    into the transcript's own folder (removed with it) when KEEP_MEDIA is on."""
    if job.upload is not None:
        transcript.media_file = job.upload.file.name
    elif settings.KEEP_MEDIA:
        kept = transcript.files_dir / f"media{media.suffix.lower()}"
        shutil.move(media, kept)
        transcript.media_file = str(kept.relative_to(settings.MEDIA_ROOT))
    else:
        return
    transcript.media_size = (Path(settings.MEDIA_ROOT) / transcript.media_file).stat().st_size
    transcript.save(update_fields=["media_file", "media_size"])


def _original_of(job: TranscriptionJob) -> Transcript | None:
    """The newest transcript of the same media in its own language, which a translation links to."""
    originals = Transcript.objects.filter(owner_id=job.owner_id, task=Task.TRANSCRIBE)
    if job.upload_id is not None:
        originals = originals.filter(jobs__upload_id=job.upload_id)
    else:
        originals = originals.filter(source=job.source)
    return originals.order_by("-created_at").first()


def write_transcript_files(transcript: Transcript) -> None:
    """Export every format into the transcript's own directory (removed with the transcript)."""
    transcript.files_dir.mkdir(parents=True, exist_ok=True)
    for fmt in FORMATS:
        exported = export_transcript(transcript, fmt)
        (transcript.files_dir / f"transcript.{fmt}").write_text(exported.content, encoding="utf-8")


async def transcribe(
    *,
    owner: AbstractBaseUser,
    source: str,
    session: ChatSession | None = None,
    language: str = "",
    task: str = Task.TRANSCRIBE,
    model: str = "",
    redo: bool = False,
) -> Transcript:
    """Transcribe from async code (the agent's tool). The event loop stays free; raises TranscriptionError."""
    # sync_to_async (not asyncio.to_thread): progress sent from the worker thread with async_to_sync then runs
    # on this event loop, which the in-memory channel layer needs.
    job = await sync_to_async(_closing_connections(create_job), thread_sensitive=False)(
        owner=owner, source=source, session=session, language=language, task=task, model=model, redo=redo
    )
    if job.is_active:
        job = await sync_to_async(run_job, thread_sensitive=False)(job.id)
    if job.status == JobStatus.FAILED:
        raise TranscriptionError(job.error)
    return await sync_to_async(_closing_connections(Transcript.objects.get), thread_sensitive=False)(
        pk=job.transcript_id
    )


def _closing_connections(fn: Callable[..., T]) -> Callable[..., T]:
    """Run fn in a worker thread and close that thread's database connection afterwards (no leaked sessions)."""

    def wrapper(*args: object, **kwargs: object) -> T:
        try:
            return fn(*args, **kwargs)
        finally:
            close_old_connections()

    return wrapper


def create_document(
    *, owner: AbstractBaseUser, filename: str, content: str, session: ChatSession | None = None
) -> Transcript:
    """Save a text document the agent wrote (a summary, notes) into the owner's library.

    The file name is only a title: nothing of it reaches a file path, so it cannot escape the user's storage.
    """
    if len(content) > DOCUMENT_MAX_CHARS:
        raise TranscriptionError(f"The document is too long (limit {DOCUMENT_MAX_CHARS} characters).")
    if session is not None and session.owner_id != owner.pk:
        raise TranscriptionError("Chat session not found.")
    title = sanitise_original_name(filename)[:300]
    with transaction.atomic():
        transcript = Transcript.objects.create(
            owner=owner,
            session=session,
            title=title,
            source=title,
            source_type=SourceType.AGENT,
            text=content,
            segments=[],
            size=len(content.encode()),
        )
        write_transcript_files(transcript)
    return transcript


def job_work_dir(job_id: uuid.UUID | str) -> Path:
    """The job's own scratch folder under the data directory (removed when the job ends, or by the sweep)."""
    return Path(settings.JOB_WORK_DIR) / f"job-{job_id}"


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


def interrupt_own_jobs() -> int:
    """Mark the unfinished jobs of this process failed, when it stops (their threads end with the process)."""
    count = TranscriptionJob.objects.filter(runner=RUNNER_ID, status__in=ACTIVE_JOB_STATUSES).update(
        status=JobStatus.FAILED, stage="Failed", error=STOPPED_ERROR, finished_at=timezone.now()
    )
    if count:
        logger.warning("Marked %d unfinished transcription job(s) as interrupted", count)
    return count


def recover_interrupted_jobs() -> int:
    """Mark jobs that a stopped process left unfinished as failed, so none shows as running forever.

    A job is interrupted when no runner is recorded, or when its runner process (on this host) is gone. Jobs of
    live processes, and of processes on other hosts (which this one cannot see), are left alone.
    """
    interrupted = [
        job.id
        for job in TranscriptionJob.objects.filter(status__in=ACTIVE_JOB_STATUSES).only("id", "runner")
        if not _runner_alive(job.runner)
    ]
    if interrupted:
        TranscriptionJob.objects.filter(id__in=interrupted).update(
            status=JobStatus.FAILED,
            stage="Failed",
            error=INTERRUPTED_ERROR,
            finished_at=timezone.now(),
        )
        logger.warning("Marked %d interrupted transcription job(s) as failed", len(interrupted))
    return len(interrupted)


def _runner_alive(runner_id: str) -> bool:
    """Whether the process named `host:pid:start time` may still be running the job."""
    if not runner_id:
        return False
    if runner_id == RUNNER_ID:
        return True
    host, _, rest = runner_id.partition(":")
    pid_text, _, started = rest.partition(":")
    if host != socket.gethostname():
        return True
    pid = int(pid_text) if pid_text.isdigit() else 0
    if pid <= 0 or pid == os.getpid():
        return False  # this process is not the one recorded (checked above): the pid was reused
    if Path("/proc").is_dir():
        now_started = _process_start_time(pid)
        return bool(now_started) and (not started or now_started == started)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
