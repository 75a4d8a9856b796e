"""A cluster of real server processes for the scale-out tests, as a deployment runs them: N Daphne servers (and any
other process a test starts with `Cluster.start`, such as Celery workers) that share one environment: one fresh
PostgreSQL database, one Redis (a db number and a channel prefix of their own), one data directory, and one
FakeAnthropic that every Claude CLI of the cluster talks to.

A process is stopped by PID when the cluster ends (SIGTERM, then SIGKILL), and so are the processes it started
(the agents' CLIs), should they outlive it; `Cluster.kill` is `kill -9` for fault tests. The cluster's Redis keys
are deleted at the end. The cluster needs PostgreSQL: without DATABASE_URL the tests are skipped, unless
VIDEOAGENT_REQUIRE_SERVICES=1 (CI's PostgreSQL + Redis pass) makes that a failure.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import redis

from tests.conftest import REPO_ROOT
from tests.fake_anthropic import FakeAnthropic
from tests.live_server import MAKE_SESSION, alive, descendants, free_port, running_daphne, server_database, stop
from tests.live_workers import manage, require_cluster_services

# The chat cluster tests' own Redis db: never the suite's channel layer (0), the job cluster's (11) or the lease
# tests' (13), so runs side by side never see each other's keys.
CLUSTER_REDIS_DB = 12
READY_SECONDS = 90


def cluster_redis_url(db: int = CLUSTER_REDIS_DB) -> str:
    """The Redis of REDIS_URL (127.0.0.1:6379 without it), on the cluster's own db."""
    parsed = urlparse(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    return parsed._replace(path=f"/{db}").geturl()


@dataclass
class ClusterProcess:
    """One process of the cluster; `url` is set for a web server."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    url: str = ""

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@dataclass
class Cluster:
    environment: dict[str, str]  # what every process of the cluster runs with
    fake: FakeAnthropic
    tmp_path: Path
    stack: contextlib.ExitStack
    processes: list[ClusterProcess] = field(default_factory=list)

    def manage(self, *args: str) -> str:
        """A management command against the cluster's database; its standard output."""
        return manage(self.environment, *args)

    def make_chat(self) -> tuple[str, str]:
        """A user "alice" logged in (her session cookie's value) and one chat of hers (its id)."""
        session_key, chat_id = self.manage("shell", "-c", MAKE_SESSION).splitlines()[-1].split()
        return session_key, chat_id

    def web_server(self, name: str, **settings: str) -> ClusterProcess:
        """One more Daphne server of the cluster, on a free port, accepting connections."""
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        environment = {**self.environment, "CSRF_TRUSTED_ORIGINS": url, **settings}
        log_path = self.tmp_path / f"{name}.log"
        process = self.stack.enter_context(running_daphne(environment, port, log_path))
        server = ClusterProcess(name, process, log_path, url)
        self.stack.callback(_stop_with_children, server)  # before running_daphne's own stop, which is then a no-op
        self.processes.append(server)
        return server

    def start(
        self,
        name: str,
        command: list[str],
        *,
        ready: Callable[[str], bool] | None = None,
        **settings: str,
    ) -> ClusterProcess:
        """Any other process of the cluster (a Celery worker, a management command), with the cluster's environment
        plus `settings`; with `ready`, wait until it says so of the process's log (READY_SECONDS at most)."""
        log_path = self.tmp_path / f"{name}.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                command, cwd=REPO_ROOT, env={**self.environment, **settings}, stdout=log, stderr=subprocess.STDOUT
            )
        started = ClusterProcess(name, process, log_path)
        self.stack.callback(_stop_with_children, started)
        self.processes.append(started)
        deadline = time.monotonic() + READY_SECONDS
        while ready is not None and not ready(started.log()):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start:\n{started.log()}")
            time.sleep(0.2)
        return started

    def kill(self, member: ClusterProcess) -> set[int]:
        """`kill -9` of one process, as a crash; the processes it had started are killed too (a crashed machine
        takes them along). Their pids."""
        children = descendants(member.pid)
        member.process.send_signal(signal.SIGKILL)
        member.process.wait(timeout=10)
        _kill_all(children)
        return children


def _kill_all(pids: set[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)


def _stop_with_children(member: ClusterProcess) -> None:
    """Stop the process in order (SIGTERM, then SIGKILL), then kill whatever it started and left behind: recorded
    first, since a process whose parent is gone is no longer found among its descendants."""
    children = descendants(member.pid) if member.process.poll() is None else set()
    stop(member.process)
    _kill_all({pid for pid in children if alive(pid)})


@contextlib.contextmanager
def live_cluster(tmp_path: Path, **settings: str) -> Iterator[Cluster]:
    """The shared environment of a cluster (database migrated, Redis reachable), with no process started yet:
    `cluster.web_server(...)` and `cluster.start(...)` start them, and they all stop when the block ends."""
    require_cluster_services(cluster_redis_url())
    prefix = f"cluster{uuid.uuid4().hex[:8]}"
    with FakeAnthropic() as fake, contextlib.ExitStack() as stack:
        environment = {
            **os.environ,
            "VIDEOAGENT_DATA_DIR": str(tmp_path / "data"),
            "REDIS_URL": cluster_redis_url(),
            "CHANNEL_PREFIX": prefix,
            "ANTHROPIC_BASE_URL": fake.url,
            "ANTHROPIC_API_KEY": "sk-ant-test",
            "AGENT_MAX_RETRIES": "0",
            "ALLOW_PRIVATE_URLS": "true",
            "ALLOWED_HOSTS": "127.0.0.1",
            **settings,
        }
        environment.pop("VIDEOAGENT_SKIP_STARTUP", None)  # each server runs its start-up and shutdown steps
        stack.enter_context(server_database(environment))
        stack.callback(_delete_keys, cluster_redis_url(), prefix)
        cluster = Cluster(environment, fake, tmp_path, stack)
        cluster.manage("migrate", "-v0")
        yield cluster


def _delete_keys(url: str, prefix: str) -> None:
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
