"""The SDK's SessionStore adapter backed by our database (only `append` and `load` are required).

The CLI still writes its own copy under CLAUDE_CONFIG_DIR; this copy is what a resume loads, so a chat continues
after a restart, in another server process, or after the data directory's CLI files are gone.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async

from chat.models import AgentTranscriptEntry


def _key_fields(key: dict[str, Any]) -> dict[str, str]:
    return {
        "project_key": str(key.get("project_key", ""))[:255],
        "agent_session_id": str(key["session_id"])[:100],
        "subpath": str(key.get("subpath") or "")[:255],
    }


def _append(key: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    fields = _key_fields(key)
    uuids = [str(e["uuid"]) for e in entries if e.get("uuid")]
    # Entries with a uuid are idempotent (the SDK retries failed batches); the others are appended as they come.
    seen = set(AgentTranscriptEntry.objects.filter(entry_uuid__in=uuids, **fields).values_list("entry_uuid", flat=True))
    rows = []
    for entry in entries:
        entry_uuid = str(entry.get("uuid") or "")
        if entry_uuid and entry_uuid in seen:
            continue
        seen.add(entry_uuid)
        rows.append(AgentTranscriptEntry(entry=entry, entry_uuid=entry_uuid, **fields))
    AgentTranscriptEntry.objects.bulk_create(rows)


def _load(key: dict[str, Any]) -> list[dict[str, Any]] | None:
    fields = _key_fields(key)
    fields.pop("project_key")  # the session id is unique; the project key depends on the working directory
    entries = list(AgentTranscriptEntry.objects.filter(**fields).values_list("entry", flat=True))
    return entries or None


class DatabaseSessionStore:
    async def append(self, key: dict[str, Any], entries: list[dict[str, Any]]) -> None:
        await sync_to_async(_append, thread_sensitive=True)(key, entries)

    async def load(self, key: dict[str, Any]) -> list[dict[str, Any]] | None:
        return await sync_to_async(_load, thread_sensitive=True)(key)
