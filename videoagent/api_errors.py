"""The REST API's errors: every one is JSON, `{"detail": "…"}`, whatever raised it.

Validation errors (422) carry a list of problems in `detail`, as django-ninja makes them. The others are raised
while Django reads the request body (too large, too many fields, a malformed multipart body), by a lookup that
found nothing (Http404), or by a bug, and Django would answer them with an HTML page; `install` registers
handlers that answer JSON with the right status instead. Operations declare them in their `response=` with the
schemas below, so the OpenAPI document lists every status an operation can answer.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.deprecation import MiddlewareMixin
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Schema

from accounts.owned import NotFound
from uploads.handlers import UploadTooLargeError, format_size

logger = logging.getLogger(__name__)

# POST /api/upload answers its errors in the seed's UploadResponse shape (success, error) as well, so a
# too-large file reads the same whether the handler or the body parser refused it.
UPLOAD_URL_NAME = "upload_file"


class ErrorOut(Schema):
    """Any error but a validation error: one sentence for a person."""

    detail: str


class ValidationProblem(Schema):
    type: str
    loc: list[str | int]
    msg: str
    ctx: dict[str, Any] | None = None


class ValidationErrorOut(Schema):
    """422: the request does not match the schema; one entry per problem."""

    detail: list[ValidationProblem]


# The errors of an operation with parameters: no or a bad token (401), parameters outside the schema (422).
COMMON_ERRORS: dict[int, type[Schema]] = {401: ErrorOut, 422: ValidationErrorOut}
# And those of an operation that reads a request body.
BODY_ERRORS: dict[int, type[Schema]] = {**COMMON_ERRORS, 400: ErrorOut, 413: ErrorOut}


def error_response(api: NinjaAPI, request: HttpRequest, *, status: int, detail: str) -> HttpResponse:
    body: dict[str, object] = {"detail": detail}
    match = getattr(request, "resolver_match", None)
    if match is not None and match.url_name == UPLOAD_URL_NAME and status in (400, 413):
        body = {"success": False, "error": detail, **body}
    return api.create_response(request, body, status=status)


def install(api: NinjaAPI) -> None:
    """Register the handlers; ninja's own answer 401 (HttpError) and 422 (ValidationError) in JSON already."""

    @api.exception_handler(RequestDataTooBig)
    def request_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        # The upload cap (uploads/handlers.py) or DATA_UPLOAD_MAX_MEMORY_SIZE for a body that is not a file.
        if isinstance(exc, UploadTooLargeError):
            detail = str(exc)
        else:
            limit = format_size(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
            detail = f"The request body is too large: the limit is {limit}, not counting uploaded files."
        return error_response(api, request, status=413, detail=detail)

    @api.exception_handler(SuspiciousOperation)
    def suspicious_request(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        if isinstance(exc, TooManyFieldsSent):
            detail = "The request has too many form fields."
        elif isinstance(exc, TooManyFilesSent):
            detail = "The request has too many files."
        else:
            # Other messages can name server paths or settings.
            logger.warning("Refused a malformed API request: %s", exc)
            detail = "The request is malformed."
        return error_response(api, request, status=400, detail=detail)

    @api.exception_handler(MultiPartParserError)
    def malformed_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
        return error_response(api, request, status=400, detail=f"The multipart body cannot be read: {exc}")

    @api.exception_handler(BadRequest)
    def bad_request(request: HttpRequest, exc: BadRequest) -> HttpResponse:
        return error_response(api, request, status=400, detail=str(exc) or "The request is malformed.")

    @api.exception_handler(Http404)
    @api.exception_handler(NotFound)
    def not_found(request: HttpRequest, exc: Http404 | NotFound) -> HttpResponse:
        # Our lookups say what was not found ("Transcript not found"); another user's id reads the same.
        return error_response(api, request, status=404, detail=str(exc) or "Not found.")

    @api.exception_handler(Exception)
    def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        # ninja's default re-raises, and Django answers an HTML page (or a traceback with DEBUG on).
        logger.exception("Unhandled error in %s %s", request.method, request.path, exc_info=exc)
        return error_response(api, request, status=500, detail="Internal server error.")


@csrf_exempt
def unknown_endpoint(request: HttpRequest, path: str = "") -> JsonResponse:
    """Any /api/ path no operation matches: a JSON 404 rather than the site's HTML page."""
    return JsonResponse({"detail": "Not found."}, status=404)


class JsonMethodNotAllowedMiddleware(MiddlewareMixin):
    """ninja answers a wrong method with a plain-text 405 and offers no hook for it; under /api/ it becomes the
    documented JSON shape, keeping the Allow header."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if (
            response.status_code != 405
            or not request.path.startswith("/api/")
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        allowed = response.get("Allow", "")
        answer = JsonResponse(
            {"detail": f"{request.method} is not allowed here" + (f"; use {allowed}." if allowed else ".")},
            status=405,
        )
        if allowed:
            answer["Allow"] = allowed
        return answer
