"""Every page needs a login, except the login and first-run pages and the API (which answers 401 itself); a
domain NotFound from any view is the site's 404 page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.core.handlers.exception import response_for_exception
from django.http import Http404, HttpRequest, HttpResponseBase
from django.utils.deprecation import MiddlewareMixin

from accounts.owned import NotFound


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    # The API authenticates with API tokens or the session and answers 401 in JSON, never a login redirect.
    exempt_prefixes = ("/api/",)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        if request.path.startswith(self.exempt_prefixes):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class NotFoundMiddleware(MiddlewareMixin):
    """Services and selectors raise NotFound for a row that is not the user's; a page answers it as a 404."""

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponseBase | None:
        if isinstance(exception, NotFound):
            return response_for_exception(request, Http404(str(exception)))
        return None
