"""A file answered with HTTP range requests (RFC 9110 §14), so a browser's player can seek in long media.

Django's FileResponse always sends the whole file; Safari refuses to play media without 206 answers, and every
browser needs them to seek before the file has loaded.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from pathlib import Path

from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse

SINGLE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK_BYTES = 256 * 1024


def ranged_file_response(request: HttpRequest, path: Path) -> HttpResponse:
    """200 with the whole file, 206 with one requested byte range, or 416 for a range outside the file.

    HEAD gets the same status, type, length and range headers, and the file is not read: Django's ASGI handler
    streams a HEAD answer's body like a GET's (Daphne drops it), so a 1 GB file would be read for nothing."""
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    size = path.stat().st_size
    match = SINGLE_RANGE.match(request.headers.get("Range", "").replace(" ", ""))
    head = request.method == "HEAD"
    if not match or not (match[1] or match[2]):  # no range, or several (allowed: answer with the whole file)
        if head:
            response: HttpResponse = HttpResponse(content_type=content_type, headers={"Content-Length": str(size)})
        else:
            response = FileResponse(path.open("rb"), content_type=content_type)
        response["Accept-Ranges"] = "bytes"
        return response
    if match[1]:
        start, end = _position(match[1], size), min(_position(match[2], size) if match[2] else size - 1, size - 1)
    else:  # "bytes=-500": the last 500 bytes
        start, end = max(0, size - _position(match[2], size)), size - 1
    if start >= size or start > end:
        return HttpResponse(status=416, headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"})
    body = [] if head else _read(path, start, end - start + 1)
    response = StreamingHttpResponse(body, status=206, content_type=content_type)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    return response


def _position(digits: str, size: int) -> int:
    """A byte position of the header. More digits than any file size has mean "past the end" (int() refuses
    numbers of over 4,300 digits, and converting long ones is slow): a start there is unsatisfiable (416), an end
    or a suffix length there takes the rest of the file."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= len(str(size)) else size


def _read(path: Path, start: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(start)
        while length > 0:
            data = handle.read(min(CHUNK_BYTES, length))
            if not data:
                return
            length -= len(data)
            yield data
