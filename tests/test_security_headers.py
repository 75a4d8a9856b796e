"""Security headers on every kind of response, and who may read the API docs (served from our own static files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.http import HttpResponse
from django.test import Client

from accounts.models import ApiToken
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SWAGGER_FILES = ["ninja/swagger-ui-bundle.js", "ninja/swagger-ui-init.js", "ninja/swagger-ui.css"]


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    header = response.headers["Content-Security-Policy"]
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def assert_strict_policy(response) -> None:
    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', nothing from elsewhere
    assert csp["style-src"] == ["'self'"]
    assert csp["connect-src"] == ["'self'"]  # the page's own websocket (ws:// or wss://, same host and port)
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.fixture
def root_client() -> Client:
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def token_client(alice) -> Client:
    return Client(headers={"Authorization": f"Bearer {ApiToken.issue(owner=alice, name='docs')[1]}"})


def test_the_chat_page_has_the_policy(alice_client):
    response = alice_client.get("/", follow=True)
    assert response.templates[0].name == "chat/chat.html"
    assert_strict_policy(response)


def test_the_library_has_the_policy(alice_client):
    response = alice_client.get("/library/")
    assert response.status_code == 200
    assert_strict_policy(response)


def test_the_login_page_has_the_policy(client, alice):  # a user exists, so /login/ is not sent to /setup/
    response = client.get("/login/")
    assert response.status_code == 200
    assert_strict_policy(response)


def test_the_admin_has_the_policy(root_client):
    response = root_client.get("/admin/")
    assert response.status_code == 200
    assert_strict_policy(response)
    assert_strict_policy(root_client.get("/admin/auth/user/add/"))


def test_api_responses_have_the_policy(token_client):
    response = token_client.get("/api/transcripts")
    assert response.status_code == 200
    assert_strict_policy(response)


def test_no_page_template_has_inline_script_or_event_handlers():
    # The policy would block them in the browser; this finds one before a person does.
    for template in Path(__file__).resolve().parent.parent.joinpath("templates").rglob("*.html"):
        html = template.read_text()
        for tag in html.split("<script")[1:]:
            opening = tag.split(">", 1)[0]
            assert " src=" in opening or 'type="application/json"' in opening, f"inline script in {template}"
        assert " onclick=" not in html and " onload=" not in html and " onsubmit=" not in html, template
        assert " style=" not in html, f"inline style in {template}"


def test_the_docs_page_renders_for_a_logged_in_user_with_local_swagger_files(alice_client):
    response = alice_client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    for name in SWAGGER_FILES:
        assert f"/static/{name}" in html
    assert "cdn" not in html.lower()
    assert "<script>" not in html  # the page's script is swagger-ui-init.js; its settings are a JSON data block
    csp = policy(response)
    assert csp["script-src"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:"]  # Swagger UI's stylesheet draws its icons from data: URLs


def test_the_swagger_files_are_found_and_collected(settings, tmp_path):
    for name in SWAGGER_FILES:
        assert finders.find(name), name  # what WhiteNoise serves them from before a collectstatic
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", interactive=False, verbosity=0)  # what `make run` does
    for name in SWAGGER_FILES:
        assert (tmp_path / "static" / name).stat().st_size > 0


def test_anonymous_callers_get_401_for_the_schema_and_the_login_page_for_the_docs(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}
    response = client.get("/api/docs")
    assert response.status_code == 302
    assert response.url == "/login/?next=/api/docs"


def test_a_wrong_token_gets_401_for_the_schema(alice):
    client = Client(headers={"Authorization": "Bearer va_not-a-real-token"})
    assert client.get("/api/openapi.json").status_code == 401


def test_a_token_holder_gets_the_schema_and_the_docs(token_client):
    response = token_client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "VideoAgent API"
    assert token_client.get("/api/docs").status_code == 200


def test_a_logged_in_user_gets_the_schema(alice_client):
    assert alice_client.get("/api/openapi.json").json()["info"]["title"] == "VideoAgent API"


def test_api_docs_public_opens_both_to_anyone(client, settings):
    settings.API_DOCS_PUBLIC = True
    assert client.get("/api/openapi.json").status_code == 200
    assert client.get("/api/docs").status_code == 200


# Issue 16.8: static files were served by a handler in front of Django's middleware, without any of these headers.
async def asgi_get(path: str) -> tuple[int, HttpResponse, bytes]:
    """GET through the ASGI application as Daphne runs it (HttpCommunicator cannot read a streamed file)."""
    from channels.testing import ApplicationCommunicator

    from videoagent.asgi import application

    scope = {"type": "http", "http_version": "1.1", "method": "GET", "path": path, "query_string": b""}
    communicator = ApplicationCommunicator(application, {**scope, "headers": [(b"host", b"127.0.0.1:8000")]})
    await communicator.send_input({"type": "http.request", "body": b""})
    start, body, more = await communicator.receive_output(timeout=10), b"", True
    while more:
        chunk = await communicator.receive_output(timeout=10)
        body, more = body + chunk.get("body", b""), chunk.get("more_body", False)
    await communicator.wait(timeout=10)  # the handler closes the file after the last chunk
    headers = HttpResponse(headers={name.decode(): value.decode() for name, value in start["headers"]})
    return start["status"], headers, body


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/static/css/app.css", "/static/js/chat.js", f"/static/{SWAGGER_FILES[0]}"])
async def test_static_files_carry_the_security_headers_without_a_login(path):
    status, headers, body = await asgi_get(path)
    assert status == 200 and body == Path(finders.find(path.removeprefix("/static/"))).read_bytes()
    assert_strict_policy(headers)
    assert headers["X-Frame-Options"] == "DENY"
    assert "Access-Control-Allow-Origin" not in headers
