"""The jobs page: start transcriptions from the web (no agent needed), follow them live, cancel, retry."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from transcripts import jobs as job_service
from transcripts import selectors
from transcripts.errors import TranscriptionError
from transcripts.forms import MAX_FILES, NewTranscriptionForm

JOBS_SHOWN = 100


@require_http_methods(["GET", "HEAD", "POST"])
def jobs(request: HttpRequest) -> HttpResponse:
    """GET: the user's jobs, newest first. POST: the "New transcription" form (links and files)."""
    form = NewTranscriptionForm(request.POST or None)
    if request.method == "POST":
        files = request.FILES.getlist("files")
        if form.is_valid() and not (form.cleaned_data["links"] or files):
            form.add_error("links", "Paste a link or choose a file.")
        if form.is_valid() and len(files) > MAX_FILES:
            form.add_error(None, f"At most {MAX_FILES} files at a time.")
        if form.is_valid():
            try:
                started, errors = job_service.start_transcriptions(
                    owner=request.user,
                    links=form.cleaned_data["links"],
                    files=files,
                    model=form.cleaned_data["model"],
                    language=form.cleaned_data["language"],
                    task=form.cleaned_data["task"],
                )
            except TranscriptionError as exc:
                form.add_error(None, str(exc))
            else:
                for error in errors:
                    messages.error(request, error)
                if started:
                    messages.success(request, f"Started {len(started)} transcription{'s' if len(started) > 1 else ''}.")
                return redirect("jobs:list")
    return render(
        request,
        "transcripts/jobs.html",
        {"jobs": selectors.jobs_with_queue_positions(owner=request.user, limit=JOBS_SHOWN), "form": form},
        status=400 if form.errors else 200,
    )


@require_POST
def cancel(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    return _act_on_job(request, job_service.cancel_job, job_id, "Cancelling the transcription.")


@require_POST
def retry(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    return _act_on_job(request, job_service.retry_job, job_id, "Started the transcription again.")


def _act_on_job(request: HttpRequest, action: Callable[..., object], job_id: uuid.UUID, done: str) -> HttpResponse:
    """Run a job action for the user and come back to the jobs page with its outcome in words."""
    try:
        action(owner=request.user, job_id=job_id)
    except TranscriptionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("jobs:list")
