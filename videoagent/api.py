"""The REST API (django-ninja). Each app has its own router; OpenAPI docs at /api/docs."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from accounts.auth import api_auth
from chat.api import router as chat_router
from transcripts.api import router as transcripts_router
from uploads.api import router as uploads_router
from uploads.handlers import UploadTooLargeError

api = NinjaAPI(title="VideoAgent API", version="1.0", auth=api_auth, urls_namespace="api")
api.add_router("/", chat_router)
api.add_router("/", transcripts_router)
api.add_router("/", uploads_router)


@api.exception_handler(UploadTooLargeError)
def upload_too_large(request: HttpRequest, exc: UploadTooLargeError) -> HttpResponse:
    # Raised while the multipart body streams in (uploads/handlers.py), before any handler runs.
    return api.create_response(request, {"success": False, "error": str(exc)}, status=413)
