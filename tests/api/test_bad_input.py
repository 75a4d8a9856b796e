"""Bad input is answered, never crashed on: each case here was a 500 or an HTML page from the API, and now answers
its status with a JSON body ({"detail": ...}); the library page and static files answer too."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from channels.testing import HttpCommunicator
from django.test.client import BOUNDARY, MULTIPART_CONTENT

from tests.factories import TranscriptFactory
from tests.live_server import LiveServer, daphne_server
from transcripts import selectors
from transcripts.models import TranscriptionJob
from uploads.models import Upload

pytestmark = pytest.mark.django_db


def assert_json_error(response, status: int) -> object:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    return response.json()["detail"]


def multipart_body(part_headers: str = "", *, boundary: str = BOUNDARY) -> bytes:
    return (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="talk.mp4"\r\n{part_headers}'
        "Content-Type: video/mp4\r\n\r\n"
        f"video bytes\r\n--{boundary}--\r\n"
    ).encode()


@pytest.mark.parametrize(
    "query",
    [
        "offset=99999999999999999999",
        "offset=1000001",
        "offset=-1",
        "limit=99999999999999999999",
        "limit=0",
        "q=" + "x" * (selectors.QUERY_MAX_CHARS + 1),
    ],
)
def test_a_list_parameter_out_of_bounds_is_a_422(alice_api, query):
    detail = assert_json_error(alice_api.get(f"/api/transcripts?{query}"), 422)
    assert detail[0]["loc"][0] == "query"


def test_the_largest_offset_answers_an_empty_page(alice_api):
    body = alice_api.get("/api/transcripts?offset=1000000").json()
    assert (body["transcripts"], body["offset"]) == ([], 1_000_000)


def test_a_search_uses_at_most_ten_words_of_the_first_200_characters():
    assert selectors.query_words(" ".join(f"w{i}" for i in range(2000))) == [f"w{i}" for i in range(10)]
    assert selectors.query_words("x" * 500) == ["x" * 200]
    assert selectors.query_words("a\x00b") == ["a", "b"]


def test_the_library_page_answers_a_query_of_2000_words_at_once(alice_client, alice):
    TranscriptFactory(owner=alice, title="Ask not")
    started = time.monotonic()
    response = alice_client.get("/library/", {"q": " ".join(["ask"] * 2000)})
    assert response.status_code == 200
    assert time.monotonic() - started < 5
    assert "Ask not" in response.content.decode()


def test_a_nul_character_in_a_search_is_no_error(alice_api, alice_client):
    assert alice_api.get("/api/transcripts", {"q": "a\x00b"}).status_code == 200
    assert alice_client.get("/library/", {"q": "a\x00b"}).status_code == 200


def test_a_json_body_over_the_limit_is_a_413(alice_api):
    body = json.dumps({"source": "x" * 3_000_000})
    detail = assert_json_error(alice_api.post("/api/transcriptions", body, content_type="application/json"), 413)
    assert detail.startswith("The request body is too large: the limit is 2 MB")


def test_a_body_that_is_not_json_is_a_400(alice_api):
    assert_json_error(alice_api.post("/api/transcriptions", "{", content_type="application/json"), 400)


def test_an_empty_or_blank_source_is_refused(alice_api):
    empty = alice_api.post("/api/transcriptions", {"source": ""}, content_type="application/json")
    assert assert_json_error(empty, 422)[0]["loc"] == ["body", "payload", "source"]
    blank = alice_api.post("/api/transcriptions", {"source": "   "}, content_type="application/json")
    assert assert_json_error(blank, 422)[0]["loc"] == ["body", "payload", "source"]


@pytest.mark.parametrize("source", ["http://93.184.215.14/a\x00b", "http://a b/", "http://93.184.215.14/\x7f"])
def test_a_link_with_control_characters_or_spaces_is_a_400(alice_api, source):
    response = alice_api.post("/api/transcriptions", {"source": source}, content_type="application/json")
    assert assert_json_error(response, 400) == "The link is not a valid URL."


def test_a_lone_surrogate_in_a_string_is_a_422(alice_api):
    body = '{"source": "http://93.184.215.14/\\ud800"}'
    assert_json_error(alice_api.post("/api/transcriptions", body, content_type="application/json"), 422)


def test_part_headers_over_the_limit_are_a_400_in_the_upload_shape(alice_api):
    body = multipart_body(f"X-Padding: {'a' * 2000}\r\n")
    response = alice_api.generic("POST", "/api/upload", body, content_type=MULTIPART_CONTENT)
    detail = assert_json_error(response, 400)
    assert detail == "The multipart body cannot be read: Request max total header size exceeded."
    assert response.json() == {"success": False, "error": detail, "detail": detail}


def test_a_multipart_body_without_a_boundary_is_a_400(alice_api):
    response = alice_api.generic("POST", "/api/upload", multipart_body(), content_type="multipart/form-data")
    assert assert_json_error(response, 400).startswith("The multipart body cannot be read")


def test_too_many_form_fields_are_a_400(alice_api):
    fields = "&".join(f"f{i}=1" for i in range(1200))
    response = alice_api.generic("POST", "/api/upload", fields, content_type="application/x-www-form-urlencoded")
    assert assert_json_error(response, 400) == "The request has too many form fields."


def test_an_upload_over_the_cap_is_a_413_before_the_body_is_read(alice_api, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    body = multipart_body().replace(b"video bytes", b"x" * 100_000)
    response = alice_api.generic("POST", "/api/upload", body, content_type=MULTIPART_CONTENT)
    assert assert_json_error(response, 413) == "The file is too large: the limit is 1000 bytes."


def test_an_empty_upload_request_is_a_400_with_a_body(alice_api):
    response = alice_api.generic("POST", "/api/upload", b"", content_type=MULTIPART_CONTENT)
    assert assert_json_error(response, 400).startswith("No file was uploaded")


# Multipart bodies with no file in them (issue 20): no parts at all, a body that never names the boundary of its
# Content-Type, a part without a name. Daphne's Twisted used to refuse these itself with an empty 400.
UNREADABLE_UPLOADS = {
    "no parts": f"--{BOUNDARY}--\r\n",
    "broken boundary": '--another-boundary\r\nContent-Disposition: form-data; name="file"\r\n\r\nx\r\n',
    "part without a name": f'--{BOUNDARY}\r\nContent-Disposition: form-data; filename="talk.mp4"\r\n\r\nx\r\n'
    f"--{BOUNDARY}--\r\n",
}
NO_FILE = "No file was uploaded: send it in the multipart field “file”."


@pytest.mark.parametrize("body", UNREADABLE_UPLOADS.values(), ids=UNREADABLE_UPLOADS.keys())
def test_a_multipart_body_without_a_file_is_a_400_naming_the_problem(alice_api, body):
    response = alice_api.generic("POST", "/api/upload", body.encode(), content_type=MULTIPART_CONTENT)
    assert assert_json_error(response, 400) == NO_FILE
    assert not Upload.objects.exists()


@pytest.fixture(scope="module")
def live_alice(tmp_path_factory) -> Iterator[tuple[LiveServer, str]]:
    """A real Daphne (as `make run` starts it) and alice's API token in its database."""
    with daphne_server(tmp_path_factory.mktemp("bad-input")) as server:
        yield server, server.make_user()[2]


