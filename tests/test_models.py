"""Model behaviour the seed describes (seed 4.1)."""

from __future__ import annotations

import pytest

from chat import services as chat_services
from chat.models import ChatSession, Message, title_from_message
from tests.factories import ChatSessionFactory, TranscriptFactory

pytestmark = pytest.mark.django_db


def test_title_comes_from_the_first_user_message_cut_at_50_characters(alice):
    session = chat_services.create_session(owner=alice)
    chat_services.save_message(session=session, role=Message.Role.AGENT, content="Hello! Send me a video.")
    long_text = "Please transcribe this very long video about the history of the Roman empire"
    chat_services.save_message(session=session, role=Message.Role.USER, content=long_text)
    chat_services.save_message(session=session, role=Message.Role.USER, content="second message")
    session.refresh_from_db()
    assert session.title == long_text[:50] + "..."


def test_a_second_tabs_stale_copy_of_the_chat_does_not_rename_it(alice):
    """Each tab's consumer holds the chat as it was when the tab connected; the first message of any tab names it."""
    first_tab = chat_services.create_session(owner=alice)
    second_tab = ChatSession.objects.get(id=first_tab.id)
    chat_services.save_message(session=first_tab, role=Message.Role.USER, content="first message")
    chat_services.save_message(session=second_tab, role=Message.Role.USER, content="second message")
    assert second_tab.title == "first message"
    assert ChatSession.objects.get(id=first_tab.id).title == "first message"


def test_a_short_first_message_is_the_whole_title():
    assert title_from_message("transcribe this") == "transcribe this"


def test_messages_are_ordered_by_time(alice):
    session = chat_services.create_session(owner=alice)
    contents = [f"message {i}" for i in range(5)]
    for content in contents:
        chat_services.save_message(session=session, role=Message.Role.USER, content=content)
    assert [m.content for m in session.messages.all()] == contents


def test_sessions_are_listed_by_last_update(alice, bob):
    older = chat_services.create_session(owner=alice)
    newer = chat_services.create_session(owner=alice)
    ChatSessionFactory(owner=bob)
    chat_services.save_message(session=older, role=Message.Role.USER, content="bump the older one")
    listed = chat_services.list_sessions(owner=alice)
    assert [s.id for s in listed] == [older.id, newer.id]
    assert listed[0].message_count == 1


def test_deleting_a_transcript_removes_its_files(alice):
    transcript = TranscriptFactory(owner=alice)
    transcript.files_dir.mkdir(parents=True)
    (transcript.files_dir / "transcript.txt").write_text(transcript.text)
    files_dir = transcript.files_dir
    transcript.delete()
    assert not files_dir.exists()


def test_bulk_deleting_transcripts_removes_their_files(alice):
    transcripts = [TranscriptFactory(owner=alice) for _ in range(2)]
    for transcript in transcripts:
        transcript.files_dir.mkdir(parents=True)
        (transcript.files_dir / "transcript.txt").write_text("x")
    type(transcripts[0]).objects.filter(owner=alice).delete()
    assert not any(t.files_dir.exists() for t in transcripts)
