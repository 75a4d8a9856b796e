"""The pages people see first, in a real browser (Debian's Chromium driven by Playwright) against a real server.

One Daphne server for the module: the first visit creates the administrator on /setup/, as a new user would, and
the other tests reuse that login. The agent is the real Claude CLI pointed at the scripted fake model API.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect, sync_playwright

from tests.fake_anthropic import text
from tests.live_server import LiveServer, daphne_server
from tests.ui.test_chat_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
PASSWORD = "a long enough passphrase 42"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}
GREETING = "Hello! Paste a video link or drop a file to transcribe it."
MARKDOWN_ANSWER = (
    "Here is what I found:\n\n- the **first** point\n- the second point\n\n"
    "Read [the transcript](https://example.com/transcript) or run `make run`.\n\n"
    "<img src=x onerror=\"document.title='pwned'\">"
)
LONG_SOURCE = "https://example.com/videos/" + "a-very-long-path-segment-" * 6 + "talk.mp4"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with daphne_server(tmp_path_factory.mktemp("pages")) as live:
        live.fake.add(text(GREETING))
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Chromium is missing: .ci/run installs Debian's chromium package"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def first_visit(server: LiveServer, browser: Browser) -> dict[str, Any]:
    """The administrator created on /setup/ and greeted in their first chat: the login and the chat's id."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(server.url + "/")
    expect(page).to_have_url(f"{server.url}/setup/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".message.agent .body").first).to_have_text(GREETING, timeout=60_000)
    session_id = re.search(r"/chat/([0-9a-f-]+)/$", page.url).group(1)
    state = context.storage_state()
    context.close()
    return {"storage_state": state, "session_id": session_id}


@pytest.fixture
def open_page(browser: Browser, first_visit: dict[str, Any]) -> Iterator[Callable[..., Page]]:
    """Opens pages logged in as the administrator; none of them may meet a script error or a CSP violation."""
    problems: list[str] = []
    contexts: list[BrowserContext] = []

    def record(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            problems.append(message.text)

    def open_one(**options: Any) -> Page:
        options.setdefault("viewport", DESKTOP)
        context = browser.new_context(storage_state=first_visit["storage_state"], **options)
        contexts.append(context)
        page = context.new_page()
        page.on("console", record)
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        return page

    yield open_one
    for context in contexts:
        context.close()
    assert problems == []


def seed_jobs(server: LiveServer, session_id: str) -> str:
    """A finished job with its transcript and a failed one, in the chat's own database; the transcript's id."""
    code = f"""
from chat.models import ChatSession
from transcripts.models import Transcript, TranscriptionJob
session = ChatSession.objects.get(pk="{session_id}")
transcript = Transcript.objects.create(owner=session.owner, session=session, title="A talk with a long title " * 3,
    source={LONG_SOURCE!r}, source_type="url", language="en", duration=61.0, text="Ask not.")
TranscriptionJob.objects.create(owner=session.owner, session=session, source=transcript.source, source_type="url",
    status="done", stage="Done", percent=100, transcript=transcript)
TranscriptionJob.objects.create(owner=session.owner, session=session, source={LONG_SOURCE!r}, source_type="url",
    status="failed", stage="Failed", percent=12, error="The download failed: HTTP 404.")
print(transcript.pk)
"""
    return server.manage("shell", "-c", code).split()[-1]


def chat_url(server: LiveServer, first_visit: dict[str, Any]) -> str:
    return f"{server.url}/chat/{first_visit['session_id']}/"


@pytest.fixture(scope="module")
def seeded(server: LiveServer, first_visit: dict[str, Any]) -> str:
    """The first chat has a finished and a failed job, so the library and the jobs page have wide rows."""
    return seed_jobs(server, first_visit["session_id"])


def test_a_chats_job_rows_come_back_after_a_reload(server, first_visit, open_page):
    # A chat of its own that already has a message, so no agent starts to greet it.
    code = f"""
from chat.models import ChatSession, Message
owner = ChatSession.objects.get(pk="{first_visit["session_id"]}").owner
session = ChatSession.objects.create(owner=owner, title="Jobs")
Message.objects.create(session=session, role="agent", content="Send a link.")
print(session.pk)
"""
    session_id = server.manage("shell", "-c", code).split()[-1]
    page = open_page()
    page.goto(f"{server.url}/chat/{session_id}/")
    expect(page.locator(".message.agent .body")).to_have_text("Send a link.")
    expect(page.locator("#jobs .job")).to_have_count(0)

    transcript_id = seed_jobs(server, session_id)  # as if they ran while the tab was open
    page.reload()
    # The rows come as a JSON data block (json_script), which a Content-Security-Policy never runs.
    expect(page.locator("script#chat-jobs")).to_have_attribute("type", "application/json")
    done = page.locator(".job[data-status=done]")
    expect(done.locator("a")).to_have_text(" Open the transcript")
    expect(done.locator("a")).to_have_attribute("href", f"/library/{transcript_id}/")
    expect(done.locator("progress")).to_have_attribute("value", "100")
    expect(page.locator(".job[data-status=failed] .job-label")).to_contain_text("The download failed: HTTP 404.")
    done.locator("a").click()
    expect(page.locator("h1")).to_contain_text("A talk with a long title")


def test_the_pages_fit_a_phone_screen(server, first_visit, open_page, seeded):
    page = open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto(server.url + "/tokens/")
    page.fill("input[name=name]", "phone script")
    page.click("form.inline-form button[type=submit]")
    expect(page.locator("#new-token-secret")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "/tokens/ scrolls sideways"
    for path in [f"/chat/{first_visit['session_id']}/", "/library/", "/jobs/"]:
        page.goto(server.url + path)
        expect(page.locator("main")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width}px wide on a {PHONE['width']}px screen"
    # The jobs table is wider than the phone: it scrolls inside its own box instead.
    assert page.evaluate("(box => box.scrollWidth > box.clientWidth)(document.querySelector('.table-scroll'))")


def test_dark_mode_follows_the_system_setting(server, first_visit, open_page):
    page = open_page()
    colours = {}
    for scheme in ["light", "dark"]:
        page.emulate_media(color_scheme=scheme)
        page.goto(server.url + "/library/")
        colours[scheme] = page.evaluate(
            "[getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color]"
        )
    assert colours["light"][0] != colours["dark"][0]
    assert colours["light"][1] != colours["dark"][1]


def test_the_favicon_link_resolves(server, first_visit, open_page):
    page = open_page()
    page.goto(server.url + "/library/")
    href = page.locator("link[rel=icon]").get_attribute("href")
    response = page.request.get(server.url + href)
    assert response.status == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in response.body()


def test_an_agent_answer_renders_markdown_and_no_markup_from_the_text(server, first_visit, open_page):
    server.fake.add(text(MARKDOWN_ANSWER))
    page = open_page()
    page.goto(chat_url(server, first_visit))
    expect(page.locator("#status")).to_have_text("ready", timeout=60_000)
    page.fill("#message", "What did you find?")
    page.keyboard.press("Enter")

    for _ in ("live", "after a reload"):
        answer = page.locator(".message.agent .body.markdown").last
        expect(answer.locator("ul > li")).to_have_count(2, timeout=60_000)
        expect(answer.locator("strong")).to_have_text("first")
        link = answer.locator("a")
        expect(link).to_have_attribute("href", "https://example.com/transcript")
        expect(link).to_have_attribute("target", "_blank")
        expect(link).to_have_attribute("rel", "noopener noreferrer")
        expect(answer.locator("code")).to_have_text("make run")
        expect(answer).to_contain_text("<img src=x onerror=")  # shown as text
        assert page.locator("#messages img").count() == 0
        assert page.title() != "pwned"
        page.reload()


def test_the_drop_zone_covers_the_composer_not_the_messages(server, first_visit, open_page):
    page = open_page()
    page.goto(chat_url(server, first_visit))
    files = page.evaluate_handle(
        "() => { const d = new DataTransfer(); d.items.add(new File(['x'], 'a.mp4')); return d; }"
    )
    page.dispatch_event("#messages", "dragenter", {"dataTransfer": files})
    dropzone = page.locator("#dropzone")
    expect(dropzone).to_be_visible()
    zone, messages, composer = (page.locator(s).bounding_box() for s in ["#dropzone", "#messages", "#composer"])
    assert zone["y"] >= messages["y"] + messages["height"], "the drop zone hides messages"
    assert composer["y"] <= zone["y"] and zone["y"] + zone["height"] <= composer["y"] + composer["height"]
    page.dispatch_event("#messages", "dragleave", {"dataTransfer": files})
    expect(dropzone).to_be_hidden()


def test_the_copy_button_copies_a_new_token(server, first_visit, open_page):
    page = open_page(permissions=["clipboard-read", "clipboard-write"])
    page.goto(server.url + "/tokens/")
    page.fill("input[name=name]", "copy me")
    page.click("form.inline-form button[type=submit]")
    secret = page.locator("#new-token-secret").inner_text()
    page.click("#copy-token")
    expect(page.locator("#copy-token-feedback")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == secret
