"""Upload endpoints (seed 5.4): POST /api/upload, GET /api/uploads, DELETE /api/uploads/{id}."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.apps import apps
from django.http import HttpRequest
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from uploads import services
from videoagent.api_errors import COMMON_ERRORS, ErrorOut

router = Router(tags=["uploads"])


class UploadOut(Schema):
    """Seed UploadResponse (success, file_id, error) plus the stored file's name and size; no server paths."""

    success: bool
    file_id: str | None = None
    filename: str | None = None
    size: int | None = None
    error: str | None = None


class UploadErrorOut(Schema):
    """The seed's UploadResponse for a refused file (success false, error), plus the API's usual `detail`."""

    success: bool = False
    error: str
    detail: str


class UploadItemOut(Schema):
    id: uuid.UUID
    filename: str
    size: int
    created_at: datetime

    @staticmethod
    def resolve_filename(obj: object) -> str:
        return obj.original_name  # type: ignore[attr-defined]


class UploadListOut(Schema):
    uploads: list[UploadItemOut]
    total: int


class DeletedOut(Schema):
    success: bool


@router.post(
    "/upload",
    response={200: UploadOut, 400: UploadErrorOut, 404: ErrorOut, 413: UploadErrorOut, **COMMON_ERRORS},
    # The file is required; a request without one still gets the seed's 400 ("No file was uploaded"), not a 422.
    openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": {"required": ["file"]}}}}},
)
def upload_file(
    request: HttpRequest,
    # Typed without `| None`, which would document a null: a form field is sent or left out, never null.
    file: File[UploadedFile] = None,  # type: ignore[assignment]
    session_id: Form[uuid.UUID] = None,  # type: ignore[assignment]
) -> Status[dict[str, object]]:
    if session_id is not None:
        # Accepted for the seed's form shape; it must name one of the caller's own chats. Looked up by name: the
        # chat app depends on this one, never the reverse (import-linter's contract in pyproject.toml).
        apps.get_model("chat", "ChatSession").objects.get_owned(request.auth, session_id)
    try:
        upload = services.store_upload(owner=request.auth, uploaded_file=file)
    except services.UploadRejectedError as exc:
        return Status(exc.status, {"success": False, "error": str(exc), "detail": str(exc)})
    return Status(
        200, {"success": True, "file_id": str(upload.id), "filename": upload.original_name, "size": upload.size}
    )


@router.get("/uploads", response={200: UploadListOut, 401: ErrorOut})
def list_uploads(request: HttpRequest) -> dict[str, object]:
    uploads = list(services.list_uploads(owner=request.auth))
    return {"uploads": uploads, "total": len(uploads)}


@router.delete("/uploads/{upload_id}", response={200: DeletedOut, 404: ErrorOut, **COMMON_ERRORS})
def delete_upload(request: HttpRequest, upload_id: uuid.UUID) -> dict[str, bool]:
    services.delete_upload(owner=request.auth, upload_id=upload_id)
    return {"success": True}
