"""A websocket outlives the request that logged it in: it is authenticated once, at the handshake, from the
session cookie. Without a second look, a socket opened before `POST /logout/`, before its session expired or
before an administrator deactivated the user kept taking messages (saved, and sent to the model, which costs
money) and pushing job progress.

`LoginWatch` looks again: before each message a consumer acts on, and every LOGIN_CHECK_SECONDS while the
socket is open. A login that ended closes the socket with 4401, as an anonymous handshake is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from importlib import import_module
from types import SimpleNamespace
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib import auth

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
# "Within a few seconds": one lookup of the session row and one of the user, by primary key, per socket per period.
LOGIN_CHECK_SECONDS = 3.0


class _SessionCopy(dict[str, Any]):
    """The session's data, for `auth.get_user` to read. Django's get_user flushes a session whose hash no longer
    matches and re-keys one signed with a fallback secret: a request's business (its response carries the new
    cookie), not a socket's, which would leave the browser holding a key that no longer exists."""

    def flush(self) -> None:
        self.clear()

    def cycle_key(self) -> None:
        pass


def login_still_valid(scope: dict[str, Any]) -> bool:
    """Whether the session the socket was opened with still logs in its user, read again from the session store:
    False after logout (the session is deleted), expiry, deactivation (ModelBackend refuses inactive users) or a
    password change (the session's hash no longer matches), as Django's own next request would find."""
    user, session = scope.get("user"), scope.get("session")
    if user is None or session is None or not user.is_authenticated or session.session_key is None:
        return False
    stored = import_module(settings.SESSION_ENGINE).SessionStore(session.session_key).load()
    return auth.get_user(SimpleNamespace(session=_SessionCopy(stored))).pk == user.pk  # type: ignore[arg-type]


class LoginWatch(AsyncWebsocketConsumer):
    """Base for a consumer authenticated by AuthMiddlewareStack (put it first: `class C(LoginWatch,
    AsyncJsonWebsocketConsumer)`): `start_login_watch()` after accepting a logged-in user, `stop_login_watch()` in
    `disconnect`, and `if await self.login_ended(): return` before acting on a message."""

    _login_watch: asyncio.Task[None] | None = None

    def start_login_watch(self) -> None:
        self._login_watch = asyncio.create_task(self._watch_login())

    async def stop_login_watch(self) -> None:
        if self._login_watch is not None:
            self._login_watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._login_watch
            self._login_watch = None

    async def login_ended(self) -> bool:
        """True when the login is over; the socket is then being closed with 4401."""
        if await database_sync_to_async(login_still_valid)(self.scope):
            return False
        logger.info("Websocket closed: the login of user %s ended", self.scope["user"].pk)
        await self.close(code=CLOSE_UNAUTHENTICATED)
        return True

    async def _watch_login(self) -> None:
        while True:
            await asyncio.sleep(LOGIN_CHECK_SECONDS)
            try:
                if await self.login_ended():
                    return
            except Exception:  # the database is away for a moment: look again next time, keep the socket
                logger.exception("Could not check a websocket's login")
