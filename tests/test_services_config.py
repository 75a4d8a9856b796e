"""The configured database and channel layer are the real ones CI asks for (never silently the fallbacks)."""

from __future__ import annotations

import os
import uuid

import pytest
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection


def test_database_follows_database_url(db):
    expected = "postgresql" if os.environ.get("DATABASE_URL") else "sqlite"
    assert connection.vendor == expected


def test_ci_runs_against_the_real_services():
    if os.environ.get("VIDEOAGENT_REQUIRE_SERVICES") != "1":
        assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
        return
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    assert connection.vendor == "postgresql" or settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


@pytest.mark.asyncio
async def test_group_send_reaches_a_receiver():
    layer = get_channel_layer()
    group = f"test_{uuid.uuid4().hex}"
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    await layer.group_send(group, {"type": "job.progress", "percent": 42})
    received = await layer.receive(channel)
    await layer.group_discard(group, channel)
    assert received == {"type": "job.progress", "percent": 42}
