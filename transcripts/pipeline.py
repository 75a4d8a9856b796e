"""The work of one job, wherever it runs (a web process's thread or a Celery worker): claim it, then
download → probe → Whisper → store, reporting progress all along. In the embedded mode the Whisper step runs in
the web process's child (transcripts.whisper_process); everything else, the database writes included, stays here.

`execute_job` never raises for bad input: the job ends failed with a readable error.
"""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, transaction

from transcripts import runner, slots
from transcripts.engine.download import DownloadConfig, DownloadError, download_audio, duration_over_limit
from transcripts.engine.probe import MediaError, probe_media
from transcripts.engine.whisper import EngineConfig, TranscriptionResult, transcribe_file
from transcripts.errors import TranscriptionError
from transcripts.exports import write_transcript_files
from transcripts.liveness import claim_job
from transcripts.models import JobStatus, Task, Transcript, TranscriptionJob
from transcripts.progress import EventSink, JobCancelled, ProgressReporter
from transcripts.recovery import job_work_dir
from transcripts.whisper_process import WhisperProcessLost, whisper_process

logger = logging.getLogger(__name__)

DOWNLOAD_SHARE = 20.0  # percent of a link job's progress bar given to the download
STARTING_AGAIN = "Starting again: the Whisper process stopped"


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


def download_config() -> DownloadConfig:
    return DownloadConfig(
        max_bytes=settings.DOWNLOAD_MAX_BYTES,
        max_duration_seconds=settings.DOWNLOAD_MAX_DURATION_SECONDS,
        socket_timeout=settings.DOWNLOAD_SOCKET_TIMEOUT_SECONDS,
        allow_private=settings.ALLOW_PRIVATE_URLS,
    )


def execute_job(job_id: uuid.UUID | str, *, sink: EventSink | None = None) -> None:
    """Claim the job and do its blocking work; progress events go to `sink` (default: the channel layer).
    A job that is not this process's to run (ended, or owned by another live runner) is left alone."""
    try:
        while True:
            job = claim_job(job_id)
            if job is None or not job.is_active:
                if job is not None:  # it failed at the claim (too many attempts): say so
                    ProgressReporter(job, sink=sink).announce(job.error)
                return
            if _run_claimed(job, sink):
                return
            # The Whisper process died under the job, as a worker may: it starts again the way the sweep starts a
            # dead runner's job, through the claim, which counts the attempt (and fails it past the last one).
    finally:
        close_old_connections()


def _run_claimed(job: TranscriptionJob, sink: EventSink | None) -> bool:
    """Run a claimed job to its end; False when it was interrupted and is to start again."""
    workdir = job_work_dir(job.id)
    shutil.rmtree(workdir, ignore_errors=True)  # a previous attempt's partial files
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        with ProgressReporter(job, sink=sink) as progress:
            try:
                progress.raise_if_cancelled()
                transcript = _transcribe_job(job, progress, workdir)
            except JobCancelled:
                progress.cancelled()
            except WhisperProcessLost as exc:
                logger.warning("Job %s: %s; starting it again", job.id, exc)
                progress.interrupted(STARTING_AGAIN)
                return False
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
    return True


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

    if not slots.slot_is_free():
        progress.update(JobStatus.QUEUED, "Waiting for a free transcription slot", base)
    with slots.transcription_slot():
        progress.update(JobStatus.TRANSCRIBING, "Transcribing", base)
        started = time.monotonic()
        result = transcribe_media(
            media_path,
            engine_config(job.model_name),
            language=job.language,
            task=job.task,
            on_progress=lambda percent: progress.update(
                JobStatus.TRANSCRIBING, "Transcribing", base + percent * (100 - base) / 100
            ),
            check_cancel=progress.raise_if_cancelled,
        )
        job.transcribe_seconds = round(time.monotonic() - started, 3)
    job.warning = result.warning
    TranscriptionJob.objects.filter(pk=job.pk).update(
        download_seconds=job.download_seconds, transcribe_seconds=job.transcribe_seconds, warning=result.warning
    )
    if not result.segments:
        raise TranscriptionError("No speech was found in this media.")
    return _store_transcript(job, result, title, media_path)


def transcribe_media(
    path: Path,
    config: EngineConfig,
    *,
    language: str,
    task: str,
    on_progress: Callable[[float], None],
    check_cancel: Callable[[], None],
) -> TranscriptionResult:
    """Whisper on the media: in this process on a worker, which is there for it; in the web process's Whisper
    process in the embedded mode, so that the web server never waits for it (check_cancel is called there between
    progress steps, which come from the other process)."""
    if runner.uses_workers():
        return transcribe_file(path, config, language=language, task=task, on_progress=on_progress)
    return whisper_process.transcribe(
        path, config, language=language, task=task, on_progress=on_progress, check_cancel=check_cancel
    )


def _store_transcript(job: TranscriptionJob, result: TranscriptionResult, title: str, media: Path) -> Transcript:
    """The transcript and the job's link to it, in one transaction: one transcript per job, never two (a job that
    another runner finished meanwhile keeps that runner's transcript)."""
    with transaction.atomic():
        locked = TranscriptionJob.objects.select_for_update().get(pk=job.pk)
        if locked.transcript_id is not None:
            return Transcript.objects.get(pk=locked.transcript_id)
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
            gaps=[{"start": start, "end": end} for start, end in result.gaps],
            size=len(result.text.encode()),
        )
        TranscriptionJob.objects.filter(pk=job.pk).update(transcript=transcript)
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
