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
import shutil
import signal
import socket
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

import psycopg
import pytest
import redis

from tests.conftest import REPO_ROOT
from tests.live_server import MAKE_SESSION, free_port, running_daphne, server_database, stop

CLUSTER_REDIS_DB = 11  # the scale-out tests' own Redis db: never the one the suite's channel layer uses
READY_SECONDS = 90
# Job timings (transcripts/sweep.py, liveness.py, the Redis broker's restore): the cluster's processes always get
# their defaults, whatever this shell exports, so the tests see what users get.
JOB_TIMINGS = (
    "JOB_HEARTBEAT_SECONDS",
    "JOB_HEARTBEAT_TIMEOUT_SECONDS",
    "JOB_SWEEP_SECONDS",
    "CELERY_VISIBILITY_TIMEOUT_SECONDS",
    "CELERY_RESTORE_INTERVAL_SECONDS",
)
JOBS_SQL = "select id::text, status, attempts, runner, transcript_id, error from transcripts_transcriptionjob"
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
        **{name: value for name, value in os.environ.items() if name not in JOB_TIMINGS},
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


def on_another_machine(command: list[str], hostname: str) -> list[str]:
    """`command` run under a host name of its own (a UTS namespace), as on another machine: its jobs' runner ids
    name that host, so other processes can tell it is alive only from its heartbeat, not from /proc. The command
    is exec'd, so the process keeps the pid that Popen reports."""
    return ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', hostname, *command]


def require_other_machines() -> None:
    """Skip unless this process may make UTS namespaces (root, or CAP_SYS_ADMIN), which on_another_machine needs."""
    probe = subprocess.run(on_another_machine(["true"], "probe"), capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"Cannot pose as another machine here (unshare --uts): {probe.stderr.decode().strip()}")


@contextlib.contextmanager
def rabbitmq_broker() -> Iterator[str]:
    """A virtual host of its own on the local RabbitMQ (guest/guest), removed afterwards; its broker URL. Skips
    where RabbitMQ or rabbitmqctl is missing (CI runs Redis only)."""
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=1).close()
    except OSError as exc:
        pytest.skip(f"RabbitMQ is not reachable on 127.0.0.1:5672: {exc}")
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl is not installed")
    vhost = f"cluster-{uuid.uuid4().hex[:8]}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True)
    try:
        subprocess.run(
            ["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
            check=True,
            capture_output=True,
        )
        yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False, capture_output=True)


@contextlib.contextmanager
def celery_worker(
    environment: dict[str, str], log_path: Path, name: str, machine: str = ""
) -> Iterator[subprocess.Popen[bytes]]:
    """A transcription worker as `make worker` starts it (one thread, the model loaded once), ready to work; on
    the machine named `machine` (see on_another_machine), or on this one."""
    command = [sys.executable, "-m", "celery", "-A", "videoagent", "worker", "--queues", "transcription"]
    command += ["--pool", "threads", "--concurrency", "1", "--hostname", f"{name}@%h", "--loglevel", "INFO"]
    command += ["--without-mingle", "--without-gossip"]
    if machine:
        command = on_another_machine(command, machine)
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


def jobs(environment: dict[str, str]) -> list[dict[str, Any]]:
    """The job rows of the cluster's database (PostgreSQL), as dicts."""
    with psycopg.connect(environment["DATABASE_URL"]) as connection:
        cursor = connection.execute(JOBS_SQL)
        columns = [column.name for column in cursor.description or []]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def runner_pid(job: dict[str, Any]) -> int:
    return int(job["runner"].split(":")[1])


def kill_the_transcribing_worker(
    environment: dict[str, str], workers: tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]]
) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes], float]:
    """Once the cluster's one job is transcribing, kill -9 the worker that runs it: (the killed worker, the other
    one, the time.monotonic() of the kill)."""
    (running,) = wait_for(
        lambda: [row for row in jobs(environment) if row["status"] == "transcribing"],
        timeout=120,
        what="the job to be transcribing",
    )
    victim, survivor = workers if runner_pid(running) == workers[0].pid else workers[::-1]
    os.kill(victim.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    victim.wait(timeout=10)
    return victim, survivor, killed_at


def claimed_again_by(environment: dict[str, str], worker: subprocess.Popen[bytes]) -> dict[str, Any] | None:
    """The cluster's one job once `worker` has claimed it for its second start (it is running again there)."""
    (job,) = jobs(environment)
    return job if job["attempts"] == 2 and job["runner"] and runner_pid(job) == worker.pid else None


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
