"""POST /api/upload (seed 5.4), GET /api/uploads, DELETE /api/uploads/{id}."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.factories import ChatSessionFactory
from uploads.models import Upload

pytestmark = pytest.mark.django_db


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def video(name: str = "talk.mp4", size: int = 1000) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"\0" * size, content_type="video/mp4")


def test_an_allowed_file_is_stored_under_our_name(alice_api, alice, settings):
    response = alice_api.post("/api/upload", {"file": video("My Talk.MP4", 1234)})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["error"] is None
    assert (body["filename"], body["size"]) == ("My Talk.MP4", 1234)
    upload = Upload.objects.get(pk=body["file_id"])
    assert upload.owner == alice
    assert upload.original_name == "My Talk.MP4"
    assert upload.file.name == f"uploads/{alice.pk}/{upload.pk}.mp4"
    assert Path(upload.file.path).read_bytes() == b"\0" * 1234
    assert Path(upload.file.path).is_relative_to(settings.MEDIA_ROOT)


def test_a_large_file_is_streamed_through_a_temporary_file(alice_api, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = alice_api.post("/api/upload", {"file": video(size=50_000)})
    assert response.status_code == 200
    assert Upload.objects.get().size == 50_000


@pytest.mark.parametrize("name", ["notes.txt", "script.py", "video", "movie.mp4.exe", ".mp4"])
def test_other_extensions_are_refused_with_a_clear_message(alice_api, settings, name):
    response = alice_api.post("/api/upload", {"file": video(name)})
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False
    assert body["error"].startswith("Invalid file type")
    assert ".mp4" in body["error"]
    assert not Upload.objects.exists()
    assert files_under(Path(settings.MEDIA_ROOT)) == []


def test_the_original_name_is_kept_only_as_sanitised_data(alice_api):
    response = alice_api.post("/api/upload", {"file": video("..\\..\\evil\x07name.mp4")})
    assert response.status_code == 200
    upload = Upload.objects.get()
    assert upload.original_name == "evilname.mp4"
    assert "evil" not in upload.file.name


def test_a_missing_file_is_a_400(alice_api):
    response = alice_api.post("/api/upload", {})
    assert response.status_code == 400
    assert "No file" in response.json()["error"]


def test_an_empty_file_is_a_400(alice_api):
    response = alice_api.post("/api/upload", {"file": video(size=0)})
    assert response.status_code == 400
    assert response.json()["error"] == "The file is empty."


def test_an_oversize_file_is_refused_with_413_and_nothing_left_on_disk(alice_api, settings, tmp_path):
    settings.UPLOAD_MAX_BYTES = 10_000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # so the parser writes a temporary file we can look for
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "tmp")
    Path(settings.FILE_UPLOAD_TEMP_DIR).mkdir()
    response = alice_api.post("/api/upload", {"file": video(size=10_001)})
    assert response.status_code == 413
    message = "The file is too large: the limit is 10 KB."
    assert response.json() == {"success": False, "error": message, "detail": message}
    assert not Upload.objects.exists()
    assert files_under(Path(settings.MEDIA_ROOT)) == []
    assert files_under(Path(settings.FILE_UPLOAD_TEMP_DIR)) == []


def test_a_file_exactly_at_the_limit_is_accepted(alice_api, settings):
    settings.UPLOAD_MAX_BYTES = 10_000
    assert alice_api.post("/api/upload", {"file": video(size=10_000)}).status_code == 200


def test_an_oversize_content_length_is_refused_before_the_body_is_read(alice_api, settings):
    settings.UPLOAD_MAX_BYTES = 10_000
    body = b"--BoUnDaRy\r\nContent-Disposition: form-data; name=file; filename=a.mp4\r\n\r\nabc\r\n--BoUnDaRy--\r\n"
    response = alice_api.generic(
        "POST",
        "/api/upload",
        data=body,
        content_type="multipart/form-data; boundary=BoUnDaRy",
        headers={"Content-Length": str(10_000_000)},
    )
    assert response.status_code == 413
    assert not Upload.objects.exists()


def test_the_size_cap_also_holds_for_a_session_upload(alice, settings):
    settings.UPLOAD_MAX_BYTES = 100
    client = Client()
    client.force_login(alice)
    assert client.post("/api/upload", {"file": video(size=101)}).status_code == 413


def test_a_session_id_must_be_my_own_chat(alice_api, alice, bob):
    mine = ChatSessionFactory(owner=alice)
    theirs = ChatSessionFactory(owner=bob)
    assert alice_api.post("/api/upload", {"file": video(), "session_id": str(mine.pk)}).status_code == 200
    assert alice_api.post("/api/upload", {"file": video(), "session_id": str(theirs.pk)}).status_code == 404
    assert Upload.objects.count() == 1


def test_listing_shows_only_my_uploads(alice_api, bob_api):
    alice_api.post("/api/upload", {"file": video("alice.mp4")})
    bob_api.post("/api/upload", {"file": video("bob.mp4")})
    body = alice_api.get("/api/uploads").json()
    assert body["total"] == 1
    assert [u["filename"] for u in body["uploads"]] == ["alice.mp4"]
    assert set(body["uploads"][0]) == {"id", "filename", "size", "created_at"}


def test_deleting_my_upload_removes_its_file(alice_api):
    file_id = alice_api.post("/api/upload", {"file": video()}).json()["file_id"]
    path = Path(Upload.objects.get(pk=file_id).file.path)
    response = alice_api.delete(f"/api/uploads/{file_id}")
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert not path.exists()
    assert alice_api.delete(f"/api/uploads/{file_id}").status_code == 404


def test_another_users_upload_cannot_be_deleted(alice_api, bob_api):
    file_id = bob_api.post("/api/upload", {"file": video()}).json()["file_id"]
    assert alice_api.delete(f"/api/uploads/{file_id}").status_code == 404
    assert Upload.objects.filter(pk=file_id).exists()
