"""Every page needs a login, except the login and first-run pages; the check walks the real URL configuration."""

from __future__ import annotations

import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

# Pages reachable without a login; everything else in the URLconf must redirect anonymous visitors to it.
PUBLIC_PAGES = {"/login/", "/setup/"}
# The API answers 401 itself (tests/api) and the admin is walked in tests/admin.
SKIPPED_PREFIXES = ("/api/", "/admin/")
SAMPLE_VALUES = {"int": "1", "str": "abc123", "slug": "abc", "uuid": str(uuid.uuid4()), "path": "abc/def"}


def page_urls(patterns: list, prefix: str = "/") -> list[str]:
    """Turn every route of the URLconf into a concrete URL, with a sample value for each converter."""
    urls: list[str] = []
    for pattern in patterns:
        route = str(pattern.pattern).removeprefix("^")  # a re_path, such as the API's catch-all 404
        for converter_name, value in SAMPLE_VALUES.items():
            for name in _names_of(pattern, converter_name):
                route = route.replace(f"<{converter_name}:{name}>", value).replace(f"<{name}>", value)
        if isinstance(pattern, URLResolver):
            urls.extend(page_urls(pattern.url_patterns, prefix + route))
        elif isinstance(pattern, URLPattern):
            urls.append(prefix + route)
    return [url for url in urls if not url.startswith(SKIPPED_PREFIXES)]


def _names_of(pattern: URLPattern | URLResolver, converter_name: str) -> list[str]:
    converters = getattr(pattern.pattern, "converters", {})
    return [name for name, conv in converters.items() if type(conv).__name__.lower().startswith(converter_name)]


def test_the_walk_finds_the_pages_we_know():
    urls = page_urls(get_resolver().url_patterns)
    for known in ["/", "/login/", "/setup/", "/tokens/", "/library/", "/library/abc123/"]:
        assert known in urls


def test_every_page_but_login_and_setup_redirects_anonymous_visitors_to_login(client, alice):
    urls = [url for url in page_urls(get_resolver().url_patterns) if url not in PUBLIC_PAGES]
    assert len(urls) >= 5
    for url in urls:
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, (method, url)
            assert response["Location"].startswith("/login/?next="), url


def test_the_login_page_is_public_once_a_user_exists(client, alice):
    assert client.get("/login/").status_code == 200


def test_the_admin_sends_anonymous_visitors_to_a_login(client, alice):
    response = client.get("/admin/transcripts/transcript/")
    assert response.status_code == 302
    assert "login" in response["Location"]
