"""Reading what a browser sends over the chat websocket: JSON that is safe to hand on, or a readable refusal.
The checks themselves are the project's one set (videoagent/user_input.py); this names them for a chat."""

from __future__ import annotations

from videoagent.user_input import MAX_JSON_DEPTH, BadInput, NotJson, decode_json, invalid_characters, too_deep

MAX_DEPTH = MAX_JSON_DEPTH
NOT_JSON = 'Messages must be JSON objects like {"type": "message", "text": "…"}.'
TOO_DEEP = too_deep("The message")
INVALID_CHARACTERS = invalid_characters("The message")


class BadMessage(ValueError):
    """A websocket message that cannot be read; its text is the error event's message."""


def decode_message(text: str | None) -> object:
    """The JSON value of `text`, or BadMessage (not JSON, nested too deeply, or with lone surrogates)."""
    try:
        return decode_json(text, what="The message")
    except NotJson as exc:
        raise BadMessage(NOT_JSON) from exc
    except BadInput as exc:
        raise BadMessage(str(exc)) from exc
