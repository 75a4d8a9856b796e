from __future__ import annotations

from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "uploads"

    def ready(self) -> None:
        from uploads import signals  # noqa: F401  (connects file clean-up on delete)
