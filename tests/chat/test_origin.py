"""The websocket's origin check: the whole origin (scheme, host, port) must be the page's own or a trusted one."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from tests.chat.conftest import session_cookie
from tests.factories import ChatSessionFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("registry", "no_model_service")]

SAME_ORIGIN = b"http://127.0.0.1:8000"


async def handshake(user, *, origin: bytes | None, host: bytes = b"127.0.0.1:8000", scheme: str | None = None) -> bool:
    """Open alice's chat through the full ASGI application; True when the handshake is accepted."""
    from videoagent.asgi import application

    session = await database_sync_to_async(ChatSessionFactory)(owner=user)
    headers = [(b"host", host), (b"cookie", await database_sync_to_async(session_cookie)(user))]
    if origin is not None:
        headers.append((b"origin", origin))
    communicator = WebsocketCommunicator(application, f"/ws/chat/{session.id}/", headers=headers)
    if scheme is not None:
        communicator.scope["scheme"] = scheme
    connected, _ = await communicator.connect()
    await communicator.disconnect()
    return connected


async def test_the_pages_own_origin_is_accepted(alice):
    assert await handshake(alice, origin=SAME_ORIGIN)


async def test_same_origin_holds_on_any_port_the_server_runs_on(alice, settings):
    settings.CSRF_TRUSTED_ORIGINS = []
    assert await handshake(alice, origin=b"http://127.0.0.1:54321", host=b"127.0.0.1:54321")


async def test_another_port_on_the_same_host_is_refused(alice):
    assert not await handshake(alice, origin=b"http://127.0.0.1:9999")


async def test_another_host_is_refused(alice):
    assert not await handshake(alice, origin=b"http://evil.example.com:8000")


async def test_an_allowed_host_on_another_port_is_refused(alice):
    # localhost is in ALLOWED_HOSTS, which was all the old check looked at.
    assert not await handshake(alice, origin=b"http://localhost:3000")


async def test_a_csrf_trusted_origin_is_accepted(alice, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://videos.example.com"]
    assert await handshake(alice, origin=b"https://videos.example.com")
    assert not await handshake(alice, origin=b"http://videos.example.com")


async def test_a_wildcard_csrf_trusted_origin_accepts_its_subdomains(alice, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://*.example.com"]
    assert await handshake(alice, origin=b"https://videos.example.com")
    assert not await handshake(alice, origin=b"https://videos.example.org")


async def test_an_https_origin_does_not_match_a_plain_ws_request(alice):
    assert not await handshake(alice, origin=b"https://127.0.0.1:8000")


async def test_an_https_origin_matches_a_wss_request(alice, settings):
    settings.CSRF_TRUSTED_ORIGINS = []  # the default list trusts http://127.0.0.1:8000 whatever the scheme
    assert await handshake(alice, origin=b"https://127.0.0.1:8000", scheme="wss")
    assert not await handshake(alice, origin=SAME_ORIGIN, scheme="wss")


async def test_a_host_outside_allowed_hosts_is_not_its_own_origin(alice):
    # A DNS-rebound name: origin and Host agree, but the server was never meant to answer to that name.
    assert not await handshake(alice, origin=b"http://rebound.example.com:8000", host=b"rebound.example.com:8000")


async def test_a_missing_origin_is_refused(alice):
    # Browsers always send Origin on a websocket; other clients must send the origin they are meant to use.
    assert not await handshake(alice, origin=None)


async def test_a_null_origin_is_refused(alice):
    assert not await handshake(alice, origin=b"null")