def post_upload(server: LiveServer, token: str, body: bytes) -> tuple[int, str, dict[str, object]]:
    request = urllib.request.Request(
        f"{server.url}/api/upload",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": MULTIPART_CONTENT},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # loopback only
            return response.status, response.headers.get("Content-Type", ""), json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), json.loads(error.read() or b"null")


@pytest.mark.parametrize("body", UNREADABLE_UPLOADS.values(), ids=UNREADABLE_UPLOADS.keys())
def test_daphne_hands_a_multipart_body_without_a_file_to_the_api(live_alice, body):
    server, token = live_alice
    status, content_type, answer = post_upload(server, token, body.encode())
    assert (status, content_type) == (400, "application/json; charset=utf-8")
    assert answer == {"success": False, "error": NO_FILE, "detail": NO_FILE}
    assert '"total": 0' in server.manage("shell", "-c", LIST_UPLOADS)


LIST_UPLOADS = "import json; from uploads.models import Upload; print(json.dumps({'total': Upload.objects.count()}))"


def test_daphne_still_hands_a_real_upload_to_the_api(live_alice):
    server, token = live_alice
    status, _, answer = post_upload(server, token, multipart_body())
    assert status == 200 and answer["success"] is True and answer["filename"] == "talk.mp4"


@pytest.mark.parametrize("path", ["/api/nope", "/api/transcripts/a/b", "/api/transcripts/"])
def test_an_unknown_api_path_is_a_json_404(alice_api, path):
    assert assert_json_error(alice_api.get(path), 404) == "Not found."


def test_a_missing_transcript_is_a_json_404(alice_api):
    assert assert_json_error(alice_api.get("/api/transcripts/abc123"), 404) == "Transcript not found"


def test_a_transcript_id_that_cannot_be_one_is_a_422(alice_api):
    assert_json_error(alice_api.get("/api/transcripts/a%00b"), 422)
    assert_json_error(alice_api.get("/api/transcripts/" + "a" * 17), 422)


