"""A websocket on a real Daphne with the Redis channel layer stays open while idle and still gets events.

redis-py 8 reads with a 5 s socket timeout by default, the same as channels_redis' blocking receive, so without a
longer timeout every consumer idle for 5 s crashed ("Timeout reading") and its socket closed with 1011.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from websockets.sync.client import connect

from tests.live_server import MAKE_SESSION, daphne_server

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

ANNOUNCE_A_JOB = """
from django.contrib.auth import get_user_model
from transcripts.models import TranscriptionJob
from transcripts.progress import ProgressReporter
owner = get_user_model().objects.get(username="alice")
job = TranscriptionJob.objects.create(owner=owner, source="https://example.com/talk.mp4", source_type="url")
ProgressReporter(job).announce("Queued")
print(job.id)
"""
IDLE_SECONDS = 8  # longer than redis-py's default read timeout and channels_redis' blocking receive


def test_an_idle_jobs_socket_on_the_redis_layer_stays_open_and_gets_the_next_event(tmp_path: Path) -> None:
    with daphne_server(tmp_path, REDIS_URL="redis://127.0.0.1:6379/15") as server:
        session_key, _ = server.manage("shell", "-c", MAKE_SESSION).splitlines()[-1].split()
        socket_url = server.url.replace("http://", "ws://") + "/ws/jobs/"
        with connect(socket_url, origin=server.url, additional_headers={"Cookie": f"sessionid={session_key}"}) as ws:
            time.sleep(IDLE_SECONDS)
            job_id = server.manage("shell", "-c", ANNOUNCE_A_JOB).splitlines()[-1]
            event = json.loads(ws.recv(timeout=20))
        assert event["type"] == "job.progress" and event["job_id"] == job_id
        assert "Timeout reading" not in server.log_path.read_text()
