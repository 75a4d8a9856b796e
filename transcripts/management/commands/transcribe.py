"""`manage.py transcribe PATH_OR_URL`: the job service from the command line, with a progress bar.

The job goes through the runner like any other (in this process, or on a Celery worker when a broker is
configured); the bar follows the job row, which every runner keeps up to date."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser

from transcripts.engine.formats import FORMATS
from transcripts.errors import TranscriptionError
from transcripts.exports import export_transcript
from transcripts.jobs import JobRequest, start_job
from transcripts.models import JobStatus, Transcript, TranscriptionJob
from uploads.models import Upload
from uploads.services import sanitise_original_name

PROGRESS_SECONDS = 0.5  # how often the bar is redrawn


class Command(BaseCommand):
    help = "Transcribe a media file or a link, print or write the transcript, and keep it in a user's library."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="a local audio/video file or an http(s) link")
        parser.add_argument("--model", default="", help="a Whisper model of WHISPER_MODELS (default: the first)")
        parser.add_argument("--format", choices=list(FORMATS), default="txt")
        parser.add_argument("--language", default="", help="language code such as en or de; default: detect")
        parser.add_argument(
            "--task", choices=["transcribe", "translate"], default="transcribe", help="translate: into English"
        )
        parser.add_argument("--output", "-o", help="write the transcript here instead of standard output")
        parser.add_argument("--user", help="store the transcript in this user's library (default: a system user)")
        parser.add_argument("--redo", action="store_true", help="transcribe a link again even if already done")

    def handle(self, *args: Any, **options: Any) -> None:
        transcript = self._transcribe(options)
        content = export_transcript(transcript, options["format"]).content
        if options["output"]:
            Path(options["output"]).write_text(content, encoding="utf-8")
            self.stderr.write(f"Wrote {options['output']}")
        else:
            self.stdout.write(content, ending="")
        if not options["user"]:
            transcript.delete()  # only kept when a user's library was asked for

    def _transcribe(self, options: dict[str, Any]) -> Transcript:
        owner = self._owner(options["user"])
        source: str = options["source"]
        upload = None
        if Path(source).is_file():
            with Path(source).open("rb") as handle:
                upload = Upload.objects.create(
                    owner=owner,
                    original_name=sanitise_original_name(Path(source).name),
                    file=File(handle, name=Path(source).name),
                    size=Path(source).stat().st_size,
                )
            source = str(upload.id)
        request = JobRequest(
            source=source,
            language=options["language"],
            task=options["task"],
            model=options["model"],
            redo=options["redo"],
        )
        try:
            job, handle = start_job(owner=owner, request=request)
            while job.is_active:
                self._show(job)
                try:
                    job = handle.wait(timeout=PROGRESS_SECONDS)
                except TimeoutError:
                    job.refresh_from_db()
            self._show(job)
        except TranscriptionError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if upload is not None:
                upload.delete()  # the command's copy of a local file is not kept
        self.stderr.write("")
        if job.status == JobStatus.FAILED:
            raise CommandError(job.error)
        if job.warning:
            self.stderr.write(self.style.WARNING(f"Warning: {job.warning}"))
        return Transcript.objects.get(pk=job.transcript_id)

    def _owner(self, username: str | None) -> Any:
        users = get_user_model()
        if username:
            try:
                return users.objects.get(username=username)
            except users.DoesNotExist as exc:
                raise CommandError(f"No user named {username!r}") from exc
        user, _ = users.objects.get_or_create(username="cli-transcribe", defaults={"is_active": False})
        return user

    def _show(self, job: TranscriptionJob) -> None:
        filled = int(job.percent / 5)
        bar = "#" * filled + "-" * (20 - filled)
        sys.stderr.write(f"\r[{bar}] {job.percent:5.1f}% {job.stage:<40.40}")
        sys.stderr.flush()
