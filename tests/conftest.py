"""Shared fixtures.

- `alice`, `bob`: two ordinary users, for every isolation test (healthchecks' habit).
- `alice_client`, `bob_client`: Django test clients logged in as them.
- `isolated_storage` (autouse): media and agent home in a temporary directory per test, so tests never touch the
  developer's data/ and files left behind are visible to the test that made them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.test import Client

from tests.factories import UserFactory

# Importing videoagent.asgi must not touch a database before pytest-django has set up the test one.
os.environ.setdefault("VIDEOAGENT_SKIP_STARTUP", "1")
# Jobs run in the test process (and in the servers tests start) unless a test starts Celery workers itself: the
# PostgreSQL + Redis pass sets REDIS_URL, which would otherwise send every job to a worker. pytest-django has read
# the settings before this file runs, so the `isolated_storage` fixture sets them too.
os.environ.setdefault("TRANSCRIPTION_RUNNER", "local")

REPO_ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def isolated_storage(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AGENT_HOME_DIR = tmp_path / "agent"
    settings.JOB_WORK_DIR = tmp_path / "work"
    settings.TRANSCRIPTION_RUNNER = "local"
    return tmp_path


@pytest.fixture(autouse=True)
def close_async_orm_connections():
    """Async tests reach the ORM through asgiref's one shared thread; close its connection after each test so
    PostgreSQL can drop the test database at the end (otherwise: "being accessed by other users")."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    SyncToAsync.single_thread_executor.submit(connections.close_all).result()


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


@pytest.fixture
def alice_client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(bob) -> Client:
    client = Client()
    client.force_login(bob)
    return client
