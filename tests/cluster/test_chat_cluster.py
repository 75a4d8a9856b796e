"""One agent per chat across two real Daphne servers sharing PostgreSQL and Redis, with the real Claude CLI against
one FakeAnthropic: two tabs of one chat on different servers share one CLI process and see the same messages in the
same order; `kill -9` of the owning server in the middle of an answer is announced to the tabs, which may then send
again, and the chat moves to the other server, whose agent resumes the conversation."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from chat.cluster import OWNER_LOST
from tests.fake_anthropic import text
from tests.live_cluster import ClusterProcess, live_cluster
from tests.live_server import descendants
from tests.live_workers import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

LEASE_SECONDS = 3  # short, so that the crash test waits seconds, not the default 15
QUESTIONS = ("first question", "second question", "third question after the crash")
INTERRUPTED = "a question whose answer the crash interrupts"
BUSY = ("processing", "initializing")


def scripted_answer(body: dict[str, Any]) -> dict[str, Any]:
    """The answer names the question it answers, whatever extra requests the CLI makes, in whatever order."""
    last = json.dumps(body["messages"][-1])
    for question in QUESTIONS:
        if question in last:
            return text(f"Answer to the {question}.")
    return text("Hello! Send me a video.")


def cli_processes(server: ClusterProcess) -> set[int]:
    """The Claude CLI processes among the server's descendants."""
    found = set()
    for pid in descendants(server.pid):
        try:
            argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            continue
        if Path(argv0.decode(errors="replace")).name == "claude":
            found.add(pid)
    return found


class Tab:
    """A browser tab's websocket on one chat, recording every event it receives."""

    def __init__(self, server: ClusterProcess, session_key: str, chat_id: str) -> None:
        self.server = server
        self.socket: ClientConnection = connect(
            server.url.replace("http://", "ws://") + f"/ws/chat/{chat_id}/",
            origin=server.url,
            additional_headers={"Cookie": f"sessionid={session_key}"},
        )
        self.events: list[dict[str, Any]] = []

    def until(self, predicate, timeout: float = 60) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{self.server.name}: no matching event; got {self.events}")
            event = json.loads(self.socket.recv(timeout=remaining))
            self.events.append(event)
            if predicate(event):
                return event

    def answer_to(self, question: str, timeout: float = 90) -> dict[str, Any]:
        return self.until(lambda e: e["type"] == "message" and e["content"] == f"Answer to the {question}.", timeout)

    def send(self, message: str) -> None:
        self.socket.send(json.dumps({"type": "message", "text": message}))

    def messages(self) -> list[tuple[str, str, str]]:
        """(id, role, content) of every message, from the history on connecting and the live events."""
        seen: list[tuple[str, str, str]] = []
        for event in self.events:
            batch = event["messages"] if event["type"] == "history" else [event] if event["type"] == "message" else []
            seen.extend((m["id"], m["role"], m["content"]) for m in batch)
        return seen

    def close(self) -> None:
        self.socket.close()


def status_on(server: ClusterProcess, session_key: str, chat_id: str) -> dict[str, Any]:
    cookie = {"Cookie": f"sessionid={session_key}"}
    request = urllib.request.Request(f"{server.url}/api/status/{chat_id}", headers=cookie)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_two_tabs_on_two_servers_share_one_agent_which_moves_when_its_server_dies(tmp_path: Path):
    with live_cluster(tmp_path, AGENT_LEASE_SECONDS=str(LEASE_SECONDS), GRACEFUL_SHUTDOWN_TIMEOUT="2") as cluster:
        cluster.fake.add(*[scripted_answer] * 30)
        first, second = cluster.web_server("web1"), cluster.web_server("web2")
        session_key, chat_id = cluster.make_chat()

        tab_one = Tab(first, session_key, chat_id)
        tab_one.until(lambda e: e["type"] == "message" and e["role"] == "agent")  # the greeting, by web1's agent
        tab_two = Tab(second, session_key, chat_id)
        tab_two.until(lambda e: e["type"] == "status")

        # A message typed on web2 is answered by web1's agent, and web2's status API says so while it works.
        cluster.fake.delay = 3
        tab_two.send(QUESTIONS[0])
        wait_for(lambda: status_on(second, session_key, chat_id)["status"] == "processing", 30, "processing on web2")
        for tab in (tab_one, tab_two):
            tab.answer_to(QUESTIONS[0])
        cluster.fake.delay = 0
        # One typed on web1 too. Every tab sees both.
        tab_one.send(QUESTIONS[1])
        for tab in (tab_one, tab_two):
            tab.answer_to(QUESTIONS[1])
        assert len(cli_processes(first)) == 1, first.log()
        assert cli_processes(second) == set(), second.log()
        assert tab_one.messages() == tab_two.messages()
        # The first message named the chat, though it was typed on the other server than the second one.
        assert {e["title"] for tab in (tab_one, tab_two) for e in tab.events if e["type"] == "title"} == {QUESTIONS[0]}
        assert [content for _, _, content in tab_one.messages()] == [
            "Hello! Send me a video.",
            QUESTIONS[0],
            f"Answer to the {QUESTIONS[0]}.",
            QUESTIONS[1],
            f"Answer to the {QUESTIONS[1]}.",
        ]
        assert status_on(second, session_key, chat_id)["status"] == "ready"

        # web1 crashes in the middle of an answer. web2's tab is told (nobody else would: the owner is gone), and
        # web1's tab reconnects to web2, where the chat is "moving" until web1's lease lapses, then ready.
        cluster.fake.delay = 30
        tab_two.send(INTERRUPTED)
        wait_for(lambda: status_on(second, session_key, chat_id)["status"] == "processing", 30, "the turn to start")
        cluster.kill(first)
        cluster.fake.delay = 0
        tab_one.close()
        tab_one = Tab(second, session_key, chat_id)
        history = tab_one.until(lambda e: e["type"] == "history")
        assert [m["content"] for m in history["messages"]][-1] == INTERRUPTED
        lost = tab_two.until(lambda e: e["type"] == "error", timeout=LEASE_SECONDS + 15)
        assert lost["message"] == OWNER_LOST
        for tab in (tab_one, tab_two):
            tab.until(lambda e: e["type"] == "status" and e["status"] not in BUSY, timeout=LEASE_SECONDS + 15)
        tab_one.send(QUESTIONS[2])
        tab_one.answer_to(QUESTIONS[2], timeout=LEASE_SECONDS + 90)
        tab_two.answer_to(QUESTIONS[2])

        assert len(cli_processes(second)) == 1, second.log()
        resumed = [body for body in cluster.fake.requests if QUESTIONS[2] in json.dumps(body["messages"][-1])]
        assert resumed, cluster.fake.requests
        earlier = json.dumps(resumed[0]["messages"])
        assert QUESTIONS[0] in earlier and f"Answer to the {QUESTIONS[1]}." in earlier, earlier
        tab_one.close()
        tab_two.close()
