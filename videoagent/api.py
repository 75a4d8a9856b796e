"""The REST API (django-ninja). Each app has its own router; OpenAPI docs at /api/docs."""

from __future__ import annotations

from collections.abc import Callable

from csp.constants import SELF
from csp.decorators import csp_update
from django.http import HttpResponse
from ninja import NinjaAPI

from accounts.auth import api_auth, docs_access_required
from chat.api import router as chat_router
from transcripts.api import router as transcripts_router
from uploads.api import router as uploads_router
from videoagent import api_errors


def guard_docs(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    # Who may read the docs is decided in accounts/auth.py. Swagger UI's own stylesheet draws its icons from data:
    # URLs, so the docs page (alone) allows data: images on top of the site's policy.
    return docs_access_required(csp_update({"img-src": [SELF, "data:"]})(view))


api = NinjaAPI(title="VideoAgent API", version="1.0", auth=api_auth, urls_namespace="api", docs_decorator=guard_docs)
api.add_router("/", chat_router)
api.add_router("/", transcripts_router)
api.add_router("/", uploads_router)

# Every error is JSON in one shape, whatever raised it (videoagent/api_errors.py).
api_errors.install(api)
