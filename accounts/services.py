"""Accounts: the first-run administrator and the user's API tokens."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from accounts.models import ApiToken


class SetupClosedError(Exception):
    """The first-run page only works while no user exists."""


def setup_is_open() -> bool:
    """True while the database has no user at all: the first visitor may create the administrator."""
    return not get_user_model().objects.exists()


@transaction.atomic
def create_first_superuser(*, username: str, email: str, password: str) -> AbstractBaseUser:
    """Create the first administrator; refuses once any user exists (two visitors racing lose one)."""
    user_model = get_user_model()
    # Lock the (empty) table's rows where the database can; the unique username and this check together keep a
    # second superuser from appearing through this page.
    if user_model.objects.select_for_update().exists():
        raise SetupClosedError("An administrator already exists.")
    return user_model.objects.create_superuser(username=username, email=email, password=password)


def issue_token(*, owner: AbstractBaseUser, name: str) -> tuple[ApiToken, str]:
    """Create an API token for `owner`; returns the row and the full secret, which is shown once and never stored."""
    return ApiToken.issue(owner=owner, name=name.strip() or "API token")


def list_tokens(*, owner: AbstractBaseUser) -> list[ApiToken]:
    """All of the owner's tokens, newest first, revoked ones included (so the user sees what was revoked)."""
    return list(ApiToken.objects.filter(owner=owner).order_by("-created_at"))


def revoke_token(*, owner: AbstractBaseUser, token_id: int) -> ApiToken:
    """Revoke one of the owner's tokens; another user's id raises ApiToken.DoesNotExist, like a missing one."""
    token = ApiToken.objects.get(owner=owner, pk=token_id)
    token.revoke()
    return token
