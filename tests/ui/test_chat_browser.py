"""A person's first visit, in a real browser (Debian's Chromium driven by Playwright) against a real server.

Daphne runs as a subprocess with its own data directory and database; the agent is the real Claude CLI pointed
at the scripted fake model API; the link is served by a local HTTP server and transcribed by the real engine.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from chat.models import title_from_message
from tests.conftest import REPO_ROOT
from tests.fake_anthropic import FakeAnthropic, last_tool_result, text, tool_use
from tests.transcripts.conftest import media_dir, media_server  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_database(environment: dict[str, str]) -> Iterator[None]:
    """With PostgreSQL, a database of the server's own (the test database belongs to pytest-django)."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        yield  # SQLite in the server's data directory
        return
    import psycopg

    name = f"videoagent_ui_{uuid.uuid4().hex[:8]}"
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    environment["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + name
    try:
        yield
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def live_server_url(tmp_path: Path) -> Iterator[tuple[str, FakeAnthropic]]:
    with FakeAnthropic() as fake:
        port = free_port()
        environment = {
            **os.environ,
            "VIDEOAGENT_DATA_DIR": str(tmp_path / "data"),
            "ANTHROPIC_BASE_URL": fake.url,
            "ANTHROPIC_API_KEY": "sk-ant-test",
            "ALLOW_PRIVATE_URLS": "true",
            "AGENT_MAX_RETRIES": "0",
            "CHANNEL_PREFIX": f"ui{uuid.uuid4().hex[:8]}",
            "ALLOWED_HOSTS": "127.0.0.1",
            "CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{port}",
        }
        environment.pop("VIDEOAGENT_SKIP_STARTUP", None)
        database = server_database(environment)
        next(database)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=REPO_ROOT, env=environment, check=True)
        log = (tmp_path / "daphne.log").open("w")
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "videoagent.asgi:application",
            ],
            cwd=REPO_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError((tmp_path / "daphne.log").read_text()) from None
                    time.sleep(0.2)
            yield f"http://127.0.0.1:{port}", fake
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()  # a CLI child can hold Daphne's shutdown; the test's server must not outlive it
                server.wait(timeout=10)
            log.close()
            next(database, None)


def test_first_visit_setup_then_a_link_is_transcribed_in_the_chat(live_server_url, media_server):  # noqa: F811
    base_url, fake = live_server_url
    link = f"{media_server}/jfk.flac"
    fake.add(
        text("Hello! Paste a video link or drop a file to transcribe it."),
        tool_use("transcribe_video", {"source": link}),
        lambda body: text("Done. " + last_tool_result(body)),
    )
    assert Path(CHROMIUM).exists(), "Chromium is missing: .ci/run installs Debian's chromium package"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        try:
            page.goto(base_url + "/")
            expect(page).to_have_url(f"{base_url}/setup/")  # a fresh install asks for the first administrator
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password1]", "a long enough passphrase 42")
            page.fill("input[name=password2]", "a long enough passphrase 42")
            page.click("button[type=submit]")

            expect(page.locator(".message.agent .body").first).to_have_text(
                "Hello! Paste a video link or drop a file to transcribe it.", timeout=60_000
            )
            expect(page.locator("#status")).to_have_text("ready", timeout=30_000)

            page.fill("#message", f"Please transcribe {link}")
            page.keyboard.press("Enter")
            expect(page.locator(".message.user .body")).to_have_text(f"Please transcribe {link}")
            expect(page.locator(".chat-header h1")).to_have_text(title_from_message(f"Please transcribe {link}"))
            expect(page.locator(".job[data-status=done]")).to_be_visible(timeout=120_000)
            answer = page.locator(".message.agent .body").nth(1)
            expect(answer).to_contain_text("ask not what your country can do for you", timeout=60_000)
            expect(page.locator(".job a")).to_have_text(" Open the transcript")
            page.screenshot(path=str(Path(os.environ.get("UI_SCREENSHOT_DIR", "/tmp")) / "videoagent-chat.png"))

            page.locator(".job a").click()
            expect(page.locator("h1")).to_contain_text("jfk")
        finally:
            browser.close()
