"""Daphne hands every request body to Django untouched.

Daphne's request class is Twisted's HTTP request, which parses each multipart/form-data (and url-encoded) POST
body itself into `request.args`, a dict Daphne never reads. To do so it reads the whole body into memory (an
upload of the maximum size included), and a body its email-based parser cannot read (no parts, a broken
boundary, a part without a name) is answered `400` with an empty body and no Content-Type before Django sees the
request, so the API's documented JSON error never came (issue 20). Twisted has the switch,
`parsePOSTFormSubmission=False`; Daphne 4.2 does not pass it on. This module is the one place that reaches into
Daphne for it; tests/api/test_multipart_live.py posts those bodies to a real Daphne and pins the result.
"""

from __future__ import annotations

from typing import Any

from daphne import http_protocol


class WebRequest(http_protocol.WebRequest):
    """Daphne's request, leaving form bodies to Django's parser (which streams files to disk)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "parsePOSTFormSubmission": False})


def install() -> None:
    """Make Daphne build our request class. Its HTTPFactory.buildProtocol looks the class up by its module-level
    name each time a connection arrives, so replacing that name before the server starts is enough."""
    http_protocol.WebRequest = WebRequest  # type: ignore[misc]
