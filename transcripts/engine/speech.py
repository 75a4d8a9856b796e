"""Where the speech is and which language each part speaks: voice activity, 30-second chunks, language per chunk.

Whisper decodes 30-second windows, and faster-whisper detects one language per recording (or per window), so a
recording that changes language loses the part in the second language. Here the voice activity detector (VAD)
finds the phrases, phrases are merged into chunks of at most 30 s, and each chunk's language is detected alone. A
chunk whose language is unsure (two languages inside one window) is split at the VAD's pauses and each part detected
again. Consecutive chunks of one language then form runs that the decoder takes in one language each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from faster_whisper.audio import pad_or_trim
from faster_whisper.vad import VadOptions, get_speech_timestamps

SAMPLE_RATE = 16_000
WINDOW_SECONDS = 30.0  # Whisper's input window
MIN_DETECT_SECONDS = 1.0  # shorter parts are too short to tell their language; they take their neighbour's
# An unsure chunk is split into parts of at least this much speech: shorter ones were measured too unsure to tell
# (a 2.4 s part of synthetic German read en 0.52), longer ones would hide a sentence in the other language.
DETECT_PART_SECONDS = 3.0
# A chunk is unsure, and its parts are detected one by one, when its top language is under UNSURE_BELOW or its
# second language reaches SECOND_LANGUAGE_FROM. Measured with base: a window of 5 s English, 15 s German, 6 s
# English read en 0.587 / de 0.407; German, English, German read de 0.948 / en 0.049; single-language speech gave
# a second language of 0.0003–0.015 (JFK: en 0.946, la 0.005). A part's own detection counts from PART_SURE_FROM.
UNSURE_BELOW = 0.9
SECOND_LANGUAGE_FROM = 0.02
PART_SURE_FROM = 0.5

Span = tuple[float, float]  # seconds


@dataclass
class Chunk:
    """A stretch of audio of at most 30 s that the decoder takes as one window."""

    spans: list[Span]  # the VAD's speech spans inside it, in seconds
    language: str = ""
    probability: float = 0.0
    detected: dict[str, float] = field(default_factory=dict)

    @property
    def start(self) -> float:
        return self.spans[0][0]

    @property
    def end(self) -> float:
        return self.spans[-1][1]

    @property
    def seconds(self) -> float:
        return self.end - self.start


def speech_spans(audio: np.ndarray, *, vad_filter: bool) -> list[Span]:
    """The speech in the audio as (start, end) seconds: VAD phrases, or fixed windows when VAD is off."""
    duration = len(audio) / SAMPLE_RATE
    if not vad_filter:
        edges = np.arange(0.0, duration, WINDOW_SECONDS)
        return [(float(start), float(min(start + WINDOW_SECONDS, duration))) for start in edges]
    # The same VAD settings as faster-whisper's batched pipeline: short silences split phrases finely.
    options = VadOptions(max_speech_duration_s=WINDOW_SECONDS, min_silence_duration_ms=160)
    return [(item["start"] / SAMPLE_RATE, item["end"] / SAMPLE_RATE) for item in get_speech_timestamps(audio, options)]


def merge_spans(spans: list[Span], *, max_seconds: float = WINDOW_SECONDS) -> list[Chunk]:
    """Group consecutive spans into chunks no longer than one window, from the first span's start to the last's end."""
    chunks: list[Chunk] = []
    for span in spans:
        if chunks and span[1] - chunks[-1].start <= max_seconds:
            chunks[-1].spans.append(span)
        else:
            chunks.append(Chunk(spans=[span]))
    return chunks


def detection_parts(chunk: Chunk) -> list[Chunk]:
    """The chunk's VAD spans, each joined to the next until it lasts DETECT_PART_SECONDS.

    Split at the VAD's spans, not only at long pauses: its padding makes spans touch across pauses under 0.8 s,
    and a speaker who switches language rarely pauses longer than that.
    """
    parts: list[Chunk] = []
    for span in chunk.spans:
        if parts and parts[-1].seconds < DETECT_PART_SECONDS:
            parts[-1].spans.append(span)
        else:
            parts.append(Chunk(spans=[span]))
    if len(parts) > 1 and parts[-1].seconds < DETECT_PART_SECONDS:
        parts[-2].spans.extend(parts.pop().spans)
    return parts


def is_unsure(chunk: Chunk) -> bool:
    """Whether the chunk's detection hints at a second language inside it."""
    second = sorted(chunk.detected.values(), reverse=True)[1:2]
    return chunk.probability < UNSURE_BELOW or bool(second and second[0] >= SECOND_LANGUAGE_FROM)


