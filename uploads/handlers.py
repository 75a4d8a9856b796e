"""The upload size cap, enforced while Django parses a multipart request rather than after it.

`SizeLimitedUploadHandler` runs first in FILE_UPLOAD_HANDLERS. It refuses a request whose Content-Length already
exceeds the cap before a byte is parsed, and stops a file as soon as the streamed bytes pass the cap (for requests
without a trustworthy length). Stopping raises StopUpload, on which Django closes the later handlers' temporary
files, which deletes them: nothing half-written is left on disk.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

# Multipart boundaries, part headers and small form fields ride along with the file in Content-Length.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


class UploadTooLargeError(RequestDataTooBig):
    """An upload over settings.UPLOAD_MAX_BYTES. A SuspiciousOperation, so plain Django pages answer 400;
    the API turns it into 413."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"The file is too large: the limit is {format_size(limit)}.")


def format_size(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.0f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size} bytes"  # pragma: no cover


class SizeLimitedUploadHandler(FileUploadHandler):
    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: bytes,
        encoding: str | None = None,
    ) -> None:
        self.limit = settings.UPLOAD_MAX_BYTES
        self.received = 0
        self.exceeded = False
        if content_length > self.limit + MULTIPART_OVERHEAD_BYTES:
            raise UploadTooLargeError(self.limit)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        # Counted over every file of the request, so several files cannot add up past the cap either.
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the handlers after this one build the file

    def upload_complete(self) -> None:
        # Called after Django closed (and so deleted) the partial temporary files.
        if self.exceeded:
            raise UploadTooLargeError(self.limit)
