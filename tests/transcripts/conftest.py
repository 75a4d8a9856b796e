"""Media fixtures (made once per test session) and a local HTTP server that yt-dlp downloads from."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.files import File

from tests import media
from tests.conftest import TEST_DATA
from uploads.models import Upload


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("media")
    media.speech_mp4(media.SYNTHETIC_TEXT, directory)
    media.silent_mp4(directory)
    media.video_only_mp4(directory)
    (directory / "random.mp4").write_bytes(bytes(range(256)) * 64)
    (directory / "empty.mp4").write_bytes(b"")
    (directory / "jfk.flac").write_bytes((TEST_DATA / "jfk.flac").read_bytes())
    (directory / "multilingual.mp3").write_bytes((TEST_DATA / "multilingual.mp3").read_bytes())
    media.cut_mp4(directory / "multilingual.mp3", directory / "german.mp4", start=media.MULTILINGUAL_ENGLISH_SECONDS)
    media.spoken_mp4(list(media.LANGUAGE_SWITCH), directory / "language-switch.mp4")
    multilingual = directory / "multilingual.mp3"
    media.real_speech_mp4(multilingual, directory / "en-de-en.mp4", media.ENGLISH_GERMAN_ENGLISH)
    media.real_speech_mp4(multilingual, directory / "de-en-de.mp4", media.GERMAN_ENGLISH_GERMAN)
    media.real_speech_mp4(multilingual, directory / "babble.mp4", [("en-a", 0.5), ("en-c", 0.5)], babble_seconds=10)
    # A page with two videos: yt-dlp's generic extractor reads it as a playlist.
    (directory / "playlist.html").write_text(
        "<html><body><video src='speech.mp4'></video><video src='silent.mp4'></video></body></html>"
    )
    return directory


class _MediaHandler(SimpleHTTPRequestHandler):
    """Static files, plus `/redirect/NAME` (302 to /NAME) and `/stream/NAME` (no Content-Length, as a live or
    chunked response would be, so the client cannot know the size in advance)."""

    def do_GET(self) -> None:
        if self.path.startswith("/redirect/"):
            self.send_response(302)
            self.send_header("Location", "/" + self.path.removeprefix("/redirect/"))
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path.startswith("/stream/"):
            path = Path(self.directory) / self.path.removeprefix("/stream/")
            self.send_response(200)
            self.send_header("Content-Type", "audio/flac")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            self.wfile.write(path.read_bytes())
        else:
            super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def long_speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Over three minutes of English speech with pauses between paragraphs, as in a talk."""
    parts = [("en-us", text) for text in media.LONG_PARAGRAPHS * 2 + media.LONG_PARAGRAPHS[:2]]
    return media.spoken_mp4(parts, tmp_path_factory.mktemp("long") / "long.mp4", pause_seconds=1.5)


@pytest.fixture(scope="session")
def media_server(media_dir: Path) -> Iterator[str]:
    """Serves media_dir on 127.0.0.1; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_MediaHandler, directory=str(media_dir)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def allow_private_urls(settings) -> None:
    settings.ALLOW_PRIVATE_URLS = True


@pytest.fixture
def make_upload(media_dir: Path):
    """Store one of the media files as an Upload of the given owner."""

    def make(owner: object, name: str) -> Upload:
        path = media_dir / name
        with path.open("rb") as handle:
            return Upload.objects.create(
                owner=owner, original_name=name, file=File(handle, name=name), size=path.stat().st_size
            )

    return make


@pytest.fixture
def recorded_events(monkeypatch) -> list[dict]:
    """Every job.progress event the service sends, in order (the transport itself is tested with Redis)."""
    events: list[dict] = []

    def record(groups: list[str], event: dict) -> None:
        events.append({**event, "groups": groups})

    monkeypatch.setattr("transcripts.progress.send_event", record)
    return events
