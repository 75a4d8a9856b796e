"""ASGI entry point: HTTP (pages, API, static files) and websockets, served by Daphne."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "videoagent.settings")

# Set up Django (apps, models) before importing consumers, which import models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import WebsocketDenier  # noqa: E402
from django.urls import re_path  # noqa: E402

from chat.routing import websocket_urlpatterns  # noqa: E402
from videoagent import daphne_bodies  # noqa: E402
from videoagent.origin import TrustedOriginValidator  # noqa: E402
from videoagent.startup import on_server_start  # noqa: E402

on_server_start()
# Under Daphne, multipart bodies reach Django's parser unparsed (and so its JSON errors); see the module.
daphne_bodies.install()

# Any other path (`/ws/nothing/`, a chat id that is no UUID): refused before the handshake completes, which Daphne
# answers 403, quietly. URLRouter raises ValueError for a path no route matches: a 500 and a traceback per request.
no_such_socket = re_path(r"", WebsocketDenier.as_asgi())

application = ProtocolTypeRouter(
    {
        # Static files too: WhiteNoise in the middleware (settings.MIDDLEWARE), so they carry the security headers.
        "http": django_asgi_app,
        # The full origin (scheme, host, port) must be trusted, as for a form post; see videoagent/origin.py.
        "websocket": TrustedOriginValidator(AuthMiddlewareStack(URLRouter([*websocket_urlpatterns, no_such_socket]))),
    }
)
