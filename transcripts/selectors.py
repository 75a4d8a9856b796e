"""Reading the library: owner-scoped lookups, search, and exports of a transcript as a downloadable file."""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.text import slugify

from transcripts.engine.formats import FORMATS, render_transcript
from transcripts.models import JobStatus, Transcript, TranscriptionJob

EXPORT_FORMATS = ("txt", "srt", "vtt", "json")
FILENAME_STEM_MAX = 80
QUERY_MAX_CHARS = 200
QUERY_MAX_TERMS = 10


def query_words(query: str) -> list[str]:
    """The words searched for: at most QUERY_MAX_TERMS from the first QUERY_MAX_CHARS characters, so a long query
    cannot cost much (each word is one more LIKE over every text); the API refuses longer ones outright."""
    # No text holds a NUL character, and PostgreSQL refuses one in a query.
    return query[:QUERY_MAX_CHARS].replace("\x00", " ").split()[:QUERY_MAX_TERMS]


def transcripts_for(*, owner: AbstractBaseUser, query: str = "") -> QuerySet[Transcript]:
    """The owner's transcripts, newest first; `query` matches words of the title, source or text."""
    queryset = Transcript.objects.filter(owner=owner)
    for word in query_words(query):
        queryset = queryset.filter(Q(title__icontains=word) | Q(source__icontains=word) | Q(text__icontains=word))
    return queryset.order_by("-created_at")


def get_transcript_for(*, owner: AbstractBaseUser, transcript_id: str) -> Transcript:
    """The owner's transcript, or Http404: another user's id looks exactly like a missing one."""
    try:
        return Transcript.objects.get(pk=transcript_id, owner=owner)
    except Transcript.DoesNotExist as exc:
        raise Http404("Transcript not found") from exc


VIDEO_EXTENSIONS = {".mp4", ".mkv", ".avi", ".mov", ".m4v", ".webm"}


def media_kind(transcript: Transcript) -> str:
    """The player element for the transcript's kept media: "video", "audio", or "" when none is kept.

    A link's download is audio only (whatever its container); an upload plays as video if it looks like one.
    """
    if transcript.media_path is None:
        return ""
    is_video = transcript.source_type == "upload" and Path(transcript.media_file).suffix.lower() in VIDEO_EXTENSIONS
    return "video" if is_video else "audio"


def jobs_for(*, owner: AbstractBaseUser, session_id: uuid.UUID | str | None = None) -> QuerySet[TranscriptionJob]:
    """The owner's jobs, newest first; with `session_id`, only those started from that chat."""
    jobs = TranscriptionJob.objects.filter(owner=owner)
    if session_id is not None:
        jobs = jobs.filter(session_id=session_id)
    return jobs.order_by("-created_at")


def jobs_with_queue_positions(*, owner: AbstractBaseUser, limit: int) -> list[TranscriptionJob]:
    """The owner's newest jobs; a queued one has `queue_position` (1 = next), counted over every user's queue."""
    jobs = list(jobs_for(owner=owner).select_related("transcript")[:limit])
    if any(job.status == JobStatus.QUEUED for job in jobs):
        queue = TranscriptionJob.objects.filter(status=JobStatus.QUEUED).order_by("created_at")
        positions = {job_id: index for index, job_id in enumerate(queue.values_list("id", flat=True)[:10_000], 1)}
        for job in jobs:
            job.queue_position = positions.get(job.id)
    return jobs


def get_job_for(*, owner: AbstractBaseUser, job_id: uuid.UUID | str) -> TranscriptionJob:
    """The owner's transcription job, or Http404."""
    try:
        return TranscriptionJob.objects.get(pk=job_id, owner=owner)
    except (TranscriptionJob.DoesNotExist, ValidationError, ValueError) as exc:
        raise Http404("Transcription job not found") from exc


@dataclass(frozen=True)
class TranscriptFile:
    """A transcript rendered in one format, ready to send as an attachment."""

    filename: str
    content_type: str
    content: str


def safe_filename(title: str, extension: str) -> str:
    """An ASCII file name derived from the title: no path separators, quotes or control characters survive."""
    stem = slugify(title, allow_unicode=False)[:FILENAME_STEM_MAX].strip("-_") or "transcript"
    return f"{stem}.{extension}"


def export_transcript(transcript: Transcript, fmt: str) -> TranscriptFile:
    """Render `transcript` as txt, srt, vtt or json (ValueError for any other format)."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    content = render_transcript(
        fmt,
        title=transcript.title,
        language=transcript.language,
        languages=transcript.languages,
        duration=transcript.duration,
        segments=transcript.segments,
        text=transcript.text,
    )
    return TranscriptFile(safe_filename(transcript.title, fmt), FORMATS[fmt], content)


def export_transcripts_zip(transcripts: list[Transcript]) -> bytes:
    """A zip of TXT files, one per transcript; equal titles get numbered names instead of overwriting each other."""
    buffer = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for transcript in transcripts:
            exported = export_transcript(transcript, "txt")
            name = exported.filename
            counter = 1
            while name in used:
                counter += 1
                name = exported.filename.removesuffix(".txt") + f"-{counter}.txt"
            used.add(name)
            archive.writestr(name, exported.content)
    return buffer.getvalue()
