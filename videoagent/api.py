"""The REST API (django-ninja). Each app has its own router; OpenAPI docs at /api/docs."""

from __future__ import annotations

from ninja import NinjaAPI

from accounts.auth import api_auth

api = NinjaAPI(title="VideoAgent API", version="1.0", auth=api_auth, urls_namespace="api")
