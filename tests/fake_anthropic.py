"""A scripted fake of the Anthropic Messages API, for driving the real Claude CLI offline.

The CLI sends `POST /v1/messages?beta=true` with `"stream": true` and reads server-sent events. Each request takes
the next reply from the script (or `default` when the script is empty) and is recorded for assertions.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = dict[str, Any]
_ids = itertools.count(1)


def text(answer: str) -> Reply:
    return {"kind": "text", "text": answer}


def tool_use(name: str, arguments: dict[str, Any]) -> Reply:
    return {"kind": "tool_use", "name": f"mcp__video-tools__{name}", "input": arguments}


def error(status: int, message: str) -> Reply:
    return {"kind": "error", "status": status, "message": message}


def hang(seconds: float) -> Reply:
    return {"kind": "hang", "seconds": seconds}


def last_tool_result(body: dict[str, Any]) -> str:
    """The text of the tool_result in the request's last user message (first block; extra text may follow)."""
    for block in body["messages"][-1]["content"]:
        if isinstance(block, dict) and block.get("type") == "tool_result":
            content = block.get("content")
            if isinstance(content, list):
                return "".join(part.get("text", "") for part in content if isinstance(part, dict))
            return str(content)
    raise AssertionError("no tool_result in the last message")


@dataclass
class FakeAnthropic:
    """Start with `with FakeAnthropic() as fake:`; `fake.url` is the base URL for ANTHROPIC_BASE_URL."""

    script: list[Reply | Callable[[dict[str, Any]], Reply]] = field(default_factory=list)
    default: Reply = field(default_factory=lambda: text("OK."))
    requests: list[dict[str, Any]] = field(default_factory=list)
    delay: float = 0.0  # seconds before answering, to model a slow model service

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeAnthropic:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(self, *replies: Reply | Callable[[dict[str, Any]], Reply]) -> None:
        with self._lock:
            self.script.extend(replies)

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(body)
            reply = self.script.pop(0) if self.script else self.default
        return reply(body) if callable(reply) else reply

    def tool_names(self) -> set[str]:
        return {tool["name"] for body in self.requests for tool in body.get("tools", [])}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if not self.path.startswith("/v1/messages") or self.path.startswith("/v1/messages/count_tokens"):
                    self._json(404, {"type": "error", "error": {"type": "not_found_error", "message": "not here"}})
                    return
                reply = fake._next_reply(body)
                if fake.delay:
                    time.sleep(fake.delay)
                if reply["kind"] == "hang":
                    time.sleep(reply["seconds"])
                    reply = text("(late)")
                if reply["kind"] == "error":
                    kind = {401: "authentication_error", 429: "rate_limit_error"}.get(reply["status"], "api_error")
                    self._json(reply["status"], {"type": "error", "error": {"type": kind, "message": reply["message"]}})
                    return
                self._stream(reply)

            def do_GET(self) -> None:
                self._json(404, {"type": "error", "error": {"type": "not_found_error", "message": "not here"}})

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, reply: Reply) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    for event in sse_events(reply):
                        self.wfile.write(event)
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

        return Handler


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def sse_events(reply: Reply) -> Iterator[bytes]:
    message_id = f"msg_fake_{next(_ids)}"
    yield _event(
        "message_start",
        {
            "type": "message_start",
            "message": {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": "claude-fake",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 10, "output_tokens": 1},
            },
        },
    )
    if reply["kind"] == "text":
        yield _event(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        )
        words = reply["text"].split(" ")
        for number, word in enumerate(words):  # several deltas, as a real model streams
            piece = word if number == len(words) - 1 else word + " "
            yield _event(
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}},
            )
        stop_reason = "end_turn"
    else:
        block = {"type": "tool_use", "id": f"toolu_fake_{next(_ids)}", "name": reply["name"], "input": {}}
        yield _event("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block})
        yield _event(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": json.dumps(reply["input"])},
            },
        )
        stop_reason = "tool_use"
    yield _event("content_block_stop", {"type": "content_block_stop", "index": 0})
    yield _event(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": 5},
        },
    )
    yield _event("message_stop", {"type": "message_stop"})
