"""Documents the agent writes (a summary, notes) into the owner's library, beside the transcripts."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from transcripts.errors import TranscriptionError
from transcripts.exports import write_transcript_files
from transcripts.jobs import check_session
from transcripts.models import SourceType, Transcript
from uploads.services import sanitise_original_name

DOCUMENT_MAX_CHARS = 2_000_000


def create_document(
    *, owner: AbstractBaseUser, filename: str, content: str, session_id: uuid.UUID | str | None = None
) -> Transcript:
    """Save a text document into the owner's library. The file name is only a title: nothing of it reaches a file
    path, so it cannot escape the user's storage. NotFound for a chat session that is not the owner's."""
    if len(content) > DOCUMENT_MAX_CHARS:
        raise TranscriptionError(f"The document is too long (limit {DOCUMENT_MAX_CHARS} characters).")
    check_session(owner, session_id)
    title = sanitise_original_name(filename)[:300]
    with transaction.atomic():
        transcript = Transcript.objects.create(
            owner=owner,
            session_id=session_id,
            title=title,
            source=title,
            source_type=SourceType.AGENT,
            text=content,
            segments=[],
            size=len(content.encode()),
        )
        write_transcript_files(transcript)
    return transcript
