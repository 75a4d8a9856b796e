"""Storing, listing and deleting a user's uploads (seed 5.4: checked extension, size cap, streamed to disk)."""

from __future__ import annotations

import logging
import unicodedata
import uuid
from pathlib import PurePath

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet

from uploads.handlers import format_size
from uploads.models import Upload

logger = logging.getLogger(__name__)
ORIGINAL_NAME_MAX = 255


class UploadRejectedError(Exception):
    """An upload refused with a message the user can read; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def allowed_extensions() -> list[str]:
    return [ext.lower() if ext.startswith(".") else f".{ext.lower()}" for ext in settings.UPLOAD_ALLOWED_EXTENSIONS]


def sanitise_original_name(name: str) -> str:
    """The user's file name as data: no directories, no control characters, at most 255 characters, extension kept."""
    name = unicodedata.normalize("NFC", PurePath(name.replace("\\", "/")).name)
    name = "".join(char for char in name if char.isprintable()).strip().strip(".") or "upload"
    if len(name) > ORIGINAL_NAME_MAX:
        suffix = PurePath(name).suffix[:16]
        name = name[: ORIGINAL_NAME_MAX - len(suffix)] + suffix
    return name


def store_upload(*, owner: AbstractBaseUser, uploaded_file: UploadedFile | None) -> Upload:
    """Validate and keep an uploaded file; raises UploadRejectedError (400 bad file, 413 too large).

    The file was already streamed to a temporary file by Django's upload handlers (over the in-memory limit);
    saving moves it under a name of ours (uploads/<owner>/<uuid><ext>), never the user's.
    """
    if uploaded_file is None:
        raise UploadRejectedError("No file was uploaded: send it in the multipart field “file”.")
    original_name = sanitise_original_name(uploaded_file.name or "")
    extension = PurePath(original_name).suffix.lower()
    allowed = allowed_extensions()
    if extension not in allowed:
        raise UploadRejectedError(f"Invalid file type {extension or '(none)'}. Allowed: {', '.join(allowed)}.")
    if uploaded_file.size > settings.UPLOAD_MAX_BYTES:
        # The upload handler normally stops such a file while streaming; this guards other entry points.
        raise UploadRejectedError(
            f"The file is too large: the limit is {format_size(settings.UPLOAD_MAX_BYTES)}.", status=413
        )
    if uploaded_file.size == 0:
        raise UploadRejectedError("The file is empty.")

    upload = Upload(owner=owner, original_name=original_name, size=uploaded_file.size)
    try:
        with transaction.atomic():
            upload.file.save(f"upload{extension}", uploaded_file, save=False)
            upload.save()
    except Exception:
        # A stored file without its row would never be found again.
        if upload.file:
            upload.file.delete(save=False)
        raise
    logger.info("Stored upload %s (%s bytes) for user %s", upload.id, upload.size, owner.pk)
    return upload


def list_uploads(*, owner: AbstractBaseUser) -> QuerySet[Upload]:
    return Upload.objects.for_owner(owner).order_by("-created_at")


def get_upload_for(*, owner: AbstractBaseUser, upload_id: uuid.UUID | str) -> Upload:
    """The owner's upload, or NotFound: another user's id looks exactly like a missing one."""
    return Upload.objects.get_owned(owner, upload_id)


def delete_upload(*, owner: AbstractBaseUser, upload_id: uuid.UUID | str) -> None:
    """Delete the owner's upload; the post_delete signal removes the stored file."""
    get_upload_for(owner=owner, upload_id=upload_id).delete()
