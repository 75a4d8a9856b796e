"""The websocket's origin check: the same rule Django's CSRF check applies to a form post.

Channels' `AllowedHostsOriginValidator` compares only the origin's host name with ALLOWED_HOSTS, so a page served
by any other port or scheme of the same host (`http://127.0.0.1:9999`) could drive a logged-in user's chat. Here
the whole origin (scheme, host, port) must be the websocket request's own origin or one of CSRF_TRUSTED_ORIGINS.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

logger = logging.getLogger(__name__)

Scope = dict[str, Any]


def _single_header(scope: Scope, name: bytes) -> str | None:
    """The header's value; None when it is missing or sent more than once (which a browser never does)."""
    values = [value for key, value in scope.get("headers", []) if key == name]
    return values[0].decode("latin1") if len(values) == 1 else None


def own_origin(scope: Scope) -> str | None:
    """The origin of a page served by this request's host, as a browser would send it; None for a host that
    ALLOWED_HOSTS does not name (a DNS-rebound name must not count as same-origin)."""
    host = _single_header(scope, b"host")
    if not host:
        return None
    domain, _port = split_domain_port(host)
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:  # as HttpRequest.get_host allows
        allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]
    if not domain or not validate_host(domain, allowed_hosts):
        return None
    # A page on https opens wss; the ASGI spec's default scheme is ws (Daphne never sets it for websockets).
    page_scheme = "https" if scope.get("scheme", "ws") == "wss" else "http"
    return f"{page_scheme}://{host}"


def origin_trusted(origin: str, scope: Scope) -> bool:
    """Django's CsrfViewMiddleware._origin_verified, for a websocket scope."""
    if origin == own_origin(scope) or origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    try:
        parsed = urlsplit(origin)
    except ValueError:
        return False
    # Wildcard entries ("https://*.example.com") allow every subdomain for that scheme.
    subdomains = [
        entry.netloc.lstrip("*")
        for entry in map(urlsplit, settings.CSRF_TRUSTED_ORIGINS)
        if "*" in entry.netloc and entry.scheme == parsed.scheme
    ]
    return any(is_same_domain(parsed.netloc, pattern) for pattern in subdomains)


class TrustedOriginValidator:
    """ASGI middleware: refuses a websocket handshake whose Origin the CSRF check would not trust.

    A missing Origin is refused too: browsers always send one on websockets, and a client that is not a browser
    can send the origin it is meant to use.
    """

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        if scope["type"] != "websocket":
            raise ValueError("TrustedOriginValidator only guards websocket connections")
        origin = _single_header(scope, b"origin")
        if origin is not None and origin_trusted(origin, scope):
            return await self.application(scope, receive, send)
        logger.warning(
            "Websocket refused: origin %r is not trusted for host %r", origin, _single_header(scope, b"host")
        )
        # Closing before accepting: Daphne answers the handshake with 403, as for channels' own validator.
        return await WebsocketDenier.as_asgi()(scope, receive, send)
