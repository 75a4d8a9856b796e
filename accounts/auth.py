"""API authentication: a bearer API token, or the browser session (whose writes need the CSRF token)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from accounts.models import ApiToken, hash_token


class ApiTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> object | None:
        api_token = ApiToken.objects.active().select_related("owner").filter(hashed_secret=hash_token(token)).first()
        if api_token is None:
            return None
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=timezone.now())
        request.user = api_token.owner
        return api_token.owner


class LoggedInSessionAuth(SessionAuth):
    """The browser session. CSRF is checked only for a logged-in session, so an anonymous write is answered
    401 (not logged in) rather than 403 (CSRF), which is what a client can act on."""

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)


api_auth = [ApiTokenAuth(), LoggedInSessionAuth()]
