"""The agent's tools (an in-process MCP server, "video-tools"). Each is bound to one user and chat session and
sees only that user's library. Results stay short: SDK messages over ~1 MB wedge the client."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from claude_agent_sdk import create_sdk_mcp_server, tool

from accounts.owned import NotFound
from transcripts import selectors
from transcripts.documents import create_document
from transcripts.errors import QueueUnavailable, TranscriptionError
from transcripts.jobs import JobRequest, available_models, transcribe
from transcripts.models import Transcript

logger = logging.getLogger(__name__)

SERVER_NAME = "video-tools"
TOOL_NAMES = tuple(
    f"mcp__{SERVER_NAME}__{name}" for name in ("transcribe_video", "write_file", "list_transcripts", "read_transcript")
)
EXCERPT_CHARS = 600
READ_MAX_CHARS = 20_000


def _reply(text: str, *, is_error: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = {"content": [{"type": "text", "text": text}]}
    if is_error:
        result["is_error"] = True
    return result


def _describe(transcript: Transcript) -> str:
    minutes, seconds = divmod(round(transcript.duration), 60)
    language = ", ".join(transcript.languages) or transcript.language or "?"
    kind = f"translated into English by {transcript.model_name}" if transcript.task == "translate" else ""
    details = ", ".join(part for part in (transcript.source_type, language, kind, f"{minutes}:{seconds:02d}") if part)
    return f"id {transcript.id}: {transcript.title!r} ({details}, {len(transcript.text)} characters)"


# channels' database_sync_to_async closes stale connections around each call, which a long-lived process needs.
@database_sync_to_async
def _library_rows(owner: Any) -> list[str]:
    return [_describe(t) for t in selectors.transcripts_for(owner=owner).defer("segments")[:50]]


@database_sync_to_async
def _own_transcript(owner: Any, transcript_id: str) -> Transcript | None:
    try:
        return selectors.get_transcript_for(owner=owner, transcript_id=transcript_id)
    except NotFound:
        return None


def build_tool_server(*, owner: Any, session: Any) -> Any:
    """The MCP server for one chat."""
    return create_sdk_mcp_server(name=SERVER_NAME, tools=build_tools(owner=owner, session=session))


def build_tools(*, owner: Any, session: Any) -> list[Any]:
    """The tools for one chat. The user comes from the closure, never from the model's arguments."""
    session_id = session.id if session is not None else None

    @tool(
        "transcribe_video",
        "Transcribe a video: `source` is an http(s) link (YouTube or another video page) or the id of a file the "
        "user uploaded. Optional: `language`, a code like 'en' or 'de' (default 'auto': detected for every part, "
        "so a recording in several languages keeps them all); `task` 'translate' to translate the speech into "
        "English instead; `model`, one of the configured Whisper models (default: the first).",
        {
            "type": "object",
            "properties": {
                "source": {"type": "string"},
                "language": {"type": "string"},
                "task": {"type": "string", "enum": ["transcribe", "translate"]},
                "model": {"type": "string", "enum": available_models()},
            },
            "required": ["source"],
        },
    )
    async def transcribe_video(args: dict[str, Any]) -> dict[str, Any]:
        try:
            request = JobRequest(
                source=str(args.get("source", "")),
                language=str(args.get("language") or ""),
                task=str(args.get("task") or "transcribe"),
                model=str(args.get("model") or ""),
                session_id=session_id,
            )
            transcript = await transcribe(owner=owner, request=request)
        except QueueUnavailable as exc:
            return _reply(f"The transcription queue is unavailable, so nothing was started: {exc}", is_error=True)
        except TranscriptionError as exc:
            return _reply(f"Transcription failed: {exc}", is_error=True)
        excerpt = transcript.text[:EXCERPT_CHARS] + ("…" if len(transcript.text) > EXCERPT_CHARS else "")
        # The warning comes first and is marked, so the agent passes it on rather than burying it.
        warning = f"WARNING, tell the user: {transcript.warning}\n" if transcript.warning else ""
        return _reply(
            f"{warning}Transcribed {_describe(transcript)}. Library page: /library/{transcript.id}/. Excerpt: {excerpt}"
        )

    @tool(
        "write_file",
        "Save a text document (a cleaned transcript, a summary, notes) into the user's library. `filename` is "
        "only a title.",
        {"filename": str, "content": str},
    )
    async def write_file(args: dict[str, Any]) -> dict[str, Any]:
        try:
            # A worker thread: writing files never blocks the event loop (seed 3.2).
            document = await sync_to_async(create_document, thread_sensitive=False)(
                owner=owner,
                filename=str(args.get("filename", "")),
                content=str(args.get("content", "")),
                session_id=session_id,
            )
        except TranscriptionError as exc:
            return _reply(str(exc), is_error=True)
        return _reply(f"Saved {document.title!r} to the library as id {document.id}.")

    @tool("list_transcripts", "List the user's transcripts and documents, newest first (at most 50).", {})
    async def list_transcripts(args: dict[str, Any]) -> dict[str, Any]:
        rows = await _library_rows(owner)
        return _reply("\n".join(rows) if rows else "The library is empty.")

    @tool(
        "read_transcript",
        f"Read part of one of the user's transcripts: `id`, `offset` (character, default 0) and `length` "
        f"(default and maximum {READ_MAX_CHARS}).",
        {
            "type": "object",
            "properties": {"id": {"type": "string"}, "offset": {"type": "integer"}, "length": {"type": "integer"}},
            "required": ["id"],
        },
    )
    async def read_transcript(args: dict[str, Any]) -> dict[str, Any]:
        transcript = await _own_transcript(owner, str(args.get("id", "")))
        if transcript is None:
            return _reply("No transcript with that id in this user's library.", is_error=True)
        offset = max(0, int(args.get("offset") or 0))
        length = min(READ_MAX_CHARS, max(1, int(args.get("length") or READ_MAX_CHARS)))
        part = transcript.text[offset : offset + length]
        return _reply(
            f"{_describe(transcript)}, characters {offset}–{offset + len(part)} of {len(transcript.text)}:\n{part}"
        )

    return [transcribe_video, write_file, list_transcripts, read_transcript]
