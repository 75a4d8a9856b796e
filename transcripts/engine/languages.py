"""Languages Whisper knows, which models understand them, and the words to name them in messages."""

from __future__ import annotations

from pathlib import Path

from faster_whisper.tokenizer import _LANGUAGE_CODES

LANGUAGE_CODES: frozenset[str] = frozenset(_LANGUAGE_CODES)
AUTO = "auto"
MULTIPLE = "multiple"  # the transcript-level language of a recording in several languages
TASKS = ("transcribe", "translate")

# Names for messages people read; any other code is shown as the code itself.
LANGUAGE_NAMES = {
    "ar": "Arabic",
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "fi": "Finnish",
    "fr": "French",
    "he": "Hebrew",
    "hi": "Hindi",
    "hu": "Hungarian",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "nl": "Dutch",
    "no": "Norwegian",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sv": "Swedish",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "zh": "Chinese",
}


class LanguageError(ValueError):
    """A language or task that cannot be used; str() is a message for the user."""


def language_name(code: str) -> str:
    name = LANGUAGE_NAMES.get(code)
    return f"{name} ({code})" if name else code


def normalise_language(value: str | None) -> str:
    """An ISO 639-1 code Whisper knows, or "" for automatic detection ("auto", empty)."""
    code = (value or "").strip().lower()
    if code in ("", AUTO):
        return ""
    if code not in LANGUAGE_CODES:
        raise LanguageError(
            f"Unknown language {value!r}: use a two-letter code such as en, de, fr or es, or 'auto' to detect it."
        )
    return code


def normalise_task(value: str | None) -> str:
    task = (value or "transcribe").strip().lower()
    if task not in TASKS:
        raise LanguageError(f"Unknown task {value!r}: use 'transcribe' or 'translate' (into English).")
    return task


def is_english_only(model_name: str) -> bool:
    """Whisper's English-only checkpoints carry `.en` in their name (tiny.en, base.en, a folder `small.en`)."""
    name = Path(model_name.rstrip("/")).name.lower()
    return name.endswith((".en", "-en")) or name == "bundled"


def check_model_can(model_name: str, *, language: str, task: str, alternatives: list[str]) -> None:
    """Refuse, before any work, what an English-only model cannot do; the message names a model that can."""
    if not is_english_only(model_name):
        return
    multilingual = [name for name in alternatives if not is_english_only(name)]
    hint = f" Choose the {multilingual[0]} model instead." if multilingual else " No multilingual model is configured."
    if task == "translate":
        raise LanguageError(f"The {model_name} model understands only English, so it cannot translate.{hint}")
    if language and language != "en":
        raise LanguageError(f"The {model_name} model understands only English, not {language_name(language)}.{hint}")
