"""The upload size cap holds while the multipart body is parsed, not only after it was written to disk."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import RequestFactory
from django.test.client import BOUNDARY, MULTIPART_CONTENT, FakePayload, encode_multipart

from uploads.handlers import SizeLimitedUploadHandler, UploadTooLargeError


def multipart_request(file_bytes: bytes, *, claimed_length: int | None = None):
    body = encode_multipart(BOUNDARY, {"file": _named_file(file_bytes)})
    extra = {"CONTENT_LENGTH": str(claimed_length)} if claimed_length is not None else {}
    request = RequestFactory().generic("POST", "/api/upload", data=body, content_type=MULTIPART_CONTENT, **extra)
    payload: FakePayload = request.META["wsgi.input"]
    return request, payload


def _named_file(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("talk.mp4", data)


def test_the_size_handler_runs_first():
    assert django_settings.FILE_UPLOAD_HANDLERS[0] == "uploads.handlers.SizeLimitedUploadHandler"


def test_parsing_stops_once_the_streamed_file_passes_the_limit(settings):
    settings.UPLOAD_MAX_BYTES = 1000
    request, _ = multipart_request(b"x" * 1001)
    with pytest.raises(UploadTooLargeError):
        request.FILES  # noqa: B018


def test_a_file_within_the_limit_parses(settings):
    settings.UPLOAD_MAX_BYTES = 1000
    request, _ = multipart_request(b"x" * 1000)
    assert request.FILES["file"].size == 1000


def test_an_oversize_content_length_is_refused_before_reading_the_body(settings):
    settings.UPLOAD_MAX_BYTES = 1000
    request, payload = multipart_request(b"x" * 10, claimed_length=10_000_000)
    with pytest.raises(UploadTooLargeError):
        request.FILES  # noqa: B018
    assert not payload.read_started


def test_the_handler_passes_chunks_on_unchanged(settings):
    settings.UPLOAD_MAX_BYTES = 1000
    handler = SizeLimitedUploadHandler()
    handler.handle_raw_input(None, {}, 100, b"b")
    assert handler.receive_data_chunk(b"abc", 0) == b"abc"