def test_an_unexpected_error_is_a_json_500_without_a_traceback(alice_api, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(selectors, "transcripts_for", broken)
    response = alice_api.get("/api/transcripts")
    assert assert_json_error(response, 500) == "Internal server error."
    assert b"secret" not in response.content
    assert "secret internals" in caplog.text  # logged for the operator


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/static/../x", "/static/..%2fsettings.py", "/static/%00", "/static/nope.css"])
async def test_a_static_path_outside_the_static_folders_is_a_404(path):
    from videoagent.asgi import application

    communicator = HttpCommunicator(application, "GET", path, headers=[(b"host", b"127.0.0.1:8000")])
    response = await communicator.get_response(timeout=10)
    assert response["status"] == 404


def test_a_wrong_method_is_a_json_405_with_the_allowed_methods(alice_api):
    response = alice_api.put("/api/transcripts", {}, content_type="application/json")
    assert response.status_code == 405 and response["Content-Type"].startswith("application/json")
    assert response["Allow"] and response.json()["detail"].startswith("PUT is not allowed here; use GET")


# Issue 16.1: edit bodies of the library's JSON views that used to crash (500) or save the wrong text.
DEEP = "[" * 100_000 + "]" * 100_000
BAD_EDITS = {
    "title a number": ("title/", '{"title": 5}', "The title must be a string."),
    "title null": ("title/", '{"title": null}', "The title must be a string."),
    "title a list": ("title/", '{"title": ["x"]}', "The title must be a string."),
    "title an object": ("title/", '{"title": {"a": 1}}', "The title must be a string."),
    "title nested 100,000 deep": ("title/", '{"title": ' + DEEP + "}", "The body is nested too deeply"),
    "body nested 100,000 deep": ("segments/0/", DEEP, "The body is nested too deeply"),
    "title with a lone surrogate": ("title/", '{"title": "a\\ud800"}', "The body contains invalid characters."),
    "title with NUL": ("title/", '{"title": "a\\u0000b"}', "The title cannot contain a NUL character."),
    "text null": ("segments/0/", '{"text": null}', "The text must be a string."),
    "text a list": ("segments/0/", '{"text": ["x"]}', "The text must be a string."),
    "text with NUL": ("segments/0/", '{"text": "a\\u0000b"}', "The text cannot contain a NUL character."),
    "text missing": ("segments/0/", '{"revert": "yes"}', "The text must be a string."),
    "body a list": ("title/", '["x"]', "The body must be a JSON object."),
    "body not JSON": ("title/", "{", "The body is not valid JSON."),
    "body not UTF-8": ("segments/0/", b'{"text": "\xff"}', "The body is not valid JSON."),
}


@pytest.mark.parametrize(("url", "body", "error"), BAD_EDITS.values(), ids=BAD_EDITS.keys())
def test_a_bad_edit_body_is_a_json_400_and_nothing_is_saved(alice_client, alice, url, body, error):
    transcript = TranscriptFactory(owner=alice)
    before = (transcript.title, transcript.segments, transcript.text)
    response = alice_client.post(f"/library/{transcript.pk}/{url}", body, content_type="application/json")
    assert assert_json_error(response, 400).startswith(error)
    transcript.refresh_from_db()
    assert (transcript.title, transcript.segments, transcript.text, transcript.edited_at) == (*before, None)


def test_a_nul_in_a_new_transcriptions_links_is_refused_and_no_job_started(alice_client):
    response = alice_client.post("/jobs/", {"links": "http://93.184.215.14/a\x00b.mp3", "model": "tiny.en"})
    assert response.status_code == 400 and "Null characters are not allowed." in response.content.decode()
    assert not TranscriptionJob.objects.exists()


@pytest.mark.parametrize("field", ["source", "language", "model"])
def test_a_nul_in_any_text_of_a_rest_transcription_is_a_400_and_no_job_started(alice_api, field):
    payload = {"source": "http://93.184.215.14/talk.mp3", field: "a\x00b"}
    response = alice_api.post("/api/transcriptions", payload, content_type="application/json")
    assert_json_error(response, 400)
    assert not TranscriptionJob.objects.exists()


# Issue 16.2: a range whose numbers have more digits than int() takes was a 500.
@pytest.mark.parametrize(
    ("header", "status", "content_range"),
    [
        ("bytes=" + "9" * 5000 + "-", 416, "bytes */1024"),
        ("bytes=0-" + "9" * 5000, 206, "bytes 0-1023/1024"),
        ("bytes=-" + "9" * 5000, 206, "bytes 0-1023/1024"),
        ("bytes=" + "0" * 5000 + "5-9", 206, "bytes 5-9/1024"),
    ],
)
def test_a_range_with_a_huge_number_is_answered_like_any_other(
    alice_client, alice, settings, header, status, content_range
):
    transcript = TranscriptFactory(owner=alice)
    path = transcript.files_dir / "media.flac"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(1024))
    transcript.media_file = str(path.relative_to(settings.MEDIA_ROOT))
    transcript.save()
    response = alice_client.get(f"/library/{transcript.pk}/media/", HTTP_RANGE=header)
    assert (response.status_code, response["Content-Range"]) == (status, content_range)
