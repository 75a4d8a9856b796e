"""The library tests reuse the transcription media fixtures."""

from tests.transcripts.conftest import media_dir, media_server  # noqa: F401
