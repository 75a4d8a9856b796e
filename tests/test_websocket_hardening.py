"""Both websockets against a real Daphne, as `make run` starts it (issue 16, points 3 to 6): junk frames on the jobs
socket, handshakes to paths no route serves, sockets whose login ended, and a chat deleted under an open tab.

Each case was a 1011 close with a traceback, an HTTP 500 per handshake, or messages saved (and sent to the agent)
after the login or the chat had gone. The server runs without a model service, so a message that gets through is
saved and answered with an error, and no Claude CLI starts.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from accounts.sockets import LOGIN_CHECK_SECONDS
from chat.services import CHAT_DELETED
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
USER_MESSAGES = """
import json
from chat.models import ChatSession, Message
texts = Message.objects.filter(session_id="{chat}", role="user").values_list("content", flat=True)
print(json.dumps({{"chat": ChatSession.objects.filter(pk="{chat}").exists(), "texts": list(texts)}}))
"""
EXPIRE_SESSION = """
from datetime import timedelta
from django.contrib.sessions.models import Session
from django.utils import timezone
Session.objects.filter(session_key="{session_key}").update(expire_date=timezone.now() - timedelta(seconds=1))
"""
DEACTIVATE = """
from django.contrib.auth import get_user_model
get_user_model().objects.filter(username="{name}").update(is_active=False)
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

    def saved(self) -> dict[str, Any]:
        """Whether the chat still exists, and the texts of the user messages saved in it."""
        return json.loads(self.server.manage("shell", "-c", USER_MESSAGES.format(chat=self.chat_id)).splitlines()[-1])

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

    def log_out(self) -> None:
        """POST /logout/ as the page's form does: with the CSRF cookie and token of a page the user loaded."""
        cookie = f"sessionid={self.session_key}"
        page = urllib.request.Request(f"{self.server.url}/library/", headers={"Cookie": cookie})
        with urllib.request.urlopen(page, timeout=30) as response:  # loopback only
            csrf_cookie = re.search(r"csrftoken=([^;]+)", "; ".join(response.headers.get_all("Set-Cookie"))).group(1)
            form_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.read().decode()).group(1)
        request = urllib.request.Request(
            f"{self.server.url}/logout/",
            data=f"csrfmiddlewaretoken={form_token}".encode(),
            headers={"Cookie": f"{cookie}; csrftoken={csrf_cookie}"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # loopback only; follows the redirect to login
            assert response.url.endswith("/login/")


def send_message(socket: ClientConnection, text: str) -> None:
    socket.send(json.dumps({"type": "message", "text": text}))


def events_until_closed(socket: ClientConnection, timeout: float) -> tuple[list[dict[str, Any]], int | None]:
    """The events the socket gets until the server closes it, and the close code (TimeoutError if it stays open)."""
    events = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            events.append(json.loads(socket.recv(timeout=max(0.1, deadline - time.monotonic()))))
    except ConnectionClosed as closed:
        return events, closed.rcvd.code if closed.rcvd else None


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


# 16.5: a socket opened before its login ended kept taking messages, saved and sent to the agent.
def end_login(login: Login, how: str) -> None:
    if how == "logout":
        login.log_out()
    elif how == "expiry":
        login.server.manage("shell", "-c", EXPIRE_SESSION.format(session_key=login.session_key))
    else:
        login.server.manage("shell", "-c", DEACTIVATE.format(name=login.name))


@pytest.mark.parametrize("how", ["logout", "expiry", "deactivation"])
def test_a_socket_whose_login_ended_is_closed_and_nothing_it_sends_is_saved(server, how):
    login = Login(server)
    with login.chat_socket() as sending, login.chat_socket() as idle, login.socket("/ws/jobs/") as jobs:
        send_message(sending, "before")
        assert json.loads(sending.recv(timeout=10))["content"] == "before"  # saved and answered, the control
        end_login(login, how)
        ended = time.monotonic()
        with contextlib.suppress(ConnectionClosed):  # the watch may have closed it already (a shell takes seconds)
            send_message(sending, "after")  # if not, the next message is refused
        _, code = events_until_closed(sending, timeout=10)
        assert code == 4401
        # The sockets that send nothing are closed by the watch within a few seconds.
        for socket in (idle, jobs):
            events, code = events_until_closed(socket, timeout=LOGIN_CHECK_SECONDS + 5)
            assert code == 4401 and "after" not in [event.get("content") for event in events]
        assert time.monotonic() - ended < LOGIN_CHECK_SECONDS + 5
    assert login.saved() == {"chat": True, "texts": ["before"]}


def test_a_socket_whose_login_is_still_valid_stays_open(server):
    login = Login(server)
    with login.chat_socket() as chat:
        time.sleep(LOGIN_CHECK_SECONDS * 2)  # two looks of the watch
        send_message(chat, "still here")
        assert json.loads(chat.recv(timeout=10))["content"] == "still here"


# 16.6: a message from a tab whose chat was deleted got no answer, and the server logged "Task exception was never
# retrieved … DoesNotExist".
def test_a_message_to_a_chat_deleted_under_its_tab_gets_an_error_and_a_4404_and_nothing_is_saved(server):
    login, log_start = Login(server), len(server.log_path.read_text())
    with login.chat_socket() as tab:
        send_message(tab, "before")
        assert json.loads(tab.recv(timeout=10))["content"] == "before"
        assert login.api("DELETE", f"/history/{login.chat_id}") == {"success": True}
        send_message(tab, "after")
        events, code = events_until_closed(tab, timeout=10)
    assert code == 4404
    assert {"type": "error", "message": CHAT_DELETED} in events
    assert not any(event["type"] == "message" for event in events)
    assert login.saved() == {"chat": False, "texts": []}
    assert "Traceback" not in log_since(server, log_start) and "never retrieved" not in log_since(server, log_start)
