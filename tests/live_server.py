"""A real Daphne server in a subprocess, as `make run` starts it, for tests of the whole process.

It has its own data directory and database (pytest-django's test database is not visible to another process) and
the real Claude CLI pointed at a scripted FakeAnthropic. Stopped by PID when the test ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO_ROOT
from tests.fake_anthropic import FakeAnthropic

ASGI_APP = "videoagent.asgi:application"
# A logged-in browser session and one chat of that user, made in the server's own database.
MAKE_SESSION = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from chat.models import ChatSession
user = get_user_model().objects.create_user("alice", password="a long enough password")
session = SessionStore()
session.update({SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: user.get_session_auth_hash()})
session.create()
print(session.session_key, ChatSession.objects.create(owner=user).pk)
"""
# The same, and an API token of that user: the last line printed.
MAKE_USER_WITH_TOKEN = (
    MAKE_SESSION + 'from accounts.services import issue_token\nprint(issue_token(owner=user, name="test")[1])\n'
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def server_database(environment: dict[str, str]) -> Iterator[None]:
    """With PostgreSQL, a database of the server's own, dropped afterwards; with SQLite, a file in its data dir."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        yield
        return
    import psycopg

    name = f"videoagent_live_{uuid.uuid4().hex[:8]}"
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    environment["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + name
    try:
        yield
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    environment: dict[str, str]
    fake: FakeAnthropic
    log_path: Path

    def manage(self, *args: str) -> str:
        """Run a management command against the server's own database; its standard output."""
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO_ROOT,
            env=self.environment,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def make_user(self) -> tuple[str, str, str]:
        """The user "alice" in the server's database: a browser session key, a chat of hers, an API token."""
        *_, session_line, token = self.manage("shell", "-c", MAKE_USER_WITH_TOKEN).splitlines()
        session_key, chat_id = session_line.split()
        return session_key, chat_id, token


@contextlib.contextmanager
def daphne_server(tmp_path: Path, **settings: str) -> Iterator[LiveServer]:
    """Daphne serving the project on a free port of 127.0.0.1, with `settings` as extra environment."""
    with FakeAnthropic() as fake:
        port = free_port()
        environment = {
            **os.environ,
            "VIDEOAGENT_DATA_DIR": str(tmp_path / "data"),
            "ANTHROPIC_BASE_URL": fake.url,
            "ANTHROPIC_API_KEY": "sk-ant-test",
            "ALLOW_PRIVATE_URLS": "true",
            "AGENT_MAX_RETRIES": "0",
            "CHANNEL_PREFIX": f"live{uuid.uuid4().hex[:8]}",
            "ALLOWED_HOSTS": "127.0.0.1",
            "CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{port}",
            **settings,
        }
        environment.pop("VIDEOAGENT_SKIP_STARTUP", None)
        with server_database(environment):
            subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=REPO_ROOT, env=environment, check=True)
            log_path = tmp_path / "daphne.log"
            with running_daphne(environment, port, log_path) as process:
                yield LiveServer(f"http://127.0.0.1:{port}", process, environment, fake, log_path)


@contextlib.contextmanager
def running_daphne(environment: dict[str, str], port: int, log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Daphne on 127.0.0.1:`port` with `environment`, accepting connections; stopped when the context ends."""
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "daphne"), "-b", "127.0.0.1", "-p", str(port), ASGI_APP],
            cwd=REPO_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for_port(port, process, log_path)
            yield process
        finally:
            stop(process)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(log_path.read_text()) from None
            time.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 15 s: a test's server must never outlive the test."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def descendants(pid: int) -> set[int]:
    """The pids of every process started (directly or not) by `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rpartition(")")[2].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: set[int] = set()
    pending = [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"
