"""End to end with the real SDK and its bundled CLI, against the scripted fake Messages API on 127.0.0.1."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from chat.models import Message
from tests.chat.conftest import communicator_for, receive_until
from tests.factories import ChatSessionFactory
from tests.fake_anthropic import last_tool_result, text, tool_use
from transcripts.models import Transcript

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(240)]

BUILT_IN_TOOLS = {
    "Bash",
    "Read",
    "Write",
    "Edit",
    "MultiEdit",
    "Glob",
    "Grep",
    "WebFetch",
    "WebSearch",
    "Task",
    "NotebookEdit",
    "TodoWrite",
    "BashOutput",
    "KillShell",
}
OUR_TOOLS = {
    f"mcp__video-tools__{name}" for name in ("transcribe_video", "write_file", "list_transcripts", "read_transcript")
}


def agent_message(event: dict) -> bool:
    return event["type"] == "message" and event["role"] == "agent"


async def test_a_link_is_transcribed_through_the_agent(alice, fake_api, registry, media_server, settings):
    settings.ALLOW_PRIVATE_URLS = True
    url = f"{media_server}/jfk.flac"
    fake_api.add(
        text("Hi! Send me a video link or upload a file."),
        tool_use("transcribe_video", {"source": url}),
        lambda body: text("Here is your transcript. " + last_tool_result(body)),
    )
    session = await database_sync_to_async(ChatSessionFactory)(owner=alice)
    communicator = await communicator_for(session.id, alice)
    await communicator.connect()

    greeting = await receive_until(communicator, agent_message)
    assert greeting[-1]["content"] == "Hi! Send me a video link or upload a file."
    assert any(e["type"] == "status" and e["status"] == "initializing" for e in greeting)

    await communicator.send_json_to({"type": "message", "text": f"transcribe {url}"})
    events = await receive_until(communicator, agent_message, timeout=180)
    answer = events[-1]["content"]
    assert answer.startswith("Here is your transcript. Transcribed")
    assert "ask not what your country can do for you" in answer.lower().replace(",", "")
    assert any(e["type"] == "status" and e["status"] == "processing" for e in events)
    progress = [e for e in events if e["type"] == "job.progress"]
    assert progress[0]["percent"] == 0 and progress[-1]["status"] == "done"
    assert [e["percent"] for e in progress] == sorted(e["percent"] for e in progress)
    assert "".join(e["text"] for e in events if e["type"] == "delta").startswith("Here is your transcript.")
    assert (await communicator.receive_json_from(timeout=10)) == {"type": "status", "status": "ready", "message": None}
    await communicator.disconnect()

    roles = [role async for role in Message.objects.filter(session=session).values_list("role", flat=True)]
    assert roles == ["agent", "user", "agent"]
    transcript = await Transcript.objects.aget(session=session)
    assert transcript.owner_id == alice.id and transcript.source == url
    await session.arefresh_from_db()
    assert session.agent_session_id

    # Only our tools ever reached the model: no shell, file or web tools.
    seen = fake_api.tool_names()
    assert seen >= OUR_TOOLS
    assert not seen & BUILT_IN_TOOLS
    # Besides ours the CLI only declares an inert placeholder for its deferred-tool mechanism.
    assert seen - OUR_TOOLS <= {"DeferredToolPlaceholder"}


async def test_the_agent_passes_language_and_task_to_the_transcription(
    alice, fake_api, registry, media_server, settings
):
    settings.ALLOW_PRIVATE_URLS = True
    url = f"{media_server}/german.mp4"
    fake_api.add(
        text("Hi!"),
        tool_use("transcribe_video", {"source": url, "language": "de", "task": "translate"}),
        lambda body: text("Done. " + last_tool_result(body)),
    )
    session = await database_sync_to_async(ChatSessionFactory)(owner=alice)
    communicator = await communicator_for(session.id, alice)
    await communicator.connect()
    await receive_until(communicator, agent_message)

    await communicator.send_json_to({"type": "message", "text": f"translate {url} into English"})
    answer = (await receive_until(communicator, agent_message, timeout=180))[-1]["content"]
    await communicator.disconnect()

    transcript = await Transcript.objects.aget(session=session)
    job = await transcript.jobs.aget()
    assert (job.language, job.task, transcript.task) == ("de", "translate", "translate")
    assert "translated into English" in answer
    english = set(transcript.text.lower().replace(",", " ").replace(".", " ").split())
    assert len({"software", "documentation", "copy", "charge", "person", "rights"} & english) >= 2, transcript.text
