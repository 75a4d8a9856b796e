"""Login throttling hooks for django-axes: which address a login comes from, and the page a locked-out client sees.

Axes does the counting and locking (settings.py, "Login throttling"); these two callables are what it asks us.
"""

from __future__ import annotations

import math

from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_ip_address(request: HttpRequest) -> str | None:
    """The address a lock is keyed on: the socket's peer, or the header a trusted reverse proxy sets.

    Without django-ipware axes only reads REMOTE_ADDR; this keeps proxy support to one explicit header.
    """
    remote_addr = request.META.get("REMOTE_ADDR")
    header = settings.TRUSTED_PROXY_HEADER
    if not header:
        return remote_addr
    value = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
    # A proxy appends the peer it saw to X-Forwarded-For; entries left of it are whatever the client sent.
    forwarded = value.rsplit(",", 1)[-1].strip()
    return forwarded or remote_addr


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, object] | None = None,
) -> HttpResponse:
    """429 page for a username + address locked after too many failed logins (login form and admin alike).

    Axes' async middleware passes the credentials in place of the original response; neither is used here.
    """
    cool_off = get_cool_off(request)
    minutes = math.ceil(cool_off.total_seconds() / 60) if cool_off else None
    response = render(request, "accounts/locked_out.html", {"cooloff_minutes": minutes}, status=429)
    if cool_off:
        response["Retry-After"] = str(math.ceil(cool_off.total_seconds()))
    return response
