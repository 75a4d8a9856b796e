"""Forms of the accounts pages."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import BaseUserCreationForm


class SetupForm(BaseUserCreationForm):
    """The first administrator: username, optional e-mail, password twice (Django's password validators apply)."""

    email = forms.EmailField(required=False, help_text="Optional.")

    class Meta(BaseUserCreationForm.Meta):
        fields = ("username", "email")


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What the token is for, e.g. “laptop script”.",
        widget=forms.TextInput(attrs={"placeholder": "laptop script", "autocomplete": "off"}),
    )
