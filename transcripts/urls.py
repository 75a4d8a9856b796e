from __future__ import annotations

from django.urls import path

from transcripts import views

app_name = "transcripts"
urlpatterns = [
    path("", views.library, name="library"),
    path("<str:transcript_id>/", views.detail, name="detail"),
    path("<str:transcript_id>/download/<str:fmt>/", views.download, name="download"),
    path("<str:transcript_id>/media/", views.media, name="media"),
    path("<str:transcript_id>/title/", views.rename, name="rename"),
    path("<str:transcript_id>/segments/<int:index>/", views.edit_segment, name="edit_segment"),
    path("<str:transcript_id>/delete/", views.delete, name="delete"),
]
