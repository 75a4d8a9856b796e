from __future__ import annotations

from django.urls import path

from transcripts import views

app_name = "transcripts"
urlpatterns = [
    path("", views.library, name="library"),
    path("<str:transcript_id>/", views.detail, name="detail"),
    path("<str:transcript_id>/download/<str:fmt>/", views.download, name="download"),
    path("<str:transcript_id>/delete/", views.delete, name="delete"),
]
