from __future__ import annotations

from django.urls import path

from transcripts import job_views

app_name = "jobs"
urlpatterns = [
    path("", job_views.jobs, name="list"),
    path("<uuid:job_id>/cancel/", job_views.cancel, name="cancel"),
    path("<uuid:job_id>/retry/", job_views.retry, name="retry"),
]
