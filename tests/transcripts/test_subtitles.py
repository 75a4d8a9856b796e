"""Subtitle cues cut from Whisper segments (transcripts/engine/subtitles.py): pure functions, no database."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest

from transcripts.engine.subtitles import (
    LONG_PAUSE_SECONDS,
    MAX_CUE_SECONDS,
    MAX_LINE_CHARS,
    MIN_CUE_SECONDS,
    Cue,
    build_cues,
    wrap_lines,
)

PARAGRAPH = (
    "Welcome back to the channel. Today we are going to look at how subtitles are cut from a long recording, "
    "and why the rules matter for people who read them. A good subtitle holds one thought, fits on two short "
    "lines, and stays on screen long enough to be read without rushing. Bad ones flash past or fill the screen "
    "with text nobody can follow."
)


def spoken(
    text: str,
    *,
    start: float = 0.0,
    word_seconds: float = 0.3,
    sentence_pause: float = 0.8,
    pauses: dict[int, float] | None = None,
    language: str = "en",
) -> dict[str, Any]:
    """A segment as faster-whisper stores it: each word `word_seconds` long with a leading space, a pause after
    each sentence, and extra pauses after the words whose indexes are in `pauses`."""
    words = []
    clock = start
    for index, token in enumerate(text.split()):
        words.append({"start": round(clock, 3), "end": round(clock + word_seconds, 3), "word": f" {token}"})
        clock += word_seconds
        if token[-1] in ".?!":
            clock += sentence_pause
        clock += (pauses or {}).get(index, 0.0)
    return {"start": start, "end": words[-1]["end"], "text": text, "language": language, "words": words}


def cue_words(cues: list[Cue]) -> list[str]:
    return " ".join(cue.text.replace("\n", " ") for cue in cues).split()


def assert_within_limits(cues: list[Cue]) -> None:
    for cue in cues:
        assert 1 <= len(cue.lines) <= 2, cue
        assert all(0 < len(line) <= MAX_LINE_CHARS for line in cue.lines), cue
        assert cue.end - cue.start <= MAX_CUE_SECONDS, cue


def assert_times_are_monotonic_and_do_not_overlap(cues: list[Cue]) -> None:
    for cue in cues:
        assert cue.start <= cue.end, cue
    for before, after in pairwise(cues):
        assert before.start <= after.start and before.end <= after.start, (before, after)


def test_a_long_segment_becomes_cues_of_at_most_two_lines_of_42_characters_and_7_seconds():
    segment = spoken(PARAGRAPH)
    assert len(PARAGRAPH.split()) >= 60 and segment["end"] > 20
    cues = build_cues([segment])
    assert len(cues) >= 6
    assert_within_limits(cues)
    assert cue_words(cues) == PARAGRAPH.split()
    assert cues[0].start == 0.0 and cues[-1].end == segment["end"]


def test_continuous_speech_without_punctuation_keeps_every_word_in_order_within_the_limits():
    text = " ".join(f"word{index}" for index in range(200))
    cues = build_cues([spoken(text, word_seconds=0.2)])
    assert_within_limits(cues)
    assert cue_words(cues) == text.split()
    # Greedy filling: all but the last cue hold close to two full lines.
    assert all(len(cue.text) >= 2 * MAX_LINE_CHARS - 10 for cue in cues[:-1])


def test_a_cue_lasts_at_most_7_seconds_even_when_slow_speech_would_fit_the_lines():
    text = " ".join(["slowly"] * 20)
    cues = build_cues([spoken(text, word_seconds=1.0)])
    assert [len(cue.text.split()) for cue in cues] == [7, 7, 6]
    assert all(cue.end - cue.start <= MAX_CUE_SECONDS for cue in cues)


def test_a_cue_breaks_after_a_sentence_end_rather_than_after_the_last_word_that_fits():
    text = "We looked at the numbers together and they were fine. Then the next quarter came along and changed things"
    # No pause after the sentence: the break must come from the preference, not from a silence.
    cues = build_cues([spoken(text, sentence_pause=0.0)])
    assert cues[0].text.replace("\n", " ") == "We looked at the numbers together and they were fine."
    assert cue_words(cues) == text.split()


@pytest.mark.parametrize("ending", ['fine."', "fine?)", "fine…", "fine!"])
def test_a_sentence_end_may_be_followed_by_a_closing_quote_or_bracket(ending):
    text = f"We looked at the numbers together and they were {ending} Then the next quarter came and changed it all"
    cues = build_cues([spoken(text, sentence_pause=0.0)])
    assert cues[0].text.split()[-1] == ending


def test_a_sentence_end_is_preferred_to_a_pause_and_a_pause_to_a_comma():
    text = "we looked at the numbers, and then we paused here and they were fine. then the next quarter changed it"
    pause_after = text.split().index("here")
    cues = build_cues([spoken(text, sentence_pause=0.0, pauses={pause_after: 0.6})])
    assert cues[0].text.split()[-1] == "fine."

    text = "we looked at the numbers together, and then we paused here and they were fine then the quarter changed"
    pause_after = text.split().index("here")
    cues = build_cues([spoken(text, sentence_pause=0.0, pauses={pause_after: 0.6})])
    assert cues[0].text.split()[-1] == "here"

    cues = build_cues([spoken(text, sentence_pause=0.0)])
    assert cues[0].text.split()[-1] == "together,"


def test_a_break_that_would_leave_a_one_word_cue_is_passed_over_for_a_later_one():
    text = "So, we went down to the river early in the morning and waited there for the boats to come in again"
    cues = build_cues([spoken(text)])
    assert len(cues[0].text.split()) > 1
    assert cue_words(cues) == text.split()


def test_a_sentence_followed_by_a_pause_ends_its_cue_even_when_more_would_fit():
    cues = build_cues([spoken("I see. Let us go on.", sentence_pause=0.6)])
    assert [cue.text for cue in cues] == ["I see.", "Let us go on."]
    # Without the pause the two short sentences read well together.
    assert [cue.text for cue in build_cues([spoken("I see. Let us go on.", sentence_pause=0.0)])] == [
        "I see. Let us go on."
    ]


def test_a_long_pause_ends_a_cue_even_without_punctuation():
    cues = build_cues([spoken("and then we waited for the bus", pauses={2: LONG_PAUSE_SECONDS})])
    assert [cue.text for cue in cues] == ["and then we", "waited for the bus"]
    assert cues[0].end == pytest.approx(0.9) and cues[1].start == pytest.approx(0.9 + LONG_PAUSE_SECONDS)
    # A shorter pause without a sentence end does not: the words fit one cue.
    assert len(build_cues([spoken("and then we waited for the bus", pauses={2: 1.0})])) == 1


def test_a_short_segment_stays_one_cue_on_one_line_with_the_word_times():
    segment = spoken("Hello there, world.", start=3.0)
    cues = build_cues([segment])
    assert cues == [Cue(start=3.0, end=3.9, lines=("Hello there, world.",))]


def test_text_too_long_for_one_line_is_wrapped_into_two_balanced_lines():
    text = "the quick brown fox jumps over the lazy dog and keeps running far away"
    words = text.split()
    lines = wrap_lines(words, MAX_LINE_CHARS, 2)
    assert lines == ("the quick brown fox jumps over the", "lazy dog and keeps running far away")
    assert " ".join(lines).split() == words
    # Filling the top line first would give 39 characters over 30.
    assert abs(len(lines[0]) - len(lines[1])) <= 1


def test_wrap_lines_keeps_short_text_on_one_line_and_refuses_text_that_does_not_fit():
    assert wrap_lines([" Hello", " world."], MAX_LINE_CHARS, 2) == ("Hello world.",)
    assert wrap_lines(["word"] * 20, MAX_LINE_CHARS, 2) is None
    assert wrap_lines(["x" * 43], MAX_LINE_CHARS, 2) is None
    assert wrap_lines(["abc", "def", "ghi"], 7, 2) == ("abc", "def ghi")


def test_a_change_of_language_ends_a_cue_but_a_segment_boundary_alone_does_not():
    first = spoken("Good morning,", start=0.0)
    second = spoken("how are you", start=first["end"])
    assert [cue.text for cue in build_cues([first, second])] == ["Good morning, how are you"]

    french = spoken("comment allez-vous", start=first["end"], language="fr")
    cues = build_cues([first, french])
    assert [cue.text for cue in cues] == ["Good morning,", "comment allez-vous"]


def test_a_segment_without_words_that_fits_stays_one_cue_with_its_own_times():
    cues = build_cues([{"start": 2.0, "end": 11.0, "text": " Old transcript line. ", "language": "en"}])
    assert cues == [Cue(start=2.0, end=11.0, lines=("Old transcript line.",))]


def test_segments_without_words_are_cut_with_their_time_spread_by_character_count():
    segment = {"start": 10.0, "end": 40.0, "text": PARAGRAPH, "language": "en", "words": []}
    cues = build_cues([segment])
    assert len(cues) > 3
    assert_within_limits(cues)
    assert cue_words(cues) == PARAGRAPH.split()
    assert cues[0].start == 10.0 and cues[-1].end == pytest.approx(40.0)
    letters = sum(len(word) for word in PARAGRAPH.split())
    for before, after in pairwise(cues):
        assert before.end == pytest.approx(after.start)  # no gaps: the segment's time is shared out
    for cue in cues:
        share = sum(len(word) for word in cue.text.split()) / letters
        assert cue.end - cue.start == pytest.approx(30.0 * share)


def test_a_word_longer_than_a_line_is_kept_as_a_cue_of_its_own():
    giant = "Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft"
    cues = build_cues([spoken(f"They call it {giant} over there")])
    assert [cue.lines for cue in cues] == [("They call it",), (giant,), ("over there",)]


def test_cue_times_are_monotonic_and_never_overlap_even_when_word_times_are_out_of_order():
    words = [
        {"start": 1.0, "end": 1.2, "word": " one."},
        {"start": 0.9, "end": 0.8, "word": " two"},  # starts before the previous word and ends before it starts
        {"start": 5.0, "end": 5.0, "word": " three,"},
        {"start": 5.0, "end": 5.0, "word": " four"},
    ]
    overlapping = spoken(PARAGRAPH, start=4.0)  # overlaps the first segment in time
    cues = build_cues([{"start": 0.9, "end": 5.0, "text": "", "language": "en", "words": words}, overlapping])
    assert_times_are_monotonic_and_do_not_overlap(cues)
    assert cue_words(cues) == ["one.", "two", "three,", "four", *PARAGRAPH.split()]

    # A segment in another language (so a cue of its own) that claims to start before the previous cue.
    earlier = {
        "start": 0.5,
        "end": 0.7,
        "text": "Oui.",
        "language": "fr",
        "words": [{"start": 0.5, "end": 0.7, "word": " Oui."}],
    }
    cues = build_cues([spoken("Yes.", start=1.0), earlier])
    assert_times_are_monotonic_and_do_not_overlap(cues)
    assert [(cue.start, cue.end, cue.text) for cue in cues] == [
        (1.0, 1.0, "Yes."),
        (1.0, pytest.approx(1.0 + MIN_CUE_SECONDS), "Oui."),
    ]


def test_a_very_short_cue_is_stretched_to_a_minimum_time_when_the_next_cue_leaves_room():
    words = [{"start": 1.0, "end": 1.05, "word": " Hi."}]
    later = spoken("Then more.", start=5.0)
    cues = build_cues([{"start": 1.0, "end": 1.05, "text": "Hi.", "language": "en", "words": words}, later])
    assert cues[0].end == pytest.approx(1.0 + MIN_CUE_SECONDS)

    crowded = spoken("Dann mehr.", start=1.1, language="de")  # another language: a cue of its own at 1.1 s
    cues = build_cues([{"start": 1.0, "end": 1.05, "text": "Hi.", "language": "en", "words": words}, crowded])
    assert cues[0].end == pytest.approx(1.1)


def test_arrows_in_text_become_single_arrows_so_vtt_parsers_do_not_end_the_cue():
    cues = build_cues(
        [
            spoken("press A --> then B----->C"),
            {"start": 9.0, "end": 10.0, "text": "old --> line", "language": "en"},
        ]
    )
    assert all("-->" not in cue.text for cue in cues)
    assert [cue.text for cue in cues] == ["press A -> then B->C", "old -> line"]


def test_empty_text_gives_no_cue():
    segments = [
        {"start": 0.0, "end": 1.0, "text": "", "language": "en"},
        {"start": 1.0, "end": 2.0, "text": "   \n ", "language": "en", "words": []},
        {"start": 2.0, "end": 3.0, "text": " ", "language": "en", "words": [{"start": 2.0, "end": 2.5, "word": " "}]},
    ]
    assert build_cues(segments) == []
    assert build_cues([]) == []
