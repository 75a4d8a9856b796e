"""Reading what a browser sends over the chat websocket: JSON that is safe to hand on, or a readable refusal."""

from __future__ import annotations

import json

# The protocol's messages are one object deep; this leaves room and stops a message nested 100,000 deep.
MAX_DEPTH = 32
NOT_JSON = 'Messages must be JSON objects like {"type": "message", "text": "…"}.'
TOO_DEEP = f"The message is nested too deeply (at most {MAX_DEPTH} levels)."
INVALID_CHARACTERS = "The message contains invalid characters."


class BadMessage(ValueError):
    """A websocket message that cannot be read; its text is the error event's message."""


def decode_message(text: str | None) -> object:
    """The JSON value of `text`, or BadMessage.

    JSON may escape a lone surrogate ("\\ud800") that no UTF-8 text can hold: saving or sending such a string
    fails later, far from here, so it is refused now. Very deep nesting makes the parser raise RecursionError.
    """
    try:
        content = json.loads(text or "")
    except RecursionError as exc:
        raise BadMessage(TOO_DEEP) from exc
    except (TypeError, ValueError) as exc:
        raise BadMessage(NOT_JSON) from exc
    level, depth = [content], 0
    while level:
        containers = []
        for value in level:
            if isinstance(value, str):
                _check_characters(value)
            elif isinstance(value, dict | list):
                containers.append(value)
        if not containers:
            break
        depth += 1
        if depth > MAX_DEPTH:
            raise BadMessage(TOO_DEEP)
        level = []
        for container in containers:
            level += [*container.keys(), *container.values()] if isinstance(container, dict) else container
    return content


def _check_characters(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadMessage(INVALID_CHARACTERS) from exc
