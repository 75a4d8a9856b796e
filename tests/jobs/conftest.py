"""The jobs page reuses the transcription media fixtures."""

from tests.transcripts.conftest import long_speech, media_dir, recorded_events  # noqa: F401
