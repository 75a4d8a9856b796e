"""The first-run page creates the first administrator while no user exists, and only then."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db
PASSWORD = "a long enough passphrase 42"


def setup_form(username: str = "admin") -> dict[str, str]:
    return {"username": username, "email": "", "password1": PASSWORD, "password2": PASSWORD}


def test_the_login_page_sends_a_fresh_install_to_setup(client):
    response = client.get("/login/")
    assert response.status_code == 302
    assert response["Location"] == "/setup/"


def test_setup_renders_while_no_user_exists(client):
    response = client.get("/setup/")
    assert response.status_code == 200
    assert b"Create administrator" in response.content


def test_setup_creates_a_superuser_and_logs_them_in(client):
    response = client.post("/setup/", setup_form())
    assert response.status_code == 302
    user = get_user_model().objects.get()
    assert user.username == "admin"
    assert user.is_superuser
    assert user.is_staff
    assert user.check_password(PASSWORD)
    assert client.get("/tokens/").status_code == 200


def test_setup_refuses_mismatched_passwords(client):
    response = client.post("/setup/", {**setup_form(), "password2": "something else entirely"})
    assert response.status_code == 200
    assert not get_user_model().objects.exists()


def test_setup_is_gone_once_a_user_exists(client, alice):
    assert client.get("/setup/").status_code == 404
    response = client.post("/setup/", setup_form("mallory"))
    assert response.status_code == 404
    assert not get_user_model().objects.filter(username="mallory").exists()


def test_setup_is_gone_after_it_was_used(client):
    client.post("/setup/", setup_form())
    client.logout()
    assert client.post("/setup/", setup_form("second")).status_code == 404
    assert get_user_model().objects.count() == 1
