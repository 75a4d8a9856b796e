"""Transcription benchmark: base against tiny.en, batched against sequential decoding, and what languages cost.

For each model and clip: real-time factor (seconds of media per second of work, higher is faster), WER against the
reference words, and the peak resident memory of the process (it counts CTranslate2's native allocations). Then,
with base: automatic language detection per chunk (the default) against a fixed language, and faster-whisper's own
`multilingual=True` against a fixed language, with how much of multilingual.mp3 each keeps.
Clips: jfk.flac (11 s, real speech), multilingual.mp3 (60 s, English then German, real speech) and about 200 s of
varied synthetic speech with pauses (espeak-ng). Run with `make bench` (`--runs 3` for medians of three).
The engine is plain Python, so no Django is set up here.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.media import (  # noqa: E402
    JFK_WORDS,
    LICENCE_WORDS,
    LONG_PARAGRAPHS,
    MULTILINGUAL_ENGLISH_SECONDS,
    spoken_mp4,
    word_error_rate,
)
from transcripts.engine import whisper  # noqa: E402
from transcripts.engine.whisper import EngineConfig, transcribe_file  # noqa: E402

DATA = REPO / "tests" / "data"
WORK = Path(tempfile.mkdtemp(prefix="videoagent-bench-"))
CACHE = REPO / "data" / "models"  # where `make run` keeps the assembled base model


def reset_peak_memory() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # Linux: start a new VmHWM


def peak_memory_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed(path: Path, config: EngineConfig, runs: int, **options: str) -> tuple[float, whisper.TranscriptionResult]:
    """Median seconds over `runs`, and the last result."""
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = transcribe_file(path, config, **options)
        times.append(time.perf_counter() - started)
    assert result is not None
    return statistics.median(times), result


def english_part(result: whisper.TranscriptionResult, before: float) -> str:
    return " ".join(segment["text"] for segment in result.segments if segment["end"] <= before)


def compare_models(models: list[str], clips: list[tuple[Path, str, float]], runs: int) -> None:
    print("\n## Models and decodings (language detected per chunk, as by default)\n")
    print("| model | decoding | clip | RTF | WER | peak RSS |")
    print("| --- | --- | --- | --- | --- | --- |")
    for model in models:
        whisper._models.clear()  # measure each model alone
        gc.collect()
        for decoding in ("batched", "sequential"):
            config = EngineConfig(model=model, cache_dir=CACHE, decoding=decoding)
            reset_peak_memory()
            transcribe_file(DATA / "jfk.flac", config)  # warm-up: model load, first-call allocations
            for path, reference, english_until in clips:
                seconds, result = timed(path, config, runs)
                text = english_part(result, english_until) if english_until else result.text
                print(
                    f"| {model} | {decoding} | {path.name} ({result.duration:.0f} s) | "
                    f"{result.duration / seconds:.1f}× | {word_error_rate(reference, text) * 100:.1f} % | "
                    f"{peak_memory_mb():.0f} MB |"
                )


def language_costs(long_clip: Path, runs: int) -> None:
    from faster_whisper import BatchedInferencePipeline

    config = EngineConfig(model="base", cache_dir=CACHE)
    print("\n## What languages cost (base, batched)\n")
    print("| clip | run | seconds | RTF | last segment ends at | languages |")
    print("| --- | --- | --- | --- | --- | --- |")
    for path in (long_clip, DATA / "multilingual.mp3"):
        for label, options in (("detected per chunk", {}), ("fixed: en", {"language": "en"})):
            seconds, result = timed(path, config, runs, **options)
            print(
                f"| {path.name} | ours, {label} | {seconds:.1f} | {result.duration / seconds:.1f}× | "
                f"{result.segments[-1]['end']:.1f} s | {', '.join(result.languages)} |"
            )
        model = whisper.load_model(config)
        for label, options in (("multilingual=True", {"multilingual": True}), ("fixed: en", {"language": "en"})):
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                segments, info = BatchedInferencePipeline(model=model).transcribe(str(path), **options)
                segments = list(segments)
                times.append(time.perf_counter() - started)
            seconds = statistics.median(times)
            print(
                f"| {path.name} | faster-whisper, {label} | {seconds:.1f} | {info.duration / seconds:.1f}× | "
                f"{segments[-1].end:.1f} s | {info.language} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--models", nargs="+", default=["base", "tiny.en"])
    args = parser.parse_args()

    paragraphs = list(LONG_PARAGRAPHS * 2 + LONG_PARAGRAPHS[:2])
    long_clip = spoken_mp4([("en-us", text) for text in paragraphs], WORK / "talk.mp4", pause_seconds=1.5)
    clips = [
        (DATA / "jfk.flac", JFK_WORDS, 0.0),
        (DATA / "multilingual.mp3", LICENCE_WORDS, MULTILINGUAL_ENGLISH_SECONDS + 1),  # WER of the English half
        (long_clip, " ".join(paragraphs), 0.0),
    ]
    print(f"# VideoAgent transcription benchmark: {os.cpu_count()} CPUs, int8, beam 5, {args.runs} run(s) each")
    compare_models(args.models, clips, args.runs)
    whisper._models.clear()
    language_costs(long_clip, args.runs)


if __name__ == "__main__":
    main()
