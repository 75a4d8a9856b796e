"""Forms of the accounts pages."""

from __future__ import annotations

from django import forms
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.forms import BaseUserCreationForm


class SetupForm(BaseUserCreationForm):
    """The first administrator: username, optional e-mail, password twice (Django's password validators apply)."""

    email = forms.EmailField(required=False, help_text="Optional.")

    class Meta(BaseUserCreationForm.Meta):
        fields = ("username", "email")

    def validate_password_for_user(self, user: AbstractBaseUser, **kwargs: str) -> None:
        # Django files a weak password's errors under the confirmation field; they belong under the password itself.
        super().validate_password_for_user(user, password_field_name="password1")  # noqa: S106 (a field name)


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What the token is for, e.g. “laptop script”.",
        widget=forms.TextInput(attrs={"placeholder": "laptop script", "autocomplete": "off"}),
    )
