"""Transcripts in the user's library and the jobs that produce them."""

from __future__ import annotations

import secrets
import shutil
import uuid
from pathlib import Path

from django.conf import settings
from django.db import models

from accounts.owned import OwnedQuerySet


def new_transcript_id() -> str:
    """Short, URL-safe, unguessable id (seed 4.1 used 8 characters of a UUID)."""
    return secrets.token_hex(6)


class Task(models.TextChoices):
    TRANSCRIBE = "transcribe"
    TRANSLATE = "translate", "translate into English"


class SourceType(models.TextChoices):
    YOUTUBE = "youtube"
    URL = "url"
    UPLOAD = "upload"
    LOCAL = "local"
    AGENT = "agent"


class Transcript(models.Model):
    id = models.CharField(primary_key=True, max_length=16, default=new_transcript_id, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="transcripts")
    session = models.ForeignKey(
        "chat.ChatSession", null=True, blank=True, on_delete=models.SET_NULL, related_name="transcripts"
    )
    title = models.CharField(max_length=300)
    source = models.TextField(help_text="The original URL or file name.")
    source_type = models.CharField(max_length=10, choices=SourceType.choices)
    language = models.CharField(max_length=16, blank=True, help_text='The language code, or "multiple".')
    languages = models.JSONField(default=list, blank=True, help_text="Every language of the text, in order.")
    task = models.CharField(max_length=10, choices=Task.choices, default=Task.TRANSCRIBE)
    translation_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="translations",
        help_text="For a translation: the transcript of the same media in its own language, if there is one.",
    )
    warning = models.TextField(blank=True, help_text="What the user should know about this transcript's quality.")
    duration = models.FloatField(default=0.0, help_text="Seconds of media.")
    model_name = models.CharField(max_length=100, blank=True)
    text = models.TextField(blank=True)
    segments = models.JSONField(
        default=list, blank=True, help_text="[{start, end, text, language, words: [{start, end, word}]}, ...]"
    )
    gaps = models.JSONField(
        default=list,
        blank=True,
        help_text="[{start, end}, ...]: seconds that sounded like speech where no words were recognised.",
    )
    size = models.PositiveBigIntegerField(default=0, help_text="Bytes of the text.")
    media_file = models.CharField(
        max_length=500,
        blank=True,
        help_text="The audio or video it came from, relative to MEDIA_ROOT (for the player).",
    )
    media_size = models.PositiveBigIntegerField(default=0, help_text="Bytes of media_file.")
    edited_at = models.DateTimeField(null=True, blank=True, help_text="When its title or text was last edited.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "source", "model_name"])]

    def __str__(self) -> str:
        return self.title

    @property
    def files_dir(self) -> Path:
        """Where this transcript's exported files live; removed with the row."""
        return Path(settings.MEDIA_ROOT) / "transcripts" / str(self.owner_id) / self.id

    def remove_files(self) -> None:
        shutil.rmtree(self.files_dir, ignore_errors=True)

    @property
    def media_path(self) -> Path | None:
        """The media file on disk, if it is kept and still there (an upload may have been deleted since)."""
        if not self.media_file:
            return None
        path = Path(settings.MEDIA_ROOT) / self.media_file
        return path if path.is_file() else None


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    DOWNLOADING = "downloading"
    TRANSCRIBING = "transcribing"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.DOWNLOADING, JobStatus.TRANSCRIBING)


class TranscriptionJob(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="transcription_jobs")
    session = models.ForeignKey(
        "chat.ChatSession", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    source = models.TextField()
    source_type = models.CharField(max_length=10, choices=SourceType.choices)
    upload = models.ForeignKey("uploads.Upload", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    language = models.CharField(max_length=16, blank=True, help_text="Requested language; empty: detect.")
    task = models.CharField(max_length=10, choices=Task.choices, default=Task.TRANSCRIBE)
    model_name = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    stage = models.CharField(max_length=200, blank=True)
    percent = models.FloatField(default=0.0)
    error = models.TextField(blank=True)
    warning = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False, help_text="The owner asked to stop it; the runner stops.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    download_seconds = models.FloatField(null=True, blank=True)
    transcribe_seconds = models.FloatField(null=True, blank=True)
    runner = models.CharField(max_length=200, blank=True, help_text="host:pid of the process running the job.")
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Refreshed by the runner while it works; a stale one means it died."
    )
    attempts = models.PositiveSmallIntegerField(default=0, help_text="How often a runner started this job.")
    transcript = models.ForeignKey(Transcript, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.source} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_JOB_STATUSES
