"""The transcript library pages: list with search, one transcript, downloads, delete."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST, require_safe

from transcripts import editing, exports, selectors
from transcripts.errors import TranscriptionError
from transcripts.forms import NewTranscriptionForm
from transcripts.models import Transcript
from transcripts.ranges import ranged_file_response
from transcripts.search import search_library
from videoagent.user_input import BadInput, check_text, decode_json_object

PAGE_SIZE = 25


@require_safe
def library(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    page = Paginator(selectors.transcripts_for(owner=request.user, query=query), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    hits = search_library(owner=request.user, query=query) if query else []
    return render(
        request,
        "transcripts/library.html",
        {"page": page, "query": query, "hits": hits, "form": NewTranscriptionForm()},
    )


@require_safe
def detail(request: HttpRequest, transcript_id: str) -> HttpResponse:
    transcript = selectors.get_transcript_for(owner=request.user, transcript_id=transcript_id)
    return render(
        request,
        "transcripts/detail.html",
        {
            "transcript": transcript,
            "lines": selectors.transcript_lines(transcript),
            "formats": exports.EXPORT_FORMATS,
            "media_kind": selectors.media_kind(transcript),
        },
    )


@require_safe
def media(request: HttpRequest, transcript_id: str) -> HttpResponse:
    """The audio or video of one of the user's transcripts, for the page's player (range requests for seeking)."""
    transcript = selectors.get_transcript_for(owner=request.user, transcript_id=transcript_id)
    path = transcript.media_path
    if path is None:
        raise Http404("This transcript's media is not kept.")
    return ranged_file_response(request, path)


@require_POST
def rename(request: HttpRequest, transcript_id: str) -> HttpResponse:
    """JSON `{"title": ...}` renames the transcript."""
    try:
        title = check_text(decode_json_object(request.body).get("title"), name="The title")
        transcript = editing.rename_transcript(owner=request.user, transcript_id=transcript_id, title=title)
    except (BadInput, TranscriptionError) as exc:
        return JsonResponse({"detail": str(exc)}, status=400)
    return JsonResponse({"title": transcript.title})


@require_POST
def edit_segment(request: HttpRequest, transcript_id: str, index: int) -> HttpResponse:
    """JSON `{"text": ...}` replaces the segment's text; `{"revert": true}` undoes every edit of it."""
    try:
        body = decode_json_object(request.body)
        if body.get("revert") is True:
            transcript = editing.revert_segment(owner=request.user, transcript_id=transcript_id, index=index)
        else:
            text = check_text(body.get("text"), name="The text")
            transcript = editing.edit_segment(owner=request.user, transcript_id=transcript_id, index=index, text=text)
    except (BadInput, TranscriptionError) as exc:
        return JsonResponse({"detail": str(exc)}, status=400)
    segment = transcript.segments[index]
    return JsonResponse(
        {"text": segment["text"], "edited": bool(segment.get("edited")), "original": segment.get("original", "")}
    )


@require_safe
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
        exported = exports.export_transcript(transcript, fmt)
    except ValueError as exc:
        raise Http404(str(exc)) from exc
    response = HttpResponse(exported.content, content_type=exported.content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=exported.filename)
    return response
