"""Transcript and transcription-job endpoints (seed 5.3), all scoped to the caller's own rows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from transcripts import exports, selectors
from transcripts.engine.formats import FORMATS
from transcripts.engine.languages import LANGUAGE_CODES, TASKS, is_english_only
from transcripts.errors import QueueUnavailable, TranscriptionError
from transcripts.jobs import JobRequest, available_models, start_job
from transcripts.models import Transcript, TranscriptionJob
from videoagent.api_errors import BODY_ERRORS, COMMON_ERRORS, ErrorOut

router = Router(tags=["transcripts"])

# Bounds that keep every query cheap and its numbers inside a database integer.
OFFSET_MAX = 1_000_000
SOURCE_MAX_CHARS = 2048
# Transcript ids are short and URL-safe (models.new_transcript_id); anything else cannot name one.
TranscriptId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,16}$", description="A transcript id.")]


class WordOut(Schema):
    start: float
    end: float
    word: str


class SegmentOut(Schema):
    start: float
    end: float
    text: str
    language: str = ""
    words: list[WordOut] = []


class TranscriptOut(Schema):
    """Seed TranscriptMetadata (id, filename, original_source, source_type, created_at, file_size, session_id)
    plus title, language, duration and model."""

    id: str
    title: str
    filename: str
    original_source: str = Field(validation_alias="source")
    source_type: str
    language: str = Field(description='The language code, or "multiple" (see `languages`).')
    languages: list[str]
    task: str
    translation_of_id: str | None
    warning: str
    duration: float
    model_name: str
    created_at: datetime
    file_size: int = Field(validation_alias="size")
    session_id: uuid.UUID | None

    @staticmethod
    def resolve_filename(obj: Transcript) -> str:
        return exports.safe_filename(obj.title, "txt")


class GapOut(Schema):
    """Seconds that sounded like speech where no words were recognised (music, noise, or speech the model lost)."""

    start: float
    end: float


class TranscriptDetailOut(TranscriptOut):
    text: str
    segments: list[SegmentOut]
    gaps: list[GapOut]


class TranscriptListOut(Schema):
    transcripts: list[TranscriptOut]
    total: int
    limit: int
    offset: int


class TranscriptFilterIn(Schema):
    q: str = Field(
        "",
        max_length=selectors.QUERY_MAX_CHARS,
        description=f"Words that must all appear in the title, source or text (the first {selectors.QUERY_MAX_TERMS}).",
    )
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=OFFSET_MAX)


class DeletedOut(Schema):
    success: bool


class TranscriptionIn(Schema):
    source: str = Field(
        min_length=1,
        max_length=SOURCE_MAX_CHARS,
        pattern=r"\S",
        description="A video URL, or the file_id of an upload as returned by POST /api/upload.",
    )
    language: str = Field(
        "auto",
        max_length=16,
        description='A code from GET /api/transcription-options such as "en" or "de", or "auto" to detect it.',
    )
    task: Literal["transcribe", "translate"] = Field(
        "transcribe", description="translate: into English (multilingual models only)."
    )
    model: str = Field(
        "", max_length=100, description="One of GET /api/transcription-options' models; empty: the default."
    )
    redo: bool = False
    session_id: uuid.UUID | None = None


class JobOut(Schema):
    id: uuid.UUID
    status: str
    stage: str
    percent: float
    error: str
    source: str
    source_type: str
    language: str
    task: str
    model_name: str
    warning: str
    session_id: uuid.UUID | None
    transcript_id: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int = Field(description="How often a runner started it (more than 1: a worker stopped mid-job).")
    jobs_ahead: int | None = Field(
        None, description="While queued: how many jobs (of every user) are ahead of it; 0: it is next."
    )

    @staticmethod
    def resolve_jobs_ahead(obj: TranscriptionJob) -> int | None:
        return selectors.jobs_ahead(obj)


class JobListOut(Schema):
    jobs: list[JobOut]
    total: int


@router.get("/transcripts", response={200: TranscriptListOut, **COMMON_ERRORS})
def list_transcripts(request: HttpRequest, filters: Query[TranscriptFilterIn]) -> dict[str, object]:
    queryset = selectors.transcripts_for(owner=request.auth, query=filters.q)
    page = list(queryset[filters.offset : filters.offset + filters.limit])
    return {"transcripts": page, "total": queryset.count(), "limit": filters.limit, "offset": filters.offset}


@router.get("/transcripts/{transcript_id}", response={200: TranscriptDetailOut, 404: ErrorOut, **COMMON_ERRORS})
def get_transcript(request: HttpRequest, transcript_id: TranscriptId) -> Transcript:
    return selectors.get_transcript_for(owner=request.auth, transcript_id=transcript_id)


# What the download answers for each format: a text file, or the JSON document.
DOWNLOAD_CONTENT = {
    content_type.split(";")[0]: {"schema": {"type": "object" if fmt == "json" else "string"}}
    for fmt, content_type in FORMATS.items()
}


@router.get(
    "/transcripts/{transcript_id}/download",
    response={200: None, 404: ErrorOut, **COMMON_ERRORS},
    openapi_extra={"responses": {200: {"description": "The transcript as a file.", "content": DOWNLOAD_CONTENT}}},
)
def download_transcript(
    request: HttpRequest, transcript_id: TranscriptId, format: Literal["txt", "srt", "vtt", "json"] = "txt"
) -> HttpResponse:
    transcript = selectors.get_transcript_for(owner=request.auth, transcript_id=transcript_id)
    exported = exports.export_transcript(transcript, format)
    response = HttpResponse(exported.content, content_type=exported.content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=exported.filename)
    return response


@router.delete("/transcripts/{transcript_id}", response={200: DeletedOut, 404: ErrorOut, **COMMON_ERRORS})
def delete_transcript(request: HttpRequest, transcript_id: TranscriptId) -> dict[str, bool]:
    # The post_delete signal removes the transcript's files.
    selectors.get_transcript_for(owner=request.auth, transcript_id=transcript_id).delete()
    return {"success": True}


@router.post("/transcriptions", response={202: JobOut, 404: ErrorOut, 503: ErrorOut, **BODY_ERRORS})
def create_transcription(request: HttpRequest, payload: TranscriptionIn) -> Status[object]:
    try:
        job, _ = start_job(owner=request.auth, request=JobRequest(**payload.model_dump()))
    except QueueUnavailable as exc:
        return Status(503, {"detail": str(exc)})
    except TranscriptionError as exc:
        return Status(400, {"detail": str(exc)})
    return Status(202, job)


class ModelOut(Schema):
    name: str
    multilingual: bool
    default: bool


class TranscriptionOptionsOut(Schema):
    models: list[ModelOut]
    languages: list[str]
    tasks: list[str]


@router.get("/transcription-options", response={200: TranscriptionOptionsOut, 401: ErrorOut})
def get_transcription_options(request: HttpRequest) -> dict[str, object]:
    """What POST /api/transcriptions accepts: the configured models (default first), languages and tasks."""
    models = available_models()
    return {
        "models": [
            {"name": name, "multilingual": not is_english_only(name), "default": index == 0}
            for index, name in enumerate(models)
        ],
        "languages": ["auto", *sorted(LANGUAGE_CODES)],
        "tasks": list(TASKS),
    }


@router.get("/transcriptions", response={200: JobListOut, **COMMON_ERRORS})
def list_transcriptions(request: HttpRequest, limit: int = Query(50, ge=1, le=200)) -> dict[str, object]:
    queryset = selectors.jobs_for(owner=request.auth)
    return {"jobs": list(queryset[:limit]), "total": queryset.count()}


@router.get("/transcriptions/{job_id}", response={200: JobOut, 404: ErrorOut, **COMMON_ERRORS})
def get_transcription(request: HttpRequest, job_id: uuid.UUID) -> object:
    return selectors.get_job_for(owner=request.auth, job_id=job_id)
