"""Transcribing from the web page without the agent, and the transcript workspace, in a real browser.

Daphne runs with no model key, the real engine transcribes, and every request that leaves 127.0.0.1 is aborted,
so nothing may come from a CDN. Two files and a link go through the New transcription panel; the jobs page follows
them (also after a reload mid-job); then the transcript page's player, editing, search and layout are checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, Route, expect, sync_playwright

from tests.live_server import MAKE_SESSION, LiveServer, daphne_server
from tests.transcripts.conftest import media_dir, media_server  # noqa: F401
from tests.ui.test_chat_browser import CHROMIUM, CHROMIUM_ARGS, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]
PHONE = {"width": 390, "height": 844}
INERT = '<img src=x onerror="window.pwned = 1"> <a href="javascript:window.pwned = 2">x</a>'


def only_loopback(route: Route) -> None:
    if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
        route.continue_()
    else:
        route.abort()


@pytest.fixture
def page(tmp_path: Path) -> Iterator[tuple[Page, LiveServer]]:
    assert Path(CHROMIUM).exists(), "Chromium is missing: `make test` installs Debian's chromium package"
    with daphne_server(tmp_path, ANTHROPIC_API_KEY="", ANTHROPIC_BASE_URL="") as server:
        session_key, _ = server.manage("shell", "-c", MAKE_SESSION).splitlines()[-1].split()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"]
            )
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.route("**/*", only_loopback)
            context.add_cookies([{"name": "sessionid", "value": session_key, "url": server.url}])
            try:
                yield context.new_page(), server
            finally:
                browser.close()


def player_time(page: Page) -> float:
    return page.evaluate("document.getElementById('player').currentTime")


def wait_for_time(page: Page, seconds: float) -> None:
    wait_until(
        page,
        "document.getElementById('player').readyState >= 1 && "
        f"Math.abs(document.getElementById('player').currentTime - {seconds}) < 0.3",
    )


def test_transcribe_from_the_panel_then_work_on_the_transcript(page, media_dir, media_server):  # noqa: F811
    page, server = page
    page.goto(server.url + "/library/")
    page.set_input_files("#id_files", [str(media_dir / "language-switch.mp4"), str(media_dir / "jfk.flac")])
    page.fill("#id_links", f"{media_server}/speech.mp4")
    page.click("#new-transcription button[type=submit]")

    expect(page).to_have_url(f"{server.url}/jobs/")
    rows = page.locator("#jobs tbody tr")
    expect(rows).to_have_count(3)
    # Reload while the jobs run: the state is on the page at once, before any live event.
    expect(page.locator("#jobs tr[data-status=transcribing], #jobs tr[data-status=done]").first).to_be_attached(
        timeout=60_000
    )
    page.reload()
    bar_now = page.locator("#jobs tr[data-status=transcribing] progress, #jobs tr[data-status=done] progress")
    assert bar_now.count() >= 1
    expect(page.locator("#jobs tr[data-status=done]")).to_have_count(3, timeout=240_000)
    for row in rows.all():
        expect(row.locator("a.open")).to_be_visible()

    page.locator("#jobs tr", has_text="language-switch").locator("a.open").click()
    expect(page.locator("#transcript-title")).to_have_text("language-switch")
    segments = page.locator(".segment")
    assert segments.count() >= 3
    third = segments.nth(2)
    third_start = float(third.get_attribute("data-start"))

    # Click the third segment: the player moves to its start, and that line is the highlighted one.
    wait_until(page, "document.getElementById('player').readyState >= 1")
    third.locator(".seek").click()
    wait_for_time(page, third_start)
    expect(third).to_have_class(re.compile(r"\bcurrent\b"))
    # Play across the end of the first line: the highlight follows the sound.
    second_start = float(segments.nth(1).get_attribute("data-start"))
    page.evaluate(
        f"(() => {{ const p = document.getElementById('player'); p.currentTime = {second_start - 0.6}; p.play(); }})()"
    )
    expect(segments.nth(1)).to_have_class(re.compile(r"\bcurrent\b"), timeout=10_000)
    page.evaluate("document.getElementById('player').pause()")

    # ?t= seeks on load.
    page.goto(f"{page.url.split('?')[0]}?t={third_start}")
    wait_for_time(page, third_start)

    # Edit a line: kept over a reload and in the SRT download; markup in it stays text; undo restores it.
    first = page.locator(".segment").first
    original = first.locator(".text").inner_text()
    first.locator(".edit").click()
    page.keyboard.press("Control+A")
    page.keyboard.type(f"Welcome to the edited news. {INERT}")
    page.keyboard.press("Enter")
    expect(first.locator(".edited-mark")).to_be_visible()
    page.reload()
    expect(page.locator(".segment .text").first).to_contain_text("Welcome to the edited news.")
    assert page.locator(".segments img").count() == 0 and page.evaluate("window.pwned") is None
    srt = page.request.get(page.url.split("?")[0] + "download/srt/").text()
    assert "Welcome to the edited news." in srt
    page.locator(".segment .undo").first.click()
    expect(page.locator(".segment .text").first).to_contain_text(" ".join(original.split()[:3]))
    expect(page.locator(".segment .edited-mark").first).to_be_hidden()

    # The page fits a phone.
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Search finds a word; its snippet link lands on that line's time.
    page.goto(server.url + "/library/?q=Berlin")
    hit = page.locator(".search-hits a").first
    expect(hit).to_contain_text("language-switch")
    seconds = float(re.search(r"\?t=([\d.]+)", hit.get_attribute("href")).group(1))
    assert page.locator(".search-hits mark", has_text="Berlin").count() >= 1
    hit.click()
    wait_for_time(page, seconds)
    assert abs(player_time(page) - seconds) < 0.3
