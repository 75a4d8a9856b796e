"""API authentication: a bearer API token, or the browser session (whose writes need the CSRF token)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
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


def docs_access_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Guard the API's docs page and OpenAPI schema: a logged-in session or a valid API token, unless
    settings.API_DOCS_PUBLIC publishes them. Anonymous callers get the API's 401 for the schema (what a script can
    act on) and the login page, then back, for the docs page (what a person in a browser expects)."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if settings.API_DOCS_PUBLIC or request.user.is_authenticated or ApiTokenAuth()(request) is not None:
            return view(request, *args, **kwargs)
        if request.resolver_match is not None and request.resolver_match.url_name == "openapi-view":
            return redirect_to_login(request.get_full_path())
        return JsonResponse({"detail": "Unauthorized"}, status=401)

    return guarded
