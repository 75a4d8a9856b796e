"""Both websockets against a real Daphne, as `make run` starts it (issue 16, points 3 to 6): junk frames on the jobs
socket, handshakes to paths no route serves, sockets whose login ended, and a chat deleted under an open tab.

Each case was a 1011 close with a traceback, an HTTP 500 per handshake, or messages saved (and sent to the agent)
after the login or the chat had gone. The server runs without a model service, so a message that gets through is
saved and answered with an error, and no Claude CLI starts.
"""

from __future__ import annotations

import contextlib
import json
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.live_server import LiveServer, daphne_server
from transcripts.consumers import NOTHING_TO_RECEIVE

pytestmark = pytest.mark.timeout(240)

# A user of that name (made on first use), a new browser session of theirs, a chat and an API token.
LOG_IN = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from accounts.services import issue_token
from chat.models import ChatSession
user, _ = get_user_model().objects.get_or_create(username="{name}")
session = SessionStore()
session.update({{SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: user.get_session_auth_hash()}})
session.create()
print(session.session_key, ChatSession.objects.create(owner=user).pk, issue_token(owner=user, name="test")[1])
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LiveServer]:
    no_model_service = {"ANTHROPIC_API_KEY": "", "ANTHROPIC_AUTH_TOKEN": "", "ANTHROPIC_BASE_URL": ""}
    with daphne_server(tmp_path_factory.mktemp("websockets"), **no_model_service) as live:
        yield live


class Login:
    """A browser session of a fresh user on the live server, with a chat of theirs and an API token."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.name = f"user{uuid.uuid4().hex[:8]}"
        *_, line = server.manage("shell", "-c", LOG_IN.format(name=self.name)).splitlines()
        self.session_key, self.chat_id, self.token = line.split()

    def socket(self, path: str) -> ClientConnection:
        url = self.server.url.replace("http://", "ws://") + path
        return connect(url, origin=self.server.url, additional_headers={"Cookie": f"sessionid={self.session_key}"})

    @contextlib.contextmanager
    def chat_socket(self) -> Iterator[ClientConnection]:
        """The chat's socket, past the history and status events every tab gets first."""
        with self.socket(f"/ws/chat/{self.chat_id}/") as socket:
            assert [json.loads(socket.recv(timeout=10))["type"] for _ in range(2)] == ["history", "status"]
            yield socket

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """A REST call with the user's token; the JSON answer."""
        request = urllib.request.Request(
            f"{self.server.url}/api{path}",
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            method=method,
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # loopback only
            return json.load(response)


def log_since(server: LiveServer, offset: int) -> str:
    return server.log_path.read_text()[offset:]


# 16.3: the jobs socket closed with 1011 and a traceback on a binary frame, text that is not JSON, or deep nesting.
def test_junk_on_the_jobs_socket_gets_an_error_and_the_socket_keeps_sending_progress(server):
    login, log_start = Login(server), len(server.log_path.read_text())
    with login.socket("/ws/jobs/") as socket:
        for junk in [b"\x00\xff binary", "not json", "[" * 100_000 + "]" * 100_000, '{"type": "message"}']:
            socket.send(junk)
            assert json.loads(socket.recv(timeout=10)) == {"type": "error", "message": NOTHING_TO_RECEIVE}
        # A job of the user's (its link answers nothing, so it fails at once): its progress still arrives.
        job = login.api("POST", "/transcriptions", {"source": "http://127.0.0.1:9/talk.mp3"})
        event = json.loads(socket.recv(timeout=20))
    assert (event["type"], event["job_id"]) == ("job.progress", job["id"])
    with login.chat_socket() as chat:  # the chat socket answered junk this way already; a binary frame too
        chat.send(b"\x00\xff binary")
        assert json.loads(chat.recv(timeout=10))["type"] == "error"
    assert "Traceback" not in log_since(server, log_start)


# 16.4: a handshake no route serves was an HTTP 500 and a traceback per request, with a trusted origin and no cookie.
@pytest.mark.parametrize(
    "path",
    ["/ws/nothing/", "/ws/chat/not-a-uuid/", f"/ws/chat/{str(uuid.uuid4()).upper()}/", "/ws/", "/ws/jobs/more/", "/"],
)
def test_a_socket_path_no_route_serves_is_refused_quietly(server, path):
    log_start = len(server.log_path.read_text())
    with pytest.raises(InvalidStatus) as refused:
        connect(server.url.replace("http://", "ws://") + path, origin=server.url, open_timeout=10)
    assert refused.value.response.status_code == 403
    log = log_since(server, log_start)
    assert "Traceback" not in log and "Exception inside application" not in log


def test_a_routed_path_in_lower_case_still_opens(server):
    login = Login(server)
    with login.chat_socket():
        pass
