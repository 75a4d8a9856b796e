from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path

from videoagent.api import api
from videoagent.api_errors import unknown_endpoint

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    # Any other /api/ path: a JSON 404 like the API's own, not the site's HTML page.
    re_path(r"^api/(?P<path>.*)$", unknown_endpoint),
    path("", include("accounts.urls")),
    path("library/", include("transcripts.urls")),
    path("jobs/", include("transcripts.job_urls")),
    path("", include("chat.urls")),
]
