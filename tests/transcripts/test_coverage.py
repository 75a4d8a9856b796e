"""Nothing lost by default: every second of speech ends in words or in a reported gap (real models, real speech).

The recordings switch language inside one 30-second window (one VAD chunk), which per-window detection cannot see,
or hold babble that the VAD takes for speech and in which no words can be told.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client

from accounts.models import ApiToken
from tests.conftest import TEST_DATA
from tests.job_helpers import transcribe_now
from tests.media import (
    ENGLISH_GERMAN_ENGLISH,
    GERMAN_ENGLISH_GERMAN,
    REAL_PIECES,
    normalise,
    reference_words,
    repeated_sentences_mp4,
    word_error_rate,
)
from transcripts import exports
from transcripts.engine import coverage, speech
from transcripts.engine.whisper import EngineConfig, transcribe_file
from transcripts.models import JobStatus, Transcript

pytestmark = pytest.mark.slow

SWITCHES = {"en-de-en.mp4": ENGLISH_GERMAN_ENGLISH, "de-en-de.mp4": GERMAN_ENGLISH_GERMAN}


def language_runs(segments: list[dict]) -> list[str]:
    languages = [segment["language"] for segment in segments]
    return [language for index, language in enumerate(languages) if index == 0 or languages[index - 1] != language]


def assert_every_part_came_out(segments: list[dict], parts: list[tuple[str, float]]) -> None:
    expected = [name[:2] for name, _ in parts]
    assert language_runs(segments) == [code for i, code in enumerate(expected) if i == 0 or expected[i - 1] != code]
    for language in ("en", "de"):
        heard = " ".join(segment["text"] for segment in segments if segment["language"] == language)
        assert word_error_rate(reference_words(parts, language), heard) <= 0.2, (language, heard)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", SWITCHES)
def test_a_language_switch_inside_one_window_keeps_every_part_in_its_language(alice, make_upload, name):
    job = transcribe_now(alice, str(make_upload(alice, name).id))

    assert job.status == JobStatus.DONE, job.error
    transcript = Transcript.objects.get(pk=job.transcript_id)
    assert_every_part_came_out(transcript.segments, SWITCHES[name])
    assert transcript.language == "multiple" and set(transcript.languages) == {"en", "de"}
    assert transcript.gaps == [] and not transcript.warning


@pytest.mark.parametrize("name", SWITCHES)
def test_the_sequential_decoder_keeps_every_part_too(media_dir, name):
    result = transcribe_file(media_dir / name, EngineConfig(decoding="sequential"))

    assert_every_part_came_out(result.segments, SWITCHES[name])
    assert result.gaps == []


def test_speech_the_decoder_skipped_is_decoded_again_and_its_words_come_back(media_dir, monkeypatch):
    """The issue's case: the chunk is taken for English as a whole, and Whisper, decoding it as English, writes the
    first sentence and stops. With the split of unsure chunks turned off, only the coverage check can find the
    German and the last English sentence again."""
    monkeypatch.setattr(speech, "refine_unsure", lambda model, audio, chunks, batch_size: chunks)
    first_pass: list[list[dict]] = []
    recover = coverage.recover

    def watched(chunks, segments, **kwargs):
        first_pass.append(segments)
        return recover(chunks, segments, **kwargs)

    monkeypatch.setattr(coverage, "recover", watched)

    result = transcribe_file(media_dir / "en-de-en.mp4", EngineConfig())

    skipped = coverage.uncovered([(0.3, result.duration)], first_pass[0], at_least=coverage.MIN_UNCOVERED_SECONDS)
    assert sum(end - start for start, end in skipped) >= 5, "the first pass lost nothing: this case no longer tests"
    assert_every_part_came_out(result.segments, ENGLISH_GERMAN_ENGLISH)
    assert result.gaps == []


REPEATS = 12


@pytest.fixture(scope="module")
def repeated_sentences(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("repeated")
    return repeated_sentences_mp4(
        TEST_DATA / "jfk.flac", TEST_DATA / "multilingual.mp3", directory / "repeated.mp4", repeats=REPEATS
    )


@pytest.mark.parametrize(("model", "decoding"), [("base", "batched"), ("base", "sequential"), ("tiny.en", "batched")])
def test_sentences_repeated_with_pauses_all_come_out(repeated_sentences, model, decoding):
    """Issue 21's case: decoding the default chunks, base wrote one sentence of some windows and stopped (8 of 12
    of each sentence came out of this 163 s clip); the coverage check decodes what it skipped again."""
    result = transcribe_file(repeated_sentences, EngineConfig(model=model, decoding=decoding))

    text = normalise(result.text)
    assert text.count("what your country can do for you") == REPEATS, result.text
    assert text.count("free of charge to any person obtaining a copy of") == REPEATS, result.text
    assert result.gaps == []


@pytest.mark.django_db(transaction=True)
def test_babble_that_sounds_like_speech_is_a_gap_on_the_transcript_the_json_and_the_rest_answer(
    alice, make_upload, client
):
    job = transcribe_now(alice, str(make_upload(alice, "babble.mp4").id))

    assert job.status == JobStatus.DONE, job.error
    transcript = Transcript.objects.get(pk=job.transcript_id)
    babble_start = 0.3 + REAL_PIECES["en-a"][0][1] - REAL_PIECES["en-a"][0][0] + 0.5
    babble_gaps = [gap for gap in transcript.gaps if gap["start"] < babble_start + 10 and gap["end"] > babble_start]
    assert sum(gap["end"] - gap["start"] for gap in babble_gaps) >= 6, transcript.gaps
    assert "No words were recognised" in transcript.warning and job.warning == transcript.warning
    heard = " ".join(segment["text"] for segment in transcript.segments)
    assert word_error_rate(reference_words([("en-a", 0), ("en-c", 0)], "en"), heard) <= 0.25, heard

    document = json.loads(exports.export_transcript(transcript, "json").content)
    assert document["gaps"] == transcript.gaps
    token = ApiToken.issue(owner=alice, name="script")[1]
    answer = Client(headers={"Authorization": f"Bearer {token}"}).get(f"/api/transcripts/{transcript.pk}")
    assert answer.status_code == 200 and answer.json()["gaps"] == transcript.gaps
    client.force_login(alice)
    page = client.get(f"/library/{transcript.pk}/").content.decode()
    first = transcript.gaps[0]
    assert page.count(f'class="gap-mark" data-start="{first["start"]}"') == 1
    assert "no words recognised" in page


def test_gaps_warn_past_five_percent_of_the_speech_or_five_seconds_in_one_and_not_below():
    assert coverage.gap_warning([], 100.0) == ""
    assert coverage.gap_warning([(10.0, 14.9)], 100.0) == ""  # 4.9 % and under 5 s
    assert "0:10–0:15" in coverage.gap_warning([(10.0, 15.0)], 1000.0)  # one gap of 5 s
    assert coverage.gap_warning([(10.0, 12.0), (20.0, 23.5)], 100.0)  # 5.5 % in two short gaps
    assert coverage.gap_warning([(10.0, 12.0), (20.0, 23.0)], 100.0) == ""  # exactly 5 %


def test_uncovered_speech_counts_stretched_words_only_at_their_edges():
    speech_spans = [(0.0, 4.0), (4.0, 20.0)]  # touching spans are one stretch of speech
    segments = [
        {"start": 0.0, "end": 20.0, "words": [{"start": 0.1, "end": 1.9}, {"start": 1.9, "end": 3.8}]},
        {"start": 0.0, "end": 20.0, "words": [{"start": 4.0, "end": 18.0}, {"start": 18.0, "end": 19.9}]},
    ]

    assert coverage.uncovered(speech_spans, segments, at_least=1.0) == [(4.1, 17.7)]
    assert coverage.uncovered(speech_spans, segments, at_least=14.0) == []
    assert coverage.uncovered([(0.0, 3.0)], [{"start": 0.5, "end": 2.9}], at_least=0.1) == [(0.0, 0.2)]
