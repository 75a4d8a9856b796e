"""Coverage benchmark: what the check that no speech goes missing costs, and what it gets back.

1. Single-language media (base and tiny.en, batched): seconds with the check against the same path without it.
2. Recordings that switch language inside one window, and one with 10 s of babble: the speech the first pass left
   without words, what the check got back, and the gaps it reported; with the default path, and with the split of
   unsure chunks turned off (so that the check alone has to find the other language).
Run with `make bench` (`--runs 3` for medians of three). The engine is plain Python, so no Django is set up here.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.media import (  # noqa: E402
    ENGLISH_GERMAN_ENGLISH,
    GERMAN_ENGLISH_GERMAN,
    LONG_PARAGRAPHS,
    real_speech_mp4,
    spoken_mp4,
)
from transcripts.engine import coverage, speech, whisper  # noqa: E402
from transcripts.engine.whisper import EngineConfig, transcribe_file  # noqa: E402

DATA = REPO / "tests" / "data"
WORK = Path(tempfile.mkdtemp(prefix="videoagent-bench-coverage-"))
CACHE = REPO / "data" / "models"
ORIGINAL_RECOVER = coverage.recover
ORIGINAL_REFINE = speech.refine_unsure


@contextmanager
def patched(*, check: bool = True, refine: bool = True, seen: list[float] | None = None) -> Iterator[None]:
    """The engine with the coverage check or the split of unsure chunks off; `seen` gets the first pass's
    uncovered seconds."""

    def recover(chunks: list[speech.Chunk], segments: list[dict[str, Any]], **kwargs: Any) -> Any:
        if seen is not None:
            spans = [span for chunk in chunks for span in chunk.spans]
            lost = coverage.uncovered(spans, segments, at_least=coverage.MIN_UNCOVERED_SECONDS)
            seen.append(sum(end - start for start, end in lost))
        return ORIGINAL_RECOVER(chunks, segments, **kwargs) if check else (segments, [])

    coverage.recover = recover
    speech.refine_unsure = ORIGINAL_REFINE if refine else (lambda model, audio, chunks, batch_size: chunks)
    try:
        yield
    finally:
        coverage.recover, speech.refine_unsure = ORIGINAL_RECOVER, ORIGINAL_REFINE


def median_seconds(path: Path, config: EngineConfig, runs: int) -> tuple[float, whisper.TranscriptionResult]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = transcribe_file(path, config)
        times.append(time.perf_counter() - started)
    assert result is not None
    return statistics.median(times), result


def single_language_cost(clips: list[Path], runs: int) -> None:
    print("\n## What the check costs on single-language media (batched, language detected)\n")
    print("| model | clip | without the check | with it | ratio | gaps |")
    print("| --- | --- | --- | --- | --- | --- |")
    for model in ("base", "tiny.en"):
        config = EngineConfig(model=model, cache_dir=CACHE)
        transcribe_file(DATA / "jfk.flac", config)  # warm-up: model load
        for path in clips:
            with patched(check=False):
                without, _ = median_seconds(path, config, runs)
            with patched(check=True):
                with_check, result = median_seconds(path, config, runs)
            print(
                f"| {model} | {path.name} ({result.duration:.0f} s) | {without:.1f} s | {with_check:.1f} s | "
                f"{with_check / without:.2f}× | {sum(end - start for start, end in result.gaps):.1f} s |"
            )


def recovered_speech(clips: list[Path], runs: int) -> None:
    print("\n## What it gets back (base, batched)\n")
    print("| clip | path | seconds | first pass without words | gaps left | languages in order |")
    print("| --- | --- | --- | --- | --- | --- |")
    config = EngineConfig(model="base", cache_dir=CACHE)
    for path in clips:
        for label, refine in (("default", True), ("unsure split off", False)):
            seen: list[float] = []
            with patched(refine=refine, seen=seen):
                seconds, result = median_seconds(path, config, runs)
            runs_of = [
                s["language"]
                for i, s in enumerate(result.segments)
                if i == 0 or result.segments[i - 1]["language"] != s["language"]
            ]
            print(
                f"| {path.name} | {label} | {seconds:.1f} | {seen[-1]:.1f} s | "
                f"{sum(end - start for start, end in result.gaps):.1f} s | {', '.join(runs_of)} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    source = DATA / "multilingual.mp3"
    talk = spoken_mp4([("en-us", text) for text in LONG_PARAGRAPHS], WORK / "talk.mp4", pause_seconds=1.5)
    mixed = [
        real_speech_mp4(source, WORK / "en-de-en.mp4", ENGLISH_GERMAN_ENGLISH),
        real_speech_mp4(source, WORK / "de-en-de.mp4", GERMAN_ENGLISH_GERMAN),
        real_speech_mp4(source, WORK / "babble.mp4", [("en-a", 0.5), ("en-c", 0.5)], babble_seconds=10),
    ]
    print(f"# VideoAgent coverage benchmark: {os.cpu_count()} CPUs, int8, beam 5, {args.runs} run(s) each")
    single_language_cost([DATA / "jfk.flac", talk], args.runs)
    recovered_speech(mixed, args.runs)


if __name__ == "__main__":
    main()
