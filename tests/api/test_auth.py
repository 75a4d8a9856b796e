"""API authentication: bearer tokens (hashed, revocable, last use recorded) or the session with CSRF on writes."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from accounts.models import ApiToken
from tests.factories import TranscriptFactory

pytestmark = pytest.mark.django_db

SOME_ID = "abc123"
ENDPOINTS = [
    ("get", "/api/transcripts"),
    ("get", f"/api/transcripts/{SOME_ID}"),
    ("get", f"/api/transcripts/{SOME_ID}/download?format=txt"),
    ("delete", f"/api/transcripts/{SOME_ID}"),
    ("post", "/api/transcriptions"),
    ("get", "/api/transcriptions"),
    ("get", f"/api/transcriptions/{uuid.uuid4()}"),
    ("post", "/api/upload"),
    ("get", "/api/uploads"),
    ("delete", f"/api/uploads/{uuid.uuid4()}"),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_anonymous_callers_get_401_on_every_endpoint(client, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_a_wrong_bearer_token_gets_401(method, url, alice):
    client = Client(headers={"Authorization": "Bearer va_not-a-real-token"})
    assert getattr(client, method)(url).status_code == 401


def test_a_bearer_token_authenticates_and_records_its_last_use(alice_api, alice):
    token = ApiToken.objects.get(owner=alice)
    assert token.last_used_at is None
    assert alice_api.get("/api/transcripts").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_revoked_token_is_refused(alice_api, alice):
    ApiToken.objects.get(owner=alice).revoke()
    assert alice_api.get("/api/transcripts").status_code == 401


def test_a_token_of_a_deactivated_user_is_refused(alice_api, alice):
    alice.is_active = False
    alice.save()
    assert alice_api.get("/api/transcripts").status_code == 401


def test_the_token_is_checked_by_hash_not_by_prefix(alice_token, alice):
    client = Client(headers={"Authorization": f"Bearer {alice_token[:11]}"})
    assert client.get("/api/transcripts").status_code == 401


def test_the_browser_session_authenticates_reads(alice_client):
    assert alice_client.get("/api/transcripts").status_code == 200


def test_session_writes_without_the_csrf_token_are_refused(alice):
    transcript = TranscriptFactory(owner=alice)
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.delete(f"/api/transcripts/{transcript.pk}").status_code == 403
    assert client.post("/api/transcriptions", {"source": "x"}, content_type="application/json").status_code == 403
    assert client.post("/api/upload").status_code == 403
    transcript.refresh_from_db()  # still there


def test_session_writes_with_the_csrf_token_are_accepted(alice):
    transcript = TranscriptFactory(owner=alice)
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    client.get("/tokens/")  # the page sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    response = client.delete(f"/api/transcripts/{transcript.pk}", headers={"X-CSRFToken": csrf})
    assert response.status_code == 200


def test_bearer_writes_need_no_csrf_token(alice_api, alice):
    transcript = TranscriptFactory(owner=alice)
    assert alice_api.delete(f"/api/transcripts/{transcript.pk}").status_code == 200


def test_the_openapi_schema_lists_every_endpoint(alice_client):
    response = alice_client.get("/api/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ["/api/transcripts", "/api/transcripts/{transcript_id}/download", "/api/transcriptions/{job_id}"]:
        assert path in paths
    assert "/api/upload" in paths


@pytest.mark.parametrize(("method", "url"), [e for e in ENDPOINTS if e[0] != "get"])
def test_anonymous_writes_get_401_even_when_csrf_is_enforced(method, url):
    client = Client(enforce_csrf_checks=True)
    assert getattr(client, method)(url).status_code == 401