def clip(audio: np.ndarray, chunk: Chunk) -> np.ndarray:
    return audio[int(chunk.start * SAMPLE_RATE) : int(chunk.end * SAMPLE_RATE)]


def detect_languages(
    model: Any, audio: np.ndarray, chunks: list[Chunk], *, batch_size: int, on_batch: Callable[[int], None]
) -> None:
    """Set each chunk's language: one encoder pass per chunk, in batches. on_batch(number of chunks done)."""
    for first in range(0, len(chunks), batch_size):
        batch = chunks[first : first + batch_size]
        features = np.stack([pad_or_trim(model.feature_extractor(clip(audio, chunk))[..., :-1]) for chunk in batch])
        results = model.model.detect_language(model.encode(features))
        for chunk, ranking in zip(batch, results, strict=True):
            chunk.detected = {token[2:-2]: float(probability) for token, probability in ranking[:3]}
            chunk.language, chunk.probability = next(iter(chunk.detected.items()))
        on_batch(first + len(batch))


def refine_unsure(model: Any, audio: np.ndarray, chunks: list[Chunk], *, batch_size: int) -> list[Chunk]:
    """Unsure chunks split into parts (at the VAD's pauses) that each carry their own detected language."""
    refined: list[Chunk] = []
    for chunk in chunks:
        parts = detection_parts(chunk)
        if len(parts) < 2 or not is_unsure(chunk):
            refined.append(chunk)
            continue
        detect_languages(model, audio, parts, batch_size=batch_size, on_batch=lambda done: None)
        for index, part in enumerate(parts):
            if part.probability < PART_SURE_FROM:  # too unsure alone: the previous part's language, else the chunk's
                previous = parts[index - 1] if index else chunk
                part.language, part.probability = previous.language, chunk.probability
        refined.extend(parts)
    return refined


def language_runs(chunks: list[Chunk]) -> list[Chunk]:
    """Neighbouring chunks of one language joined again into windows of at most 30 s, in order."""
    runs: list[Chunk] = []
    for chunk in chunks:
        last = runs[-1] if runs else None
        if last is not None and last.language == chunk.language and chunk.end - last.start <= WINDOW_SECONDS:
            last.spans.extend(chunk.spans)
            last.probability = min(last.probability, chunk.probability)
        else:
            runs.append(Chunk(spans=list(chunk.spans), language=chunk.language, probability=chunk.probability))
    return runs


PROGRESS_STEPS = 4  # decoding steps that progress reports on media of fewer than 4 × batch_size chunks


def decoding_groups(chunks: list[Chunk], *, batch_size: int) -> Iterator[list[Chunk]]:
    """Consecutive chunks of one language, a few at a time, so that progress moves while the decoder works.

    Groups hold at most batch_size chunks (the batched decoder's unit of work) and fewer on short media, so that
    even a three-minute clip reports four steps. Not more: each group is a pass of the decoder, and smaller groups
    fill its batches less (bench: a 204 s clip of 7 chunks took 13.2 s in groups of one, 10.9 s in groups of
    two, 9.2 s in one group).
    """
    size = max(1, min(batch_size, -(-len(chunks) // PROGRESS_STEPS)))
    group: list[Chunk] = []
    for chunk in chunks:
        if group and (len(group) == size or chunk.language != group[0].language):
            yield group
            group = []
        group.append(chunk)
    if group:
        yield group
