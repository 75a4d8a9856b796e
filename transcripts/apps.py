from __future__ import annotations

from django.apps import AppConfig


class TranscriptsConfig(AppConfig):
    name = "transcripts"

    def ready(self) -> None:
        from transcripts import signals  # noqa: F401  (connects file clean-up on delete)
