"""A person's first visit, in a real browser (Debian's Chromium driven by Playwright) against a real server.

Daphne runs as a subprocess with its own data directory and database; the agent is the real Claude CLI pointed
at the scripted fake model API; the link is served by a local HTTP server and transcribed by the real engine.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from chat.models import title_from_message
from tests.fake_anthropic import FakeAnthropic, last_tool_result, text, tool_use
from tests.live_server import daphne_server
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


@pytest.fixture
def live_server_url(tmp_path: Path) -> Iterator[tuple[str, FakeAnthropic]]:
    with daphne_server(tmp_path) as server:
        yield server.url, server.fake


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
            check_the_transcript_workspace(page)
        finally:
            browser.close()


def wait_until(page: Page, expression: str, timeout: float = 15.0) -> None:
    """Poll an expression from here: the page's CSP forbids the eval that page.wait_for_function needs."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        time.sleep(0.1)


def check_the_transcript_workspace(page) -> None:
    """The link's audio plays in the page; a word seeks there; a line is edited, kept over a reload, then undone."""
    player = page.locator("#player")
    expect(player).to_have_attribute("src", re.compile(r"/library/\w+/media/$"))
    wait_until(page, "document.getElementById('player').readyState >= 1")
    word = page.locator(".segment .word").nth(5)
    start = float(word.get_attribute("data-start"))
    word.click()
    wait_until(page, f"Math.abs(document.getElementById('player').currentTime - {start}) < 0.5")
    expect(page.locator(".segment").first).to_have_class(re.compile(r"\bcurrent\b"))

    segment = page.locator(".segment").first
    segment.locator(".edit").click()
    page.keyboard.press("Control+A")
    page.keyboard.type("And so my fellow citizens.")
    page.keyboard.press("Enter")
    expect(segment.locator(".edited-mark")).to_be_visible()
    page.reload()
    expect(page.locator(".segment .text").first).to_have_text("And so my fellow citizens.")
    page.locator(".segment .undo").first.click()
    expect(page.locator(".segment .text").first).to_contain_text("ask not what your country")
    expect(page.locator(".segment .edited-mark").first).to_be_hidden()
