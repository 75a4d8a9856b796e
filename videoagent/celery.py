"""The Celery app: transcription jobs on workers (`make worker`) when a broker is configured.

Its settings are the CELERY_* ones of videoagent/settings.py, read lazily (the usual Django pattern), so this
module is imported with the project package and `shared_task`s bind to it in web processes and workers alike.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "videoagent.settings")

app = Celery("videoagent")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
