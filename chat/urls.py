from __future__ import annotations

from django.urls import path

from chat import views

app_name = "chat"

urlpatterns = [
    path("", views.index, name="index"),
    path("chat/new/", views.new_chat, name="new"),
    path("chat/<uuid:session_id>/", views.chat_session, name="session"),
]
