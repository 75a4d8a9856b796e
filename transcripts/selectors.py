"""Reading the library and the jobs: owner-scoped lookups (NotFound for what is not the owner's), queue positions.

Exports of a transcript as files are in transcripts.exports; full-text search in transcripts.search.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

from transcripts.models import JobStatus, Transcript, TranscriptionJob

QUERY_MAX_CHARS = 200
QUERY_MAX_TERMS = 10


def query_words(query: str) -> list[str]:
    """The words searched for: at most QUERY_MAX_TERMS from the first QUERY_MAX_CHARS characters, so a long query
    cannot cost much (each word is one more LIKE over every text); the API refuses longer ones outright."""
    # No text holds a NUL character, and PostgreSQL refuses one in a query.
    return query[:QUERY_MAX_CHARS].replace("\x00", " ").split()[:QUERY_MAX_TERMS]


def transcripts_for(*, owner: AbstractBaseUser, query: str = "") -> QuerySet[Transcript]:
    """The owner's transcripts, newest first; `query` matches words of the title, source or text."""
    queryset = Transcript.objects.for_owner(owner)
    for word in query_words(query):
        queryset = queryset.filter(Q(title__icontains=word) | Q(source__icontains=word) | Q(text__icontains=word))
    return queryset.order_by("-created_at")


def get_transcript_for(*, owner: AbstractBaseUser, transcript_id: str) -> Transcript:
    """The owner's transcript, or NotFound: another user's id looks exactly like a missing one."""
    return Transcript.objects.get_owned(owner, transcript_id)


VIDEO_EXTENSIONS = {".mp4", ".mkv", ".avi", ".mov", ".m4v", ".webm"}


def transcript_lines(transcript: Transcript) -> list[dict[str, Any]]:
    """The page's text in time order: each segment (with its index, for editing) and, where it falls, each gap."""
    lines: list[dict[str, Any]] = []
    gaps = sorted(transcript.gaps, key=lambda gap: gap["start"])
    for index, segment in enumerate(transcript.segments):
        while gaps and gaps[0]["start"] < segment["start"]:
            lines.append({"gap": gaps.pop(0)})
        lines.append({"index": index, "segment": segment})
    lines += [{"gap": gap} for gap in gaps]
    return lines


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
    jobs = TranscriptionJob.objects.for_owner(owner)
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
    """The owner's transcription job, or NotFound."""
    return TranscriptionJob.objects.get_owned(owner, job_id)


def jobs_ahead(job: TranscriptionJob) -> int | None:
    """For a job waiting to start: how many jobs of every user are ahead of it in the queue (0: it is next)."""
    if job.status != JobStatus.QUEUED:
        return None
    return TranscriptionJob.objects.filter(status=JobStatus.QUEUED).filter(created_at__lt=job.created_at).count()
