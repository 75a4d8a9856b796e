"""A websocket's login, looked at again (accounts/sockets.py, issue 16.5): as Django's next request would find it, but
without that request's side effects on the session. The sockets themselves: tests/test_websocket_hardening.py."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from accounts.sockets import login_still_valid

pytestmark = pytest.mark.django_db


def socket_scope(user) -> dict[str, object]:
    """What AuthMiddlewareStack puts in a socket's scope for a browser logged in as `user`."""
    client = Client()
    client.force_login(user)
    return {"user": user, "session": SessionStore(client.session.session_key)}


def test_a_live_login_is_valid(alice):
    assert login_still_valid(socket_scope(alice))


def test_a_changed_password_ends_the_login(alice):
    scope = socket_scope(alice)
    alice.set_password("another long enough password")
    alice.save()
    assert not login_still_valid(scope)


def test_another_users_session_is_not_this_users_login(alice, bob):
    scope = socket_scope(alice)
    scope["user"] = bob
    assert not login_still_valid(scope)


def test_a_session_signed_with_a_fallback_secret_stays_valid_and_keeps_its_key(alice, settings):
    # Django's get_user re-keys such a session, which a request's response hands to the browser; a socket cannot,
    # so re-keying it here would log the browser out.
    settings.SECRET_KEY = "the secret before the rotation, long enough to be one"
    scope = socket_scope(alice)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "the secret after the rotation, also long enough to be one"
    assert login_still_valid(scope)
    assert SessionStore(scope["session"].session_key).exists(scope["session"].session_key)
