"""The API tokens page: create (shown once, stored hashed), list, revoke (own tokens only)."""

from __future__ import annotations

import re

import pytest

from accounts.models import ApiToken, hash_token

pytestmark = pytest.mark.django_db
SECRET_PATTERN = re.compile(rb'id="new-token-secret">(va_[A-Za-z0-9_-]+)<')


def create_token(client, name: str = "laptop") -> tuple[ApiToken, str]:
    response = client.post("/tokens/", {"name": name})
    assert response.status_code == 200
    match = SECRET_PATTERN.search(response.content)
    assert match, "the new secret is on the page"
    return ApiToken.objects.get(name=name), match.group(1).decode()


def test_creating_a_token_shows_the_secret_and_stores_only_its_hash(alice_client, alice):
    token, secret = create_token(alice_client)
    assert token.owner == alice
    assert token.hashed_secret == hash_token(secret)
    assert secret not in {token.name, token.prefix, token.hashed_secret}
    assert secret.startswith(token.prefix)


def test_the_secret_is_shown_only_once(alice_client):
    _, secret = create_token(alice_client)
    later = alice_client.get("/tokens/")
    assert later.status_code == 200
    assert secret.encode() not in later.content
    assert b"laptop" in later.content


def test_the_page_with_the_secret_is_not_cached(alice_client):
    response = alice_client.post("/tokens/", {"name": "laptop"})
    assert response["Cache-Control"] == "no-store"


def test_a_token_needs_a_name(alice_client):
    response = alice_client.post("/tokens/", {"name": ""})
    assert response.status_code == 200
    assert not ApiToken.objects.exists()


def test_the_list_shows_only_my_tokens_with_their_details(alice_client, alice, bob):
    mine, _ = ApiToken.issue(owner=alice, name="alice-script")
    ApiToken.issue(owner=bob, name="bob-script")
    content = alice_client.get("/tokens/").content.decode()
    assert "alice-script" in content
    assert mine.prefix in content
    assert "never" in content  # last used
    assert "bob-script" not in content


def test_revoking_my_token_marks_it_revoked(alice_client, alice):
    token, _ = ApiToken.issue(owner=alice, name="old")
    response = alice_client.post(f"/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.is_revoked
    assert "revoked" in alice_client.get("/tokens/").content.decode()


def test_revoking_needs_a_post(alice_client, alice):
    token, _ = ApiToken.issue(owner=alice, name="old")
    assert alice_client.get(f"/tokens/{token.pk}/revoke/").status_code == 405
    token.refresh_from_db()
    assert not token.is_revoked


def test_revoking_another_users_token_is_a_404(alice_client, bob):
    token, _ = ApiToken.issue(owner=bob, name="bobs")
    assert alice_client.post(f"/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert not token.is_revoked


def test_the_token_page_needs_the_csrf_token(alice):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post("/tokens/", {"name": "forged"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_a_new_token_has_a_copy_button(alice_client):
    response = alice_client.post("/tokens/", {"name": "laptop"})
    html = response.content.decode()
    button = re.search(r'<button type="button"[^>]*id="copy-token"[^>]*>', html)
    assert button, "a Copy button next to the secret"
    assert 'data-copy="new-token-secret"' in button.group(0)
    # Hidden until tokens.js runs (without JavaScript there is nothing to click); no inline handler (CSP).
    assert "hidden" in button.group(0) and "onclick" not in html
    assert re.search(r'<script src="/static/js/tokens\.js" defer></script>', html)


def test_the_list_alone_has_no_copy_button(alice_client):
    alice_client.post("/tokens/", {"name": "laptop"})
    html = alice_client.get("/tokens/").content.decode()
    assert 'id="copy-token"' not in html and "tokens.js" not in html
