"""Rows that belong to one user, looked up one way everywhere (as paperless-ngx's ModelWithOwner).

Every model with an `owner` uses OwnedQuerySet as its manager. Services and selectors read through
`for_owner(user)` and `get_owned(user, pk)`: another user's id and a missing id both raise NotFound, the same
domain error, and the edges turn it into what their protocol says (a 404 page or JSON body, websocket close 4404).
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models

ModelT = TypeVar("ModelT", bound=models.Model)


class NotFound(Exception):
    """No such row among the user's own; str() names what was looked for ("Transcript not found")."""


class OwnedQuerySet(models.QuerySet[ModelT]):
    def for_owner(self, owner: Any) -> OwnedQuerySet[ModelT]:
        """Only `owner`'s rows (nothing for an anonymous or missing user)."""
        if owner is None or not getattr(owner, "is_authenticated", False):
            return self.none()
        return self.filter(owner=owner)

    def get_owned(self, owner: Any, pk: object) -> ModelT:
        """`owner`'s row with that primary key, or NotFound: another user's id reads exactly like a missing one."""
        try:
            return self.for_owner(owner).get(pk=pk)
        except (self.model.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
            raise NotFound(f"{self.model._meta.verbose_name.capitalize()} not found") from exc
