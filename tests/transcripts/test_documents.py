"""The agent's write_file: a document saved into the user's library, never anywhere else on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from accounts.owned import NotFound
from tests.factories import ChatSessionFactory
from transcripts.documents import create_document
from transcripts.models import SourceType

pytestmark = pytest.mark.django_db


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    "filename",
    ["../../etc/passwd", "/etc/cron.d/evil", "..\\..\\windows\\system.ini", "notes/../../../x.txt", "..", ""],
)
def test_a_file_name_never_becomes_a_path(alice, isolated_storage, filename):
    document = create_document(owner=alice, filename=filename, content="Summary.\n")
    assert "/" not in document.title and "\\" not in document.title and document.title not in {"", ".", ".."}
    written = files_under(isolated_storage)
    assert written == {document.files_dir / f"transcript.{fmt}" for fmt in ("txt", "srt", "vtt", "json")}
    assert (document.files_dir / "transcript.txt").read_text() == "Summary.\n"


def test_a_document_belongs_to_its_owner_and_chat(alice):
    session = ChatSessionFactory(owner=alice)
    document = create_document(owner=alice, filename="summary.md", content="Short.", session_id=session.id)
    assert document.owner == alice and document.session == session
    assert document.source_type == SourceType.AGENT and document.title == "summary.md"


def test_another_users_chat_is_refused(alice, bob):
    with pytest.raises(NotFound, match="Chat session not found"):
        create_document(owner=alice, filename="a.txt", content="x", session_id=ChatSessionFactory(owner=bob).id)
