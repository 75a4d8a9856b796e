"""SIGTERM to a real Daphne with a live agent: it stops in order, within the bound, and leaves no CLI behind."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
from websockets.sync.client import connect

from tests.fake_anthropic import text
from tests.live_server import MAKE_SESSION, alive, daphne_server, descendants

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

GRACEFUL_SHUTDOWN_TIMEOUT = 2.0


def test_sigterm_stops_the_agents_and_exits_within_the_bound(tmp_path: Path):
    with daphne_server(tmp_path, GRACEFUL_SHUTDOWN_TIMEOUT=str(GRACEFUL_SHUTDOWN_TIMEOUT)) as server:
        server.fake.add(text("Hi! Send me a video."))
        session_key, chat_id = server.manage("shell", "-c", MAKE_SESSION).splitlines()[-1].split()
        socket_url = server.url.replace("http://", "ws://") + f"/ws/chat/{chat_id}/"
        with connect(socket_url, origin=server.url, additional_headers={"Cookie": f"sessionid={session_key}"}) as ws:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                event = json.loads(ws.recv(timeout=60))
                if event["type"] == "message" and event["role"] == "agent":
                    break
            assert event.get("content") == "Hi! Send me a video.", event
            agent_processes = descendants(server.process.pid)
            assert agent_processes, "the agent's CLI process should be running"

            started = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            server.process.wait(timeout=GRACEFUL_SHUTDOWN_TIMEOUT + 10)
            elapsed = time.monotonic() - started

        log = server.log_path.read_text()
        assert elapsed <= GRACEFUL_SHUTDOWN_TIMEOUT + 5, log
        time.sleep(0.5)  # the CLI's own children may take a moment to see their parent gone
        assert not [pid for pid in agent_processes if alive(pid)], log
        assert "Shutting down: stopping agents" in log


@pytest.mark.django_db(transaction=True)
async def test_a_stopping_server_refuses_new_chat_connections(alice, monkeypatch):
    from channels.db import database_sync_to_async

    from tests.chat.conftest import communicator_for
    from tests.factories import ChatSessionFactory

    monkeypatch.setattr("chat.consumers.is_shutting_down", lambda: True)
    session = await database_sync_to_async(ChatSessionFactory)(owner=alice)
    communicator = await communicator_for(session.id, alice)
    await communicator.connect()
    assert (await communicator.receive_output(timeout=5))["code"] == 1012
