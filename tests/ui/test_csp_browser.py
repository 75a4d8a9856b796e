"""The Content-Security-Policy in a real browser: every page works under it and Chromium reports no violation.

The header tests (tests/test_security_headers.py) check what the policy says; only a browser shows that the pages,
the chat's websocket, the admin's scripts and the Swagger UI at /api/docs live within it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect, sync_playwright

from tests.live_server import daphne_server
from tests.ui.test_chat_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def test_pages_chat_admin_and_api_docs_work_under_the_policy(tmp_path: Path):
    violations: list[str] = []

    def record_violation(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    with daphne_server(tmp_path) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("console", record_violation)
        page.on("pageerror", lambda error: violations.append(f"page error: {error}"))
        try:
            page.goto(server.url + "/setup/")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password1]", "a long enough passphrase 42")
            page.fill("input[name=password2]", "a long enough passphrase 42")
            page.click("button[type=submit]")
            # The chat's script ran and its websocket (connect-src 'self') is open: the agent's greeting arrived.
            expect(page.locator("#status")).to_have_text("ready", timeout=60_000)

            for path in ["/library/", "/jobs/", "/tokens/", "/admin/", "/admin/auth/user/add/"]:
                response = page.goto(server.url + path)
                assert response is not None and response.ok, path
            expect(page.locator("#id_password1")).to_be_visible()  # the admin's add-user form, its scripts loaded

            check_the_api_docs(page, server.url)
            assert violations == []
        finally:
            browser.close()


def check_the_api_docs(page: Page, base_url: str) -> None:
    """Swagger UI renders from our own static files and its "Try it out" calls the API with the session."""
    page.goto(base_url + "/api/docs")
    operation = page.locator(".opblock", has=page.locator("[data-path='/api/transcription-options']"))
    expect(operation).to_be_visible(timeout=20_000)
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    expect(operation.locator(".live-responses-table tbody .response-col_status").first).to_have_text(
        re.compile(r"^\s*200"), timeout=20_000
    )
