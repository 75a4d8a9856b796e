"""Logging in and out."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_login_page_is_a_full_page_with_a_form(client, alice):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b"<h1" in response.content
    assert b'name="password"' in response.content
    assert b"csrfmiddlewaretoken" in response.content


def test_a_user_logs_in_with_the_right_password(client, alice):
    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/tokens/").status_code == 200


def test_a_wrong_password_is_refused(client, alice):
    response = client.post("/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert client.get("/tokens/").status_code == 302


def test_login_returns_to_the_page_asked_for(client, alice):
    response = client.post("/login/?next=/library/", {"username": "alice", "password": PASSWORD, "next": "/library/"})
    assert response["Location"] == "/library/"


def test_logout_is_a_post_and_ends_the_session(alice_client):
    assert alice_client.get("/logout/").status_code == 405
    response = alice_client.post("/logout/")
    assert response.status_code == 302
    assert alice_client.get("/tokens/").status_code == 302
