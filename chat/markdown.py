"""Agent messages as safe HTML: Markdown rendered by markdown-it-py, then sanitised by nh3 (ammonia).

Two layers, because an agent message quotes transcripts and links, text nobody here wrote. markdown-it runs with
raw HTML off, so `<script>` in a message is shown as text; nh3 then keeps only an allow-list of tags and
attributes and http(s) or relative links, whatever the renderer (or a future option of it) let through.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "a",
    "p",
    "ul",
    "ol",
    "li",
    "code",
    "pre",
    "em",
    "strong",
    "blockquote",
    "br",
    "h1",
    "h2",
    "h3",
    "h4",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
ALLOWED_URL_SCHEMES = {"http", "https"}

# "breaks": a single newline is a line break, as the agent's plain text showed before it was rendered. Images stay
# links: the page loads nothing from another site because a message (or a transcript it quotes) says so.
_renderer = MarkdownIt("commonmark", {"html": False, "breaks": True}).disable("image")


@lru_cache(maxsize=1024)  # saved messages never change, and every reconnect sends the chat's history again
def render_markdown(text: str) -> str:
    """`text` as Markdown, rendered to HTML that is safe to insert into the chat page."""
    return nh3.clean(
        _renderer.render(text),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        set_tag_attribute_values={"a": {"target": "_blank"}},
        strip_comments=True,
    )
