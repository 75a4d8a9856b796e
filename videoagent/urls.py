from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from videoagent.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("accounts.urls")),
    path("library/", include("transcripts.urls")),
    path("jobs/", include("transcripts.job_urls")),
    path("", include("chat.urls")),
]
