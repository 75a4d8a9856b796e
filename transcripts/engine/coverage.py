"""Every second of speech ends in words or in a reported gap: the decoded words are checked against the speech.

Whisper can stop early inside a window (a second language that holds a third of it; a sentence at a chunk's edge)
and go on as if nothing was there, and its word timestamps then stretch one word over the speech it skipped. So
after decoding, the speech the VAD found minus the time that decoded words cover is the uncovered speech. A chunk
with a second or more of it has its language told span by span; where the spans disagree, the chunk is decoded
again as runs of one language. Each stretch still uncovered is then decoded alone (its language told alone). What
remains is returned as gaps, and a warning when they add up to enough to matter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from transcripts.engine import speech
from transcripts.engine.speech import Chunk, Span

WORD_TOLERANCE_SECONDS = 0.3  # word timestamps are approximate, and the VAD pads each span by 0.4 s of silence
MAX_WORD_SECONDS = 2.0  # a "word" longer than this was stretched over speech the decoder skipped
MIN_UNCOVERED_SECONDS = 0.6  # shorter stretches are a breath, a click, a word's tail: not worth a decode
WARN_SHARE = 0.05  # gaps over this share of the speech are worth a warning...
WARN_GAP_SECONDS = 5.0  # ...and so is any one gap this long

# decode(chunks of one language) -> segments; detect(chunks) sets each one's language.
Decode = Callable[[list[Chunk]], list[dict[str, Any]]]
Detect = Callable[[list[Chunk]], None]


def covered_intervals(segments: Iterable[dict[str, Any]]) -> list[Span]:
    """The time the segments' words account for, each word widened by the tolerance, merged and in order."""
    intervals: list[Span] = []
    for segment in segments:
        if not segment.get("words"):  # no word timestamps: the segment's own times are all there is
            intervals.append((segment["start"] - WORD_TOLERANCE_SECONDS, segment["end"] + WORD_TOLERANCE_SECONDS))
        for word in segment.get("words") or []:
            start, end = float(word["start"]), float(word["end"])
            if end - start > MAX_WORD_SECONDS:  # only its edges are where the decoder heard something
                intervals += [(start - WORD_TOLERANCE_SECONDS, start), (end, end + WORD_TOLERANCE_SECONDS)]
            else:
                intervals.append((start - WORD_TOLERANCE_SECONDS, end + WORD_TOLERANCE_SECONDS))
    return _union(intervals)


def uncovered(spans: Iterable[Span], segments: Iterable[dict[str, Any]], *, at_least: float) -> list[Span]:
    """Stretches of speech (the VAD's spans) that no decoded word covers, each lasting `at_least` seconds or more.

    Spans that touch (the VAD's padding fills pauses under 0.8 s) count as one stretch of speech.
    """
    covered = covered_intervals(segments)
    stretches: list[Span] = []
    for span_start, span_end in _union(list(spans)):
        cursor = span_start
        for start, end in covered:
            if end <= cursor or start >= span_end:
                continue
            if start > cursor:
                stretches.append((cursor, start))
            cursor = max(cursor, end)
        if cursor < span_end:
            stretches.append((cursor, span_end))
    return [(round(start, 3), round(end, 3)) for start, end in stretches if end - start >= at_least]


def recover(
    chunks: list[Chunk],
    segments: list[dict[str, Any]],
    *,
    decode: Decode,
    detect: Detect | None,
) -> tuple[list[dict[str, Any]], list[Span]]:
    """The segments with the skipped speech decoded again, in time order, and the gaps that remain.

    `detect` is None when the language is given (or the model knows only English): then only decoding is repeated.
    """
    spans = [span for chunk in chunks for span in chunk.spans]
    if not uncovered(spans, segments, at_least=MIN_UNCOVERED_SECONDS):
        return segments, []
    if detect is not None:
        segments = _split_mixed_chunks(chunks, segments, decode=decode, detect=detect)
    stretches = uncovered(spans, segments, at_least=MIN_UNCOVERED_SECONDS)
    if stretches:
        retried = [Chunk(spans=[stretch], language=_language_at(chunks, stretch)) for stretch in stretches]
        if detect is not None:
            detect([chunk for chunk in retried if chunk.seconds >= speech.MIN_DETECT_SECONDS])
        for group in _by_language(retried):
            segments = segments + decode(group)
    segments = sorted(segments, key=lambda segment: (segment["start"], segment["end"]))
    return segments, uncovered(spans, segments, at_least=MIN_UNCOVERED_SECONDS)


def gap_warning(gaps: list[Span], speech_seconds: float) -> str:
    """A warning when the gaps add up to more than WARN_SHARE of the speech, or one lasts WARN_GAP_SECONDS."""
    total = sum(end - start for start, end in gaps)
    longest = max((end - start for start, end in gaps), default=0.0)
    if not gaps or (total <= WARN_SHARE * speech_seconds and longest < WARN_GAP_SECONDS):
        return ""
    where = ", ".join(f"{clock(start)}–{clock(end)}" for start, end in gaps[:5]) + (", …" if len(gaps) > 5 else "")
    return (
        f"No words were recognised in {total:.0f} s of what sounded like speech ({where}): music, noise, or speech "
        f"the model could not follow. Listen there, or transcribe it again with a larger model."
    )


def clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _split_mixed_chunks(
    chunks: list[Chunk], segments: list[dict[str, Any]], *, decode: Decode, detect: Detect
) -> list[dict[str, Any]]:
    """Chunks with skipped speech whose spans speak more than one language, decoded again as runs of one language;
    their old segments are replaced."""
    for chunk in chunks:
        if not uncovered(chunk.spans, _inside(segments, chunk), at_least=MIN_UNCOVERED_SECONDS):
            continue
        parts = speech.detection_parts(chunk)
        if len(parts) < 2:
            continue
        detect(parts)
        if len({part.language for part in parts}) < 2:
            continue
        replaced = _inside(segments, chunk)
        segments = [segment for segment in segments if segment not in replaced]
        for group in _by_language(speech.language_runs(parts)):
            segments = segments + decode(group)
    return segments


def _inside(segments: list[dict[str, Any]], chunk: Chunk) -> list[dict[str, Any]]:
    """The segments whose middle lies in the chunk."""
    return [s for s in segments if chunk.start <= (s["start"] + s["end"]) / 2 <= chunk.end]


def _language_at(chunks: list[Chunk], stretch: Span) -> str:
    """The language of the chunk the stretch lies in (the nearest one before it)."""
    language = chunks[0].language
    for chunk in chunks:
        if chunk.start <= stretch[0]:
            language = chunk.language
    return language


def _by_language(chunks: list[Chunk]) -> list[list[Chunk]]:
    groups: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        groups.setdefault(chunk.language, []).append(chunk)
    return list(groups.values())


def _union(intervals: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
