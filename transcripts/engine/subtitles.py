"""Subtitle cues from Whisper segments, cut the way broadcast subtitles are.

Whisper's batched decoder gives one segment per speech chunk (often 20-30 s), far too long to read as one subtitle.
`build_cues` re-cuts the segments' words into cues of at most `max_lines` lines of `max_line_chars` characters
lasting at most `max_seconds`, and never drops, splits or reorders a word.

How a cue is cut (greedy, one cue at a time):
- The cue grows word by word while its text still wraps into the lines and it lasts no longer than `max_seconds`.
- When the next word would not fit, the cue is cut at its best break: after a sentence end, else at a pause of
  `MIN_PAUSE_SECONDS`, else after a clause mark (, ; :), else after the last word that fits. A break that would
  leave the cue with less than a third of its characters is only taken when no other break is left, so a cue is
  not reduced to a stray "So," when a better break exists.
- A cue always ends at a pause of `LONG_PAUSE_SECONDS` (the subtitle would otherwise sit through the silence
  and show the next words early), at a sentence end followed by a pause of `MIN_PAUSE_SECONDS` (one sentence per
  subtitle where speech allows it), and where the language changes between segments. Other segment boundaries
  do not end a cue: a chunk boundary often falls mid-sentence, and a real pause there is caught by the rules above.
- A word longer than a line is a cue of its own, on one line: it is shown too wide rather than lost.

Segments without word times (older transcripts) keep their own times: their text is one cue when it fits the
lines, otherwise it is cut by the same rules with the segment's time spread over its words by character count.

Times: a cue runs from its first word's start to its last word's end, stretched to `MIN_CUE_SECONDS` when the
next cue leaves room; starts never go backwards and a cue never overlaps the next one or ends before it starts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, NamedTuple

MAX_LINE_CHARS = 42
MAX_LINES = 2
MAX_CUE_SECONDS = 7.0
MIN_PAUSE_SECONDS = 0.5  # a gap between words at least this long is a good place to break
LONG_PAUSE_SECONDS = 1.5  # a gap this long always ends a cue
MIN_CUE_SECONDS = 0.3  # a one-word cue lasting 50 ms would flash by unread

_CLOSERS = re.escape("\"'”’»)]}")
_SENTENCE_END = re.compile(rf"[.?!…][{_CLOSERS}]*$")
_CLAUSE_END = re.compile(rf"[,;:][{_CLOSERS}]*$")


@dataclass(frozen=True)
class Cue:
    """One subtitle, shown from `start` to `end` seconds, on one or two lines."""

    start: float
    end: float
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class _Word(NamedTuple):
    start: float
    end: float
    text: str


def clean_text(text: str) -> str:
    """Whitespace collapsed, and no "-->" left: it would end a WebVTT cue's text early."""
    text = " ".join(text.split())
    while "-->" in text:  # a loop, because "--->" becomes "-->" after one replacement
        text = text.replace("-->", "->")
    return text


def wrap_lines(words: Sequence[str], max_line_chars: int, max_lines: int) -> tuple[str, ...] | None:
    """The words on as few lines as possible, as evenly filled as possible; None when they do not fit, () for none."""
    words = [word for word in map(clean_text, words) if word]
    if not words:
        return ()
    if len(" ".join(words)) > max_lines * (max_line_chars + 1) - 1:
        return None
    for count in range(1, max_lines + 1):
        lines = _balanced(words, count, max_line_chars)
        if lines is not None:
            return lines
    return None


def _balanced(words: Sequence[str], count: int, limit: int) -> tuple[str, ...] | None:
    if count == 1:
        text = " ".join(words)
        return (text,) if len(text) <= limit else None
    options = []
    for cut in range(1, len(words) - count + 2):
        head = " ".join(words[:cut])
        if len(head) > limit:
            break
        rest = _balanced(words[cut:], count - 1, limit)
        if rest is not None:
            options.append((head, *rest))
    # Shortest longest line first; on a tie the shorter top line, as broadcasters prefer (less eye movement).
    return min(options, key=lambda lines: (max(map(len, lines)), len(lines[0])), default=None)


