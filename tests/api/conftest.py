"""API fixtures: bearer-token clients for alice and bob."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import ApiToken


@pytest.fixture
def alice_token(alice) -> str:
    return ApiToken.issue(owner=alice, name="alice-script")[1]


@pytest.fixture
def alice_api(alice_token) -> Client:
    """Alice through a bearer token, with CSRF checks on: tokens need no CSRF token."""
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {alice_token}"})


@pytest.fixture
def bob_api(bob) -> Client:
    secret = ApiToken.issue(owner=bob, name="bob-script")[1]
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {secret}"})
