"""The chat pages: the newest chat (or a new one), a chat by id, and "new chat"."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from chat import selectors, services
from transcripts.progress import saved_progress_event
from transcripts.selectors import jobs_for

CHAT_JOBS_SHOWN = 20


def index(request: HttpRequest) -> HttpResponse:
    """Open the most recent chat, or start the first one."""
    latest = selectors.latest_session_for(owner=request.user)
    if latest is None:
        latest = services.create_session(owner=request.user)
    return redirect("chat:session", session_id=latest.id)


@require_POST
def new_chat(request: HttpRequest) -> HttpResponse:
    session = services.create_session(owner=request.user)
    return redirect("chat:session", session_id=session.id)


def chat_session(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    session = selectors.get_session_for(owner=request.user, session_id=session_id)  # NotFound: the 404 page
    # The chat's latest jobs, drawn oldest first by chat.js, so their progress rows survive a reload.
    latest_jobs = list(jobs_for(owner=request.user, session_id=session.id)[:CHAT_JOBS_SHOWN])
    return render(
        request,
        "chat/chat.html",
        {
            "session": session,
            "sessions": selectors.list_sessions(owner=request.user, limit=50),
            "max_chars": settings.CHAT_MESSAGE_MAX_CHARS,
            "accept": ",".join(settings.UPLOAD_ALLOWED_EXTENSIONS),
            "jobs": [saved_progress_event(job) for job in reversed(latest_jobs)],
        },
    )
