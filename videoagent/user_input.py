"""What users send, checked in one place for every way it enters: JSON bodies and websocket messages are decoded
here, and text that will be stored (a title, a segment, a chat message) passes `check_text`.

Three things pass Python but fail later, far from the request: a lone surrogate (JSON may escape "\\ud800", which
no UTF-8 text can hold: saving or sending it raises UnicodeEncodeError), a NUL character (SQLite stores it,
PostgreSQL refuses it with DataError), and JSON nested so deeply that the parser raises RecursionError. Django's
form fields already refuse NUL (ProhibitNullCharactersValidator) and ninja's schemas refuse lone surrogates; the
REST operations that take text refuse NUL in their own checks (a link, a language, a model name).
"""

from __future__ import annotations

import json

# Our JSON bodies and messages are one or two levels deep; this leaves room and stops a body nested 100,000 deep.
MAX_JSON_DEPTH = 32


class BadInput(ValueError):
    """Input that is refused; its text is the message for the user."""


class NotJson(BadInput):
    """The input is not JSON at all (callers may explain the shape they expect instead)."""


def decode_json(raw: str | bytes | None, *, what: str = "The body") -> object:
    """The JSON value of `raw`, or BadInput: not JSON, nested deeper than MAX_JSON_DEPTH, or holding a string (a
    key or a value) with a lone surrogate."""
    try:
        content = json.loads(raw or "")
    except RecursionError as exc:
        raise BadInput(too_deep(what)) from exc
    except (TypeError, ValueError) as exc:  # UnicodeDecodeError for bytes that are not UTF-8 included
        raise NotJson(f"{what} is not valid JSON.") from exc
    level, depth = [content], 0
    while level:
        containers = []
        for value in level:
            if isinstance(value, str):
                if not _encodable(value):
                    raise BadInput(invalid_characters(what))
            elif isinstance(value, dict | list):
                containers.append(value)
        if not containers:
            break
        depth += 1
        if depth > MAX_JSON_DEPTH:
            raise BadInput(too_deep(what))
        level = []
        for container in containers:
            level += [*container.keys(), *container.values()] if isinstance(container, dict) else container
    return content


def decode_json_object(raw: str | bytes | None, *, what: str = "The body") -> dict[str, object]:
    """decode_json for a body that must be a JSON object."""
    content = decode_json(raw, what=what)
    if not isinstance(content, dict):
        raise BadInput(f"{what} must be a JSON object.")
    return content


def check_text(value: object, *, name: str) -> str:
    """`value` when it is text that both databases can store; BadInput naming `name` ("The title") otherwise."""
    if not isinstance(value, str):
        raise BadInput(f"{name} must be a string.")
    if "\x00" in value:
        raise BadInput(f"{name} cannot contain a NUL character.")
    if not _encodable(value):
        raise BadInput(invalid_characters(name))
    return value


def too_deep(what: str) -> str:
    return f"{what} is nested too deeply (at most {MAX_JSON_DEPTH} levels)."


def invalid_characters(what: str) -> str:
    return f"{what} contains invalid characters."


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