def build_cues(
    segments: Iterable[Mapping[str, Any]],
    *,
    max_line_chars: int = MAX_LINE_CHARS,
    max_lines: int = MAX_LINES,
    max_seconds: float = MAX_CUE_SECONDS,
) -> list[Cue]:
    """Subtitle cues for stored segments (`start`, `end`, `text`, `language`, optional `words`); see the module."""
    limits = (max_line_chars, max_lines, max_seconds)
    chunks: list[list[_Word]] = []
    run: list[_Word] = []
    language: object = None
    for segment in segments:
        words = _segment_words(segment)
        if words and run and segment.get("language") == language:
            run.extend(words)
            continue
        chunks.extend(_cut(run, *limits))
        run, language = words, segment.get("language")
        if not words:
            chunks.extend(_fallback(segment, *limits))
    chunks.extend(_cut(run, *limits))
    return _timed(chunks, max_line_chars, max_lines)


def _segment_words(segment: Mapping[str, Any]) -> list[_Word]:
    words = (
        _Word(float(word["start"]), float(word["end"]), clean_text(str(word.get("word", ""))))
        for word in segment.get("words") or ()
    )
    return [word for word in words if word.text]


def _fallback(segment: Mapping[str, Any], max_line_chars: int, max_lines: int, max_seconds: float) -> list[list[_Word]]:
    tokens = clean_text(str(segment.get("text", ""))).split()
    if not tokens:
        return []
    start = float(segment["start"])
    duration = max(float(segment["end"]) - start, 0.0)
    offsets = [0, *accumulate(map(len, tokens))]
    words = [
        _Word(start + duration * offsets[i] / offsets[-1], start + duration * offsets[i + 1] / offsets[-1], token)
        for i, token in enumerate(tokens)
    ]
    if wrap_lines(tokens, max_line_chars, max_lines) is not None:
        return [words]
    return list(_cut(words, max_line_chars, max_lines, max_seconds))


def _cut(words: list[_Word], max_line_chars: int, max_lines: int, max_seconds: float) -> Iterator[list[_Word]]:
    first = 0
    while first < len(words):
        end = first + 1
        while end < len(words) and not _must_break(words[end - 1], words[end]):
            grown = words[first : end + 1]
            if _span(grown) > max_seconds or wrap_lines([w.text for w in grown], max_line_chars, max_lines) is None:
                end = _best_break(words, first, end)
                break
            end += 1
        yield words[first:end]
        first = end


def _must_break(before: _Word, after: _Word) -> bool:
    pause = after.start - before.end
    return pause >= LONG_PAUSE_SECONDS or (pause >= MIN_PAUSE_SECONDS and bool(_SENTENCE_END.search(before.text)))


def _best_break(words: list[_Word], first: int, end: int) -> int:
    """Where to end the cue words[first:end], given that words[end] does not fit in it."""

    def length(stop: int) -> int:
        return len(" ".join(word.text for word in words[first:stop]))

    def score(stop: int) -> int:
        before, after = words[stop - 1], words[stop]
        if _SENTENCE_END.search(before.text):
            return 3
        if after.start - before.end >= MIN_PAUSE_SECONDS:
            return 2
        return 1 if _CLAUSE_END.search(before.text) else 0

    stops = [stop for stop in range(first + 1, end + 1) if 3 * length(stop) >= length(end)]
    return max(stops, key=lambda stop: (score(stop), stop))


def _span(words: Sequence[_Word]) -> float:
    return max(word.end for word in words) - min(word.start for word in words)


def _timed(chunks: list[list[_Word]], max_line_chars: int, max_lines: int) -> list[Cue]:
    # Word times can run backwards a little; clamping starts first keeps every later comparison simple.
    starts = list(accumulate((min(word.start for word in chunk) for chunk in chunks), max))
    cues = []
    for index, chunk in enumerate(chunks):
        start = starts[index]
        end = max(max(word.end for word in chunk), start + MIN_CUE_SECONDS)
        if index + 1 < len(starts):  # starts only grow, so this never ends a cue before it starts
            end = min(end, starts[index + 1])
        texts = [word.text for word in chunk]
        lines = wrap_lines(texts, max_line_chars, max_lines) or (" ".join(texts),)
        cues.append(Cue(start=start, end=end, lines=lines))
    return cues
