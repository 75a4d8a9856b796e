"""A small cluster of real processes for the scale-out tests: Daphne web servers and Celery workers that share one
PostgreSQL database, one Redis (broker and channel layer, on a db number of their own) and one data directory.

Nothing is mocked: jobs go through the real broker to real workers running the real Whisper model. Each process is
stopped by PID when its context ends (SIGTERM, then SIGKILL), and the Redis db is emptied before and after.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.conftest import REPO_ROOT
from tests.live_server import MAKE_SESSION, free_port, running_daphne, server_database, stop

CLUSTER_REDIS_DB = 11  # the scale-out tests' own Redis db: never the one the suite's channel layer uses
READY_SECONDS = 90
# The user of MAKE_SESSION (a browser session and a chat), and an API token: the last two lines printed.
MAKE_USER = MAKE_SESSION + 'from accounts.services import issue_token\nprint(issue_token(owner=user, name="test")[1])\n'


def require_cluster_services(url: str = "") -> None:
    """The cluster shares one database between processes, which needs PostgreSQL (the CI pass that sets
    DATABASE_URL), and Redis at `url`; elsewhere the tests skip, unless VIDEOAGENT_REQUIRE_SERVICES=1 (CI's
    PostgreSQL + Redis pass) makes that a failure."""
    missing = ""
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        missing = "The cluster tests run on PostgreSQL + Redis (DATABASE_URL); this run is on SQLite"
    else:
        try:
            redis.Redis.from_url(url or redis_url(CLUSTER_REDIS_DB), socket_connect_timeout=1).ping()
        except redis.RedisError as exc:
            missing = f"The cluster tests need Redis at {url or redis_url(CLUSTER_REDIS_DB)}: {exc}"
    if missing and os.environ.get("VIDEOAGENT_REQUIRE_SERVICES") == "1":
        pytest.fail(missing)
    if missing:
        pytest.skip(missing)


def redis_url(db: int, port: int = 6379) -> str:
    return f"redis://127.0.0.1:{port}/{db}"


@contextlib.contextmanager
def cluster_environment(tmp_path: Path, **settings: str) -> Iterator[dict[str, str]]:
    """The environment every process of one cluster shares: a fresh database, a clean Redis db, one data dir."""
    require_cluster_services()
    url = redis_url(CLUSTER_REDIS_DB)
    redis.Redis.from_url(url).flushdb()
    environment = {
        **os.environ,
        "VIDEOAGENT_DATA_DIR": str(tmp_path / "data"),
        "REDIS_URL": url,
        "CHANNEL_PREFIX": f"cluster{uuid.uuid4().hex[:8]}",
        "TRANSCRIPTION_RUNNER": "celery",
        "ALLOW_PRIVATE_URLS": "true",
        "ALLOWED_HOSTS": "127.0.0.1",
        "WHISPER_MODELS": "tiny.en",
        "WHISPER_MODEL": "tiny.en",
        "WHISPER_LANGUAGE_DETECTOR": "",
        "WHISPER_CPU_THREADS": "1",
        "JOB_HEARTBEAT_SECONDS": "1",
        "JOB_HEARTBEAT_TIMEOUT_SECONDS": "5",
        "CELERY_VISIBILITY_TIMEOUT_SECONDS": "8",
        "CELERY_RESTORE_INTERVAL_SECONDS": "1",
        **settings,
    }
    environment.pop("VIDEOAGENT_SKIP_STARTUP", None)
    with server_database(environment):
        manage(environment, "migrate", "-v0")
        try:
            yield environment
        finally:
            redis.Redis.from_url(url).flushdb()


def manage(environment: dict[str, str], *args: str) -> str:
    """A management command in the cluster's database; its standard output."""
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO_ROOT, env=environment, check=True, capture_output=True, text=True
    ).stdout


@contextlib.contextmanager
def web_server(environment: dict[str, str], log_path: Path) -> Iterator[str]:
    """A Daphne server of the cluster on a free port; yields its base URL."""
    port = free_port()
    with running_daphne({**environment, "CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{port}"}, port, log_path):
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def celery_worker(environment: dict[str, str], log_path: Path, name: str) -> Iterator[subprocess.Popen[bytes]]:
    """A transcription worker as `make worker` starts it (one thread, the model loaded once), ready to work."""
    command = [sys.executable, "-m", "celery", "-A", "videoagent", "worker", "--queues", "transcription"]
    command += ["--pool", "threads", "--concurrency", "1", "--hostname", f"{name}@%h", "--loglevel", "INFO"]
    command += ["--without-mingle", "--without-gossip"]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + READY_SECONDS
            while "ready." not in log_path.read_text():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"worker {name} did not start:\n{log_path.read_text()}")
                time.sleep(0.2)
            yield process
        finally:
            stop(process)


def wait_for(condition, timeout: float, what: str, interval: float = 0.2):  # type: ignore[no-untyped-def]
    """Poll until condition() is truthy; its value. AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def user_session_and_token(environment: dict[str, str]) -> tuple[str, str]:
    """A user in the cluster's database: a browser session key and an API token."""
    *_, session_line, token = manage(environment, "shell", "-c", MAKE_USER).splitlines()
    return session_line.split()[0], token


def submit_transcription(base_url: str, token: str, source: str) -> tuple[int, dict[str, Any]]:
    """POST /api/transcriptions as an API client would; (status, JSON body)."""
    request = urllib.request.Request(
        f"{base_url}/api/transcriptions",
        data=json.dumps({"source": source, "redo": True}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # loopback only
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@contextlib.contextmanager
def served_files(directory: Path) -> Iterator[str]:
    """The files of `directory` over HTTP on 127.0.0.1, where the jobs' downloader fetches them; the base URL."""

    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    class QuietServer(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # the downloader hangs up early when it only probes a file: a broken pipe, not a failure

    server = QuietServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
