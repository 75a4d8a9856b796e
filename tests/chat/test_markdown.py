"""Agent messages are rendered as Markdown, and nothing in a message can put markup or script into the page."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from chat.conversation import message_event
from chat.markdown import ALLOWED_TAGS, render_markdown
from chat.models import Message
from tests.factories import MessageFactory


class Elements(HTMLParser):
    """Every start tag of a fragment, with its attributes."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))

    def tags(self) -> set[str]:
        return {tag for tag, _ in self.found}

    def links(self) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.found if tag == "a"]


def test_it_renders_lists_code_and_links():
    html = render_markdown(
        "Done:\n\n- first\n- **second**\n\n1. one\n2. two\n\n`inline` and\n\n```\nblock <code>\n```\n\n"
        "[the transcript](/library/abc123/) or [the video](https://example.com/watch?v=1)"
    )
    assert {"ul", "ol", "li", "strong", "code", "pre", "a", "p"} <= Elements(html).tags()
    assert "<li>first</li>" in html
    assert "block &lt;code&gt;" in html
    links = Elements(html).links()
    assert [link["href"] for link in links] == ["/library/abc123/", "https://example.com/watch?v=1"]
    assert all(link["rel"] == "noopener noreferrer" and link["target"] == "_blank" for link in links)


def test_a_single_newline_is_a_line_break():
    assert render_markdown("line one\nline two") == "<p>line one<br>\nline two</p>\n"


def test_a_script_tag_is_shown_as_text():
    html = render_markdown("Look: <script>alert('x')</script>")
    assert "<script" not in html
    assert "&lt;script&gt;" in html


def test_an_image_with_an_error_handler_creates_no_element():
    html = render_markdown('<img src=x onerror="alert(1)"> and ![cat](https://example.com/cat.png)')
    assert "img" not in Elements(html).tags()
    assert "onerror" not in {name for _, attrs in Elements(html).found for name in attrs}
    # A Markdown image becomes a link: the page loads nothing from another site because a message says so.
    assert [link["href"] for link in Elements(html).links()] == ["https://example.com/cat.png"]


@pytest.mark.parametrize(
    "link",
    [
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](  javascript:alert(1))",
        "<javascript:alert(1)>",
        "[click](data:text/html,<script>alert(1)</script>)",
        "[click](vbscript:msgbox)",
        "[click](mailto:someone@example.com)",
    ],
)
def test_only_http_and_relative_links_keep_their_address(link):
    for attrs in Elements(render_markdown(link)).links():
        assert attrs.get("href") is None


@pytest.mark.parametrize(
    "raw",
    [
        '<a href="javascript:alert(1)">x</a>',
        "<div onclick=alert(1)>x</div>",
        '<iframe src="https://example.com"></iframe>',
        "<style>body{display:none}</style>",
        '<p style="position:fixed">x</p>',
        "<svg onload=alert(1)>",
        "<!-- comment --><b>bold</b>",
    ],
)
def test_raw_html_in_markdown_is_text_not_markup(raw):
    html = render_markdown(raw)
    assert Elements(html).tags() <= {"p"}
    assert "&lt;" in html


def test_only_allowed_tags_come_out_whatever_the_input():
    html = render_markdown("# h1\n###### h6\n\n> quote\n\n---\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<table>")
    assert Elements(html).tags() <= ALLOWED_TAGS


@pytest.mark.django_db
def test_agent_messages_carry_html_and_user_messages_stay_text():
    agent = message_event(MessageFactory(role=Message.Role.AGENT, content="- *a* <img src=x onerror=alert(1)>"))
    assert agent["html"] == "<ul>\n<li><em>a</em> &lt;img src=x onerror=alert(1)&gt;</li>\n</ul>\n"
    assert agent["content"] == "- *a* <img src=x onerror=alert(1)>"
    user = message_event(MessageFactory(role=Message.Role.USER, content="- *a*"))
    assert user["html"] == "" and user["content"] == "- *a*"
