"""The transcript library pages: list with search, one transcript, downloads, delete."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from transcripts import selectors
from transcripts.forms import NewTranscriptionForm
from transcripts.models import Transcript

PAGE_SIZE = 25


@require_GET
def library(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    page = Paginator(selectors.transcripts_for(owner=request.user, query=query), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "transcripts/library.html", {"page": page, "query": query, "form": NewTranscriptionForm()})


@require_GET
def detail(request: HttpRequest, transcript_id: str) -> HttpResponse:
    transcript = selectors.get_transcript_for(owner=request.user, transcript_id=transcript_id)
    return render(
        request,
        "transcripts/detail.html",
        {"transcript": transcript, "formats": selectors.EXPORT_FORMATS},
    )


@require_GET
def download(request: HttpRequest, transcript_id: str, fmt: str) -> HttpResponse:
    transcript = selectors.get_transcript_for(owner=request.user, transcript_id=transcript_id)
    return attachment_response(transcript, fmt)


@require_POST
def delete(request: HttpRequest, transcript_id: str) -> HttpResponse:
    transcript = selectors.get_transcript_for(owner=request.user, transcript_id=transcript_id)
    title = transcript.title
    transcript.delete()  # the post_delete signal removes its files
    messages.success(request, f"Deleted “{title}”.")
    return redirect("transcripts:library")


def attachment_response(transcript: Transcript, fmt: str) -> HttpResponse:
    """The transcript rendered in `fmt` as a file download; an unknown format is a missing page."""
    try:
        exported = selectors.export_transcript(transcript, fmt)
    except ValueError as exc:
        raise Http404(str(exc)) from exc
    response = HttpResponse(exported.content, content_type=exported.content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=exported.filename)
    return response
