"""The "New transcription" form of the web pages: links and files, with the model, language and task to use."""

from __future__ import annotations

from django import forms
from django.conf import settings

from transcripts.engine.languages import LANGUAGE_CODES, LANGUAGE_NAMES, is_english_only
from transcripts.jobs import available_models

MAX_LINKS = 20
MAX_FILES = 20


def model_choices() -> list[tuple[str, str]]:
    return [
        (name, f"{name} — {'fast, English only' if is_english_only(name) else 'every language, can translate'}")
        for name in available_models()
    ]


def language_choices() -> list[tuple[str, str]]:
    named = sorted((code for code in LANGUAGE_CODES if code in LANGUAGE_NAMES), key=LANGUAGE_NAMES.__getitem__)
    others = sorted(LANGUAGE_CODES - set(named))
    return [
        ("auto", "Detect (every language it hears)"),
        *((code, f"{LANGUAGE_NAMES[code]} ({code})") for code in named),
        *((code, code) for code in others),
    ]


class NewTranscriptionForm(forms.Form):
    links = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "https://www.youtube.com/watch?v=…\nOne link per line"}),
        help_text="One link per line. Or choose files below, or both.",
    )
    model = forms.ChoiceField(choices=model_choices)
    language = forms.ChoiceField(choices=language_choices, initial="auto")
    task = forms.ChoiceField(
        choices=[("transcribe", "Transcribe"), ("translate", "Translate into English")], initial="transcribe"
    )

    @property
    def upload_accept(self) -> str:
        return ",".join(settings.UPLOAD_ALLOWED_EXTENSIONS)

    @property
    def upload_max_bytes(self) -> int:
        return settings.UPLOAD_MAX_BYTES

    def clean_links(self) -> list[str]:
        links = [line.strip() for line in self.cleaned_data["links"].splitlines() if line.strip()]
        if len(links) > MAX_LINKS:
            raise forms.ValidationError(f"At most {MAX_LINKS} links at a time.")
        return links
