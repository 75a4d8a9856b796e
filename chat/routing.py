from __future__ import annotations

from django.urls import path

from chat.consumers import ChatConsumer
from transcripts.consumers import JobsConsumer

websocket_urlpatterns = [
    path("ws/chat/<uuid:session_id>/", ChatConsumer.as_asgi()),
    path("ws/jobs/", JobsConsumer.as_asgi()),
]
