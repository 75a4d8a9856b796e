"""Editing a transcript: its title, and the text of one segment (marked edited, undoable to Whisper's original).

Every export (TXT, SRT, VTT, JSON), the REST API and the agent's read_transcript read the edited text: the
transcript's `text` is rebuilt from its segments and its files are written again after each change.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from transcripts.errors import TranscriptionError
from transcripts.exports import write_transcript_files
from transcripts.models import Transcript
from transcripts.selectors import get_transcript_for

TITLE_MAX_CHARS = 300
SEGMENT_MAX_CHARS = 5_000


def rename_transcript(*, owner: AbstractBaseUser, transcript_id: str, title: str) -> Transcript:
    title = " ".join(title.split())
    if not title:
        raise TranscriptionError("A title cannot be empty.")
    if len(title) > TITLE_MAX_CHARS:
        raise TranscriptionError(f"A title has at most {TITLE_MAX_CHARS} characters.")
    with transaction.atomic():
        transcript = _locked(owner, transcript_id)
        transcript.title = title
        _save(transcript)
    return transcript


def edit_segment(*, owner: AbstractBaseUser, transcript_id: str, index: int, text: str) -> Transcript:
    """Replace segment `index`'s text. The first edit keeps Whisper's text and word times to undo to; the word
    times no longer match the new text, so subtitles of an edited segment are timed from its start and end."""
    text = " ".join(text.split())
    if not text:
        raise TranscriptionError("A segment's text cannot be empty; edit it, or undo to the original.")
    if len(text) > SEGMENT_MAX_CHARS:
        raise TranscriptionError(f"A segment has at most {SEGMENT_MAX_CHARS} characters.")
    with transaction.atomic():
        transcript = _locked(owner, transcript_id)
        segment = _segment(transcript, index)
        if "original" not in segment:
            segment["original"] = segment["text"]
            segment["original_words"] = segment.get("words", [])
        segment["text"], segment["words"], segment["edited"] = text, [], True
        if text == segment["original"]:
            _restore(segment)
        _save(transcript)
    return transcript


def revert_segment(*, owner: AbstractBaseUser, transcript_id: str, index: int) -> Transcript:
    """Undo every edit of segment `index`: Whisper's own text and word times again."""
    with transaction.atomic():
        transcript = _locked(owner, transcript_id)
        _restore(_segment(transcript, index))
        _save(transcript)
    return transcript


def _locked(owner: AbstractBaseUser, transcript_id: str) -> Transcript:
    get_transcript_for(owner=owner, transcript_id=transcript_id)  # NotFound for another user's id
    return Transcript.objects.select_for_update().get(pk=transcript_id, owner=owner)


def _segment(transcript: Transcript, index: int) -> dict[str, Any]:
    if not 0 <= index < len(transcript.segments):
        raise TranscriptionError(f"This transcript has no segment {index}.")
    return transcript.segments[index]


def _restore(segment: dict[str, Any]) -> None:
    if "original" in segment:
        segment["text"] = segment.pop("original")
        segment["words"] = segment.pop("original_words", [])
    segment.pop("edited", None)


def _save(transcript: Transcript) -> None:
    if transcript.segments:
        transcript.text = " ".join(segment["text"] for segment in transcript.segments)
    transcript.size = len(transcript.text.encode())
    transcript.edited_at = timezone.now()
    transcript.save(update_fields=["title", "segments", "text", "size", "edited_at"])
    write_transcript_files(transcript)
