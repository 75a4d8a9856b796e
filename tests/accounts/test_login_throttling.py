"""Login throttling (django-axes): a username + address pair is locked after repeated wrong passwords, on the login
page and the admin's alike, until the cool-off has passed or an administrator unlocks it."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.db.models import F
from django.test import AsyncClient, Client

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOCKED_MESSAGE = b"Logging in is locked for 15 minutes"


def fail_logins(client: Client, username: str, times: int, path: str = "/login/", **extra: str) -> list[int]:
    return [client.post(path, {"username": username, "password": "wrong"}, **extra).status_code for _ in range(times)]


def log_in(client: Client, username: str, path: str = "/login/", **extra: str):
    return client.post(path, {"username": username, "password": PASSWORD}, **extra)


def is_logged_in(client: Client) -> bool:
    return client.get("/tokens/").status_code == 200


def age_attempts(minutes: int) -> None:
    """Move every recorded failure into the past, as if that much time had gone by."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=minutes))


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """Every attempt here checks a password; PBKDF2's deliberate slowness (~0.5 s) is not what is tested."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def test_four_wrong_passwords_still_let_the_right_one_in(client, alice):
    assert fail_logins(client, "alice", 4) == [200] * 4
    assert log_in(client, "alice").status_code == 302
    assert is_logged_in(client)


def test_the_fifth_wrong_password_locks_and_the_right_one_is_then_refused(client, alice):
    assert fail_logins(client, "alice", 5) == [200, 200, 200, 200, 429]
    response = log_in(client, "alice")
    assert response.status_code == 429
    assert LOCKED_MESSAGE in response.content
    assert b"An administrator can unlock" in response.content
    assert b"<h1" in response.content  # the site's page, not a bare message
    assert response["Retry-After"] == "900"
    assert not is_logged_in(client)


def test_the_admin_login_locks_a_staff_user_the_same_way(client, root):
    fail_logins(client, "root", 5, path="/admin/login/")
    response = log_in(client, "root", path="/admin/login/")
    assert response.status_code == 429
    assert LOCKED_MESSAGE in response.content
    assert client.get("/admin/").status_code == 302


def test_failures_on_the_admin_login_count_for_the_login_page_too(client, root):
    fail_logins(client, "root", 5, path="/admin/login/")
    assert log_in(client, "root").status_code == 429


def test_the_same_username_from_another_address_is_not_locked(client, alice):
    fail_logins(client, "alice", 5)
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    assert log_in(elsewhere, "alice").status_code == 302
    assert is_logged_in(elsewhere)


def test_another_username_from_the_same_address_is_not_locked(client, alice, bob):
    fail_logins(client, "alice", 5)
    assert log_in(client, "bob").status_code == 302
    assert is_logged_in(client)


def test_the_lock_holds_until_the_cool_off_has_passed(client, alice):
    fail_logins(client, "alice", 5)
    age_attempts(14)
    assert log_in(client, "alice").status_code == 429
    age_attempts(2)
    assert log_in(client, "alice").status_code == 302
    assert is_logged_in(client)


def test_attempts_during_the_lock_do_not_extend_it(client, alice):
    fail_logins(client, "alice", 5)
    age_attempts(10)
    assert fail_logins(client, "alice", 3) == [429] * 3
    assert log_in(client, "alice").status_code == 429
    age_attempts(6)
    assert log_in(client, "alice").status_code == 302


def test_the_reset_command_unlocks_a_username(client, alice):
    fail_logins(client, "alice", 5)
    output = StringIO()
    call_command("axes_reset_username", "alice", stdout=output)
    assert "1 attempts removed" in output.getvalue()
    assert log_in(client, "alice").status_code == 302
    assert is_logged_in(client)


def test_an_administrator_unlocks_by_deleting_the_attempt_in_the_admin(client, alice, root):
    fail_logins(client, "alice", 5)
    attempt = AccessAttempt.objects.get(username="alice")
    admin_client = Client()
    admin_client.force_login(root)
    changelist = admin_client.get("/admin/axes/accessattempt/")
    assert b"Locked Out" in changelist.content
    response = admin_client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert log_in(client, "alice").status_code == 302


def test_a_successful_login_resets_the_failure_count(client, alice):
    fail_logins(client, "alice", 4)
    log_in(client, "alice")
    client.post("/logout/")
    assert not AccessAttempt.objects.exists()
    assert fail_logins(client, "alice", 4) == [200] * 4
    assert log_in(client, "alice").status_code == 302


def test_failed_passwords_are_not_stored(client, alice):
    client.post("/login/", {"username": "alice", "password": "hunter2-my-other-password"})
    assert "hunter2" not in AccessAttempt.objects.get().post_data


def test_a_forwarded_for_header_is_ignored_without_a_trusted_proxy(client, alice):
    for n in range(5):
        fail_logins(client, "alice", 1, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    assert log_in(client, "alice", HTTP_X_FORWARDED_FOR="203.0.113.99").status_code == 429


def test_behind_a_trusted_proxy_clients_are_told_apart_by_its_header(client, alice, settings):
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    fail_logins(client, "alice", 5, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert log_in(client, "alice", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
    assert log_in(client, "alice", HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 302


def test_behind_a_trusted_proxy_addresses_the_client_made_up_are_ignored(client, alice, settings):
    # The proxy appends the address it saw; whatever the client sent itself stays on the left.
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    for n in range(5):
        fail_logins(client, "alice", 1, HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, 203.0.113.7")
    assert log_in(client, "alice", HTTP_X_FORWARDED_FOR="10.9.9.99, 203.0.113.7").status_code == 429


@pytest.mark.django_db(transaction=True)
async def test_the_lock_page_is_served_under_asgi_too(alice):
    client = AsyncClient()
    for _ in range(5):
        await client.post("/login/", {"username": "alice", "password": "wrong"})
    response = await client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert LOCKED_MESSAGE in response.content
