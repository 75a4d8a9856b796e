"""The agent's tools act only on the requesting user's data, and file names never become paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from channels.db import database_sync_to_async

from chat.tools import build_tools
from tests.factories import ChatSessionFactory, TranscriptFactory
from transcripts.models import SourceType, Transcript

pytestmark = pytest.mark.django_db(transaction=True)


def tools_for(user, session=None) -> dict:
    return {t.name: t.handler for t in build_tools(owner=user, session=session)}


def reply_text(reply: dict) -> str:
    return reply["content"][0]["text"]


@pytest.mark.parametrize(
    "filename",
    ["../../etc/passwd", "/etc/cron.d/evil", "..\\..\\windows\\system.ini", "notes/../../x.txt", "~/.bashrc", ""],
)
async def test_write_file_keeps_every_name_inside_the_users_own_storage(alice, bob, filename, isolated_storage):
    session = await database_sync_to_async(ChatSessionFactory)(owner=alice)
    reply = await tools_for(alice, session)["write_file"]({"filename": filename, "content": "my summary"})
    assert not reply.get("is_error"), reply

    document = await Transcript.objects.aget(owner=alice)
    assert document.source_type == SourceType.AGENT and document.text == "my summary"
    assert "/" not in document.title and "\\" not in document.title
    media = Path(isolated_storage) / "media"
    written = [p for p in media.rglob("*") if p.is_file()]
    own_dir = media / "transcripts" / str(alice.id) / document.id
    assert written and all(p.is_relative_to(own_dir) for p in written)
    assert not Path("/etc/cron.d/evil").exists()
    assert not await Transcript.objects.filter(owner=bob).aexists()


async def test_read_and_list_see_only_the_users_own_transcripts(alice, bob):
    mine = await database_sync_to_async(TranscriptFactory)(owner=alice, title="Mine", text="alpha beta gamma")
    theirs = await database_sync_to_async(TranscriptFactory)(owner=bob, title="Bob's", text="bob's secret words")
    tools = tools_for(alice)

    listing = reply_text(await tools["list_transcripts"]({}))
    assert mine.id in listing and theirs.id not in listing

    reply = await tools["read_transcript"]({"id": theirs.id})
    assert reply["is_error"] and "secret" not in reply_text(reply)
    part = reply_text(await tools["read_transcript"]({"id": mine.id, "offset": 6, "length": 4}))
    assert part.endswith("\nbeta")


async def test_transcribe_video_refuses_another_users_upload(alice, bob):
    from django.core.files.base import ContentFile

    from uploads.models import Upload

    upload = await database_sync_to_async(Upload.objects.create)(
        owner=bob, original_name="bob.mp4", file=ContentFile(b"x", name="bob.mp4"), size=1
    )
    reply = await tools_for(alice)["transcribe_video"]({"source": str(upload.id)})
    assert reply["is_error"] and "No upload with that id" in reply_text(reply)


@pytest.mark.slow
async def test_transcribe_video_puts_the_english_only_models_warning_first(alice, make_upload):
    upload = await database_sync_to_async(make_upload)(alice, "german.mp4")
    reply = await tools_for(alice)["transcribe_video"]({"source": str(upload.id), "model": "tiny.en"})
    assert reply_text(reply).startswith("WARNING, tell the user: Speech in German (de) was heard")


async def test_transcribe_video_refuses_what_the_model_cannot_do_before_any_work(alice):
    reply = await tools_for(alice)["transcribe_video"](
        {"source": "https://example.com/v.mp4", "model": "tiny.en", "language": "fr"}
    )
    assert reply.get("is_error") and "understands only English, not French (fr)" in reply_text(reply)
