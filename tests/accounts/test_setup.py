"""The first-run page creates the first administrator while no user exists, and only then."""

from __future__ import annotations

import re

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


def field_errors(html: str, field: str) -> list[str]:
    """The errors rendered under one field: the list its input names in aria-describedby."""
    match = re.search(rf'<ul class="field-errors" id="id_{field}_error"[^>]*>(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", match.group(1)) if match else []


def test_setup_shows_each_error_under_its_own_field(client):
    response = client.post(
        "/setup/", {"username": "", "email": "not an address", "password1": "abc", "password2": "abd"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert field_errors(html, "username") == ["This field is required."]
    assert field_errors(html, "email") == ["Enter a valid email address."]
    assert field_errors(html, "password2") == ["The two password fields didn’t match."]
    assert not get_user_model().objects.exists()


def test_a_weak_password_is_explained_under_the_password_one_reason_a_line(client):
    html = client.post("/setup/", {**setup_form(), "password1": "abc", "password2": "abc"}).content.decode()
    reasons = field_errors(html, "password1")
    assert len(reasons) >= 2 and any("too short" in reason for reason in reasons)
    assert field_errors(html, "password2") == []


def test_an_invalid_input_points_at_its_errors_and_help(client):
    html = client.post("/setup/", {**setup_form(), "username": ""}).content.decode()
    described_by = re.search(r'<input type="text" name="username"[^>]*aria-describedby="([^"]+)"', html).group(1)
    assert 'aria-invalid="true"' in re.search(r'<input type="text" name="username"[^>]*>', html).group(0)
    for element_id in described_by.split():
        assert f'id="{element_id}"' in html, f"aria-describedby names {element_id}, which is not on the page"
