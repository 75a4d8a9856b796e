"""Static files served by the app itself (asgi.py), so `make run` needs no separate web server."""

from __future__ import annotations

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.exceptions import SuspiciousFileOperation
from django.http import Http404, HttpRequest, HttpResponseBase


class StaticFilesHandler(ASGIStaticFilesHandler):
    """Django's handler, with a path that leaves the static folders answered 404 like any missing file.

    The finders refuse `/static/../x` with SuspiciousFileOperation, which Django's handler does not catch: the
    server answered 500 with a traceback. A NUL character in the path fails the same way, as a ValueError.
    """

    def serve(self, request: HttpRequest) -> HttpResponseBase:
        try:
            return super().serve(request)
        except (SuspiciousFileOperation, ValueError) as exc:
            raise Http404("No such static file.") from exc
