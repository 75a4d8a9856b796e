"""Languages through the job service, with the real models on real and synthetic speech: nothing dropped silently."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from tests.job_helpers import make_job, transcribe_now
from tests.media import (
    GERMAN_LICENCE_WORDS,
    LANGUAGE_SWITCH,
    LICENCE_WORDS,
    MULTILINGUAL_ENGLISH_SECONDS,
    normalise,
    word_error_rate,
)
from transcripts.errors import TranscriptionError
from transcripts.models import JobStatus, Task, Transcript, TranscriptionJob

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def transcribe(owner, upload, **choices) -> tuple[TranscriptionJob, Transcript]:
    job = transcribe_now(owner, str(upload.id), **choices)
    assert job.status == JobStatus.DONE, job.error
    return job, Transcript.objects.get(pk=job.transcript_id)


def words_of(segments: list[dict]) -> set[str]:
    return set(normalise(" ".join(segment["text"] for segment in segments)).split())


def test_the_default_model_is_multilingual_and_keeps_both_halves_of_an_english_then_german_recording(
    alice, make_upload
):
    job, transcript = transcribe(alice, make_upload(alice, "multilingual.mp3"))

    assert job.model_name == transcript.model_name == "base"
    assert transcript.segments[-1]["end"] > 55, "the German half was dropped"
    english = [s for s in transcript.segments if s["end"] <= MULTILINGUAL_ENGLISH_SECONDS + 1]
    german = [s for s in transcript.segments if s["start"] >= MULTILINGUAL_ENGLISH_SECONDS - 1]
    assert {s["language"] for s in english} == {"en"} and {s["language"] for s in german} == {"de"}
    assert word_error_rate(LICENCE_WORDS, " ".join(s["text"] for s in english)) <= 0.15
    assert len(GERMAN_LICENCE_WORDS & words_of(german)) >= 3, words_of(german)
    assert transcript.language == "multiple" and transcript.languages == ["en", "de"]
    assert not transcript.warning


def test_a_switch_of_language_after_a_one_second_pause_inside_one_window_is_followed(alice, make_upload):
    _, transcript = transcribe(alice, make_upload(alice, "language-switch.mp4"))

    runs = [s["language"] for s in transcript.segments]
    assert [language for index, language in enumerate(runs) if index == 0 or runs[index - 1] != language] == [
        "en",
        "de",
        "en",
    ]
    german = [s for s in transcript.segments if s["language"] == "de"]
    assert {"abend", "berlin", "heute"} <= words_of(german)
    english = " ".join(s["text"] for s in transcript.segments if s["language"] == "en")
    assert word_error_rate(f"{LANGUAGE_SWITCH[0][1]} {LANGUAGE_SWITCH[2][1]}", english) <= 0.2, english
    assert transcript.languages == ["en", "de"]


def test_a_language_given_for_the_job_is_the_one_transcribed(alice, make_upload):
    job, transcript = transcribe(alice, make_upload(alice, "german.mp4"), language="de")

    assert job.language == "de" and transcript.language == "de"
    assert {s["language"] for s in transcript.segments} == {"de"}
    assert len(GERMAN_LICENCE_WORDS & words_of(transcript.segments)) >= 3


def test_translate_gives_english_text_stored_as_its_own_transcript_linked_to_the_original(alice, make_upload):
    upload = make_upload(alice, "german.mp4")
    _, original = transcribe(alice, upload)
    _, translation = transcribe(alice, upload, task="translate")

    assert original.language == "de" and original.task == Task.TRANSCRIBE
    assert translation.pk != original.pk and translation.task == Task.TRANSLATE
    assert translation.translation_of_id == original.pk and translation.language == "en"
    english = words_of(translation.segments)
    assert len({"software", "documentation", "copy", "charge", "person", "rights"} & english) >= 2, english
    assert not (GERMAN_LICENCE_WORDS - {"software"}) & english


def test_the_english_only_model_finishes_german_speech_with_a_visible_warning(alice, make_upload, recorded_events):
    job, transcript = transcribe(alice, make_upload(alice, "german.mp4"), model="tiny.en")

    for warning in (job.warning, transcript.warning, recorded_events[-1]["warning"], recorded_events[-1]["message"]):
        assert "German (de)" in warning and "tiny.en" in warning
    assert transcript.model_name == "tiny.en"


def test_the_english_only_model_gives_no_warning_on_english_speech(alice, make_upload):
    job, transcript = transcribe(alice, make_upload(alice, "jfk.flac"), model="tiny.en")
    assert job.warning == transcript.warning == ""


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        ({"model": "tiny.en", "language": "de"}, "understands only English, not German (de). Choose the base model"),
        ({"model": "tiny.en", "task": "translate"}, "cannot translate. Choose the base model"),
        ({"language": "xx"}, "Unknown language 'xx'"),
        ({"task": "summarise"}, "Unknown task 'summarise'"),
        ({"model": "large-v9"}, "Unknown model 'large-v9': choose one of base, tiny.en"),
    ],
)
def test_what_a_model_cannot_do_is_refused_before_any_work(alice, make_upload, choices, message):
    upload = make_upload(alice, "german.mp4")
    with pytest.raises(TranscriptionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_job(alice, str(upload.id), **choices)
    assert not TranscriptionJob.objects.exists()


def test_the_command_line_passes_language_and_task_through(alice, media_dir, capsys):
    call_command("transcribe", str(media_dir / "german.mp4"), "--language", "de", "--task", "translate")
    english = set(normalise(capsys.readouterr().out).split())
    assert len({"software", "documentation", "copy", "charge", "person", "rights"} & english) >= 2, english

    with pytest.raises(CommandError, match="understands only English"):
        call_command("transcribe", str(media_dir / "german.mp4"), "--model", "tiny.en", "--language", "de")
