"""Chat benchmark: a real Daphne server, the real Claude CLI per chat, and the scripted fake model API.

Prints message round-trip latency (p50/p95/p99) for 10 and 50 chats sending at once, with and without the fake
model's own time; resident memory per live agent session (server + CLI processes); memory per idle connected
chat (200 of them); what a chat past the session cap is told; and the event-loop stall (largest and p99) seen by a
page and a REST call, alternately, from a transcription's submit to its end (`--stall-only`: just that). Loopback
only, every loop bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.request import Request, urlopen

import websockets

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA_DIR = Path(tempfile.mkdtemp(prefix="videoagent-chatbench-"))
os.environ.update({"VIDEOAGENT_DATA_DIR": str(DATA_DIR), "DJANGO_SETTINGS_MODULE": "videoagent.settings"})
os.environ.pop("DATABASE_URL", None)  # the server and this script share one SQLite file in DATA_DIR
os.environ.setdefault("LOG_LEVEL", "WARNING")
SERVER_ENV = dict(os.environ)
# This script uses the ORM for set-up from inside its event loop; the server it starts keeps the safety check.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.management import call_command  # noqa: E402

from accounts.models import ApiToken  # noqa: E402
from chat.models import ChatSession, Message  # noqa: E402
from tests.fake_anthropic import FakeAnthropic, text  # noqa: E402
from tests.media import read_audio, write_mp4  # noqa: E402

MODEL_DELAY = 0.3  # seconds the fake model takes per request, subtracted for "without model time"
CAP = 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def descendants(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        path = task / "children"
        if path.exists():
            children += [int(child) for child in path.read_text().split()]
    return children + [grandchild for child in children for grandchild in descendants(child)]


def tree_rss_mb(pid: int) -> tuple[float, float, int]:
    """(server RSS, RSS of all its child processes, number of children)."""
    kids = descendants(pid)
    return rss_mb(pid), sum(rss_mb(kid) for kid in kids if Path(f"/proc/{kid}").exists()), len(kids)


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return f"p50 {pick(0.50) * 1000:6.0f} ms  p95 {pick(0.95) * 1000:6.0f} ms  p99 {pick(0.99) * 1000:6.0f} ms"


class Bench:
    def __init__(self, port: int) -> None:
        self.port = port
        user = get_user_model().objects.create_user("bench", password=None)
        session = SessionStore()
        session[SESSION_KEY], session[BACKEND_SESSION_KEY] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        self.cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
        self.user = user
        self.token = ApiToken.issue(owner=user, name="bench")[1]

    def new_chats(self, count: int) -> list[str]:
        """Chats that already have their greeting, so the CLI starts with the first message."""
        chats = [ChatSession.objects.create(owner=self.user) for _ in range(count)]
        Message.objects.bulk_create([Message(session=c, role="agent", content="Hello!") for c in chats])
        return [str(c.id) for c in chats]

    async def connect(self, chat_id: str) -> websockets.ClientConnection:
        ws = await websockets.connect(
            f"ws://127.0.0.1:{self.port}/ws/chat/{chat_id}/",
            additional_headers={"Cookie": self.cookie},
            origin=f"http://127.0.0.1:{self.port}",
            max_size=None,
        )
        while json.loads(await ws.recv())["type"] != "status":
            pass
        return ws

    @staticmethod
    async def ask(ws: websockets.ClientConnection, message: str) -> tuple[float, dict]:
        started = time.perf_counter()
        await ws.send(json.dumps({"type": "message", "text": message}))
        while True:
            event = json.loads(await asyncio.wait_for(ws.recv(), timeout=180))
            if event["type"] == "error" or (event["type"] == "message" and event["role"] == "agent"):
                return time.perf_counter() - started, event

    async def burst(self, count: int) -> tuple[list[float], list[float], list[str]]:
        """`count` chats send a first (cold: CLI start) and a second (warm) message at the same moment."""
        sockets = await asyncio.gather(*(self.connect(c) for c in self.new_chats(count)))
        cold = await asyncio.gather(*(self.ask(ws, "first message") for ws in sockets))
        warm = await asyncio.gather(*(self.ask(ws, "second message") for ws in sockets))
        errors = [event["message"] for _, event in cold + warm if event["type"] == "error"]
        for ws in sockets:
            await ws.close()
        return [t for t, _ in cold], [t for t, _ in warm], errors


def http_latency(url: str, seconds: float) -> list[float]:
    latencies, deadline = [], time.monotonic() + seconds
    while not latencies or time.monotonic() < deadline:
        started = time.perf_counter()
        with urlopen(url, timeout=30) as response:  # loopback only
            response.read()
        latencies.append(time.perf_counter() - started)
        time.sleep(0.02)
    return latencies


def start_transcription(port: int, token: str, media_url: str) -> str:
    """The id of the job started for `media_url`."""
    request = Request(  # loopback only
        f"http://127.0.0.1:{port}/api/transcriptions",
        data=json.dumps({"source": media_url}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urlopen(request, timeout=30) as response:
        assert response.status == 202
        return json.loads(response.read())["id"]


def job_status(port: int, token: str, job_id: str) -> str:
    request = Request(
        f"http://127.0.0.1:{port}/api/transcriptions/{job_id}", headers={"Authorization": f"Bearer {token}"}
    )
    with urlopen(request, timeout=30) as response:  # loopback only
        return json.loads(response.read())["status"]


def latency_during_job(port: int, token: str, job_id: str, page: str) -> tuple[list[float], list[float], str]:
    """(page latencies, API latencies, the job's last status), sampled from submit until the job ends (at most
    10 minutes): a page and a REST call, alternately, every 20 ms."""
    pages: list[float] = []
    calls: list[float] = []
    status, deadline = "queued", time.monotonic() + 600
    while status in ("queued", "downloading", "transcribing") and time.monotonic() < deadline:
        pages += http_latency(page, 0)
        started = time.perf_counter()
        status = job_status(port, token, job_id)
        calls.append(time.perf_counter() - started)
    return pages, calls, status


def stall_report(quiet: list[float], pages: list[float], calls: list[float], status: str) -> str:
    """A request's wait beyond its usual (idle) time bounds the event loop's stall while it waited."""
    usual = statistics.median(quiet)
    ordered = sorted(pages + calls)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return (
        f"HTTP latency while idle: median {usual * 1000:.0f} ms, max {max(quiet) * 1000:.0f} ms; "
        f"while a 66 s clip is downloaded and transcribed ({len(ordered)} requests, job {status}): "
        f"page median {statistics.median(pages) * 1000:.0f} ms, max {max(pages) * 1000:.0f} ms; "
        f"API call median {statistics.median(calls) * 1000:.0f} ms, max {max(calls) * 1000:.0f} ms\n"
        f"event-loop stall during the job: largest ≤ {max(0.0, ordered[-1] - usual) * 1000:.0f} ms, "
        f"p99 ≤ {max(0.0, p99 - usual) * 1000:.0f} ms"
    )


async def main(args: argparse.Namespace) -> None:
    call_command("migrate", verbosity=0)
    port = free_port()
    with FakeAnthropic(default=text("Here is an answer from the fake model."), delay=MODEL_DELAY) as fake:
        env = {
            **SERVER_ENV,
            "ANTHROPIC_BASE_URL": fake.url,
            "ANTHROPIC_API_KEY": "sk-ant-bench",
            "AGENT_MAX_SESSIONS": str(CAP),
            "ALLOW_PRIVATE_URLS": "true",
            "AGENT_MAX_RETRIES": "0",
            # Idle agents stop after 5 s, so each burst starts with no live agent session.
            "SESSION_TTL_SECONDS": "5",
            "CLEANUP_INTERVAL_SECONDS": "1",
        }
        log = (DATA_DIR / "daphne.log").open("w")
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "videoagent.asgi:application",
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=log,
        )
        try:
            for _ in range(150):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            bench = Bench(port)
            print(f"VideoAgent chat benchmark ({os.cpu_count()} CPUs), fake model {MODEL_DELAY * 1000:.0f} ms a call")
            base_server, _, _ = tree_rss_mb(server.pid)
            print(f"server at rest: {base_server:.0f} MB")

            for count in [] if args.stall_only else args.chats:
                await asyncio.sleep(8)  # the previous burst's agents time out
                cold, warm, errors = await bench.burst(count)
                server_mb, children_mb, kids = tree_rss_mb(server.pid)
                print(f"\n{count} chats at once ({len(errors)} errors of {2 * count} messages)")
                for message, times in Counter(errors).most_common(3):
                    print(f"  error x{times}: {message}")
                print(f"  first message (starts a CLI): {percentiles(cold)}")
                print(f"  next message:                 {percentiles(warm)}")
                print(f"  next, minus model time:       {percentiles([t - MODEL_DELAY for t in warm])}")
                live = len([k for k in descendants(server.pid)]) or 1
                print(
                    f"  memory: server {server_mb:.0f} MB + {kids} CLI processes {children_mb:.0f} MB = "
                    f"{(server_mb - base_server + children_mb) / max(1, min(live, CAP)):.0f} MB per live session"
                )

            if not args.stall_only:
                # The last burst's sessions are still live: with 50 of them, one more chat is past the cap.
                past_cap = await bench.connect(bench.new_chats(1)[0])
                elapsed, event = await bench.ask(past_cap, "one more chat")
                print(
                    f"\npast the cap of {CAP}: answered in {elapsed * 1000:.0f} ms with {event['type']}: "
                    f"{event.get('message') or event.get('content')}"
                )
                await past_cap.close()

                before, _, _ = tree_rss_mb(server.pid)
                idle = [await bench.connect(c) for c in bench.new_chats(args.idle)]
                await asyncio.sleep(1)
                after, _, _ = tree_rss_mb(server.pid)
                print(
                    f"\n{args.idle} idle connected chats: server +{after - before:.0f} MB, "
                    f"{(after - before) * 1024 / args.idle:.0f} KB per chat"
                )
                for ws in idle:
                    await ws.close()

            media = DATA_DIR / "served"
            media.mkdir()
            samples, rate = read_audio(REPO / "tests" / "data" / "jfk.flac")
            import numpy as np

            write_mp4(media / "talk.mp4", np.tile(samples, 6), rate=rate)
            media_server = subprocess.Popen(
                [sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1"],
                cwd=media,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            media_port = int(media_server.stdout.readline().split("port ")[1].split()[0])
            try:
                page = f"http://127.0.0.1:{port}/login/"
                quiet = http_latency(page, 2)
                job_id = start_transcription(port, bench.token, f"http://127.0.0.1:{media_port}/talk.mp4")
                measured = await asyncio.to_thread(latency_during_job, port, bench.token, job_id, page)
                print("\n" + stall_report(quiet, *measured))
            finally:
                media_server.terminate()
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()
    if args.keep:
        print(f"\nserver log and data kept in {DATA_DIR}")
    else:
        shutil.rmtree(DATA_DIR, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--chats", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--idle", type=int, default=200)
    parser.add_argument("--stall-only", action="store_true", help="only the event-loop stall during a transcription")
    parser.add_argument("--keep", action="store_true", help="keep the data directory and the server log")
    asyncio.run(main(parser.parse_args()))
