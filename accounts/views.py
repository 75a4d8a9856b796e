"""Accounts pages: login (sends to first-run setup while no user exists), first-run setup, API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services
from accounts.forms import SetupForm, TokenCreateForm
from accounts.models import ApiToken


# Overriding dispatch drops the parent's login_not_required mark, which as_view() copies from dispatch.
@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    """Django's login; on a fresh install, where nobody could log in, it sends the visitor to the setup page."""

    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        if services.setup_is_open():
            return redirect("setup")
        return super().dispatch(request, *args, **kwargs)


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """First run: create the first administrator, then log them in. Gone (404) once any user exists."""
    if not services.setup_is_open():
        raise Http404("Setup is complete.")
    form = SetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.create_first_superuser(
                username=form.cleaned_data["username"],
                email=form.cleaned_data.get("email") or "",
                password=form.cleaned_data["password1"],
            )
        except services.SetupClosedError as exc:
            raise Http404("Setup is complete.") from exc
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.get_username()}. You are the administrator.")
        return redirect("chat:index")
    return render(request, "registration/setup.html", {"form": form})


@require_http_methods(["GET", "HEAD", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """List the user's API tokens and create one; the new secret is rendered in this one response only."""
    form = TokenCreateForm(request.POST or None)
    new_secret = None
    new_token = None
    if request.method == "POST" and form.is_valid():
        new_token, new_secret = services.issue_token(owner=request.user, name=form.cleaned_data["name"])
        form = TokenCreateForm()
    context = {
        "form": form,
        "tokens": services.list_tokens(owner=request.user),
        "new_token": new_token,
        "new_secret": new_secret,
    }
    response = render(request, "accounts/tokens.html", context)
    # The page holding a secret must not be kept by the browser or a proxy.
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        token = services.revoke_token(owner=request.user, token_id=token_id)
    except ApiToken.DoesNotExist as exc:
        raise Http404("No such token.") from exc
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("tokens")
