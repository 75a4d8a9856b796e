"""Transcription benchmark: the whole job path against bare faster-whisper with identical settings.

Prints real-time factor (media seconds per second of work, higher is faster), job/bare ratio, memory, WER on
jfk.flac for tiny.en and base, and sequential vs BatchedInferencePipeline on a longer clip.
Run with `make bench` (or `.venv/bin/python bench/transcription.py --runs 5`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA_DIR = Path(tempfile.mkdtemp(prefix="videoagent-bench-"))
os.environ["VIDEOAGENT_DATA_DIR"] = str(DATA_DIR)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "videoagent.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.core.files import File  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from tests.media import JFK_WORDS, word_error_rate, write_mp4  # noqa: E402
from transcripts import progress, services  # noqa: E402
from transcripts.engine.whisper import load_model, transcribe_file  # noqa: E402
from transcripts.models import Transcript  # noqa: E402
from uploads.models import Upload  # noqa: E402

JFK = REPO / "tests" / "data" / "jfk.flac"


def memory_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MB, from /proc (counts CTranslate2's native allocations)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def long_clip(seconds: float) -> Path:
    """jfk.flac repeated into one long clip: real speech, long enough for the batched pipeline to matter."""
    from tests.media import read_audio

    samples, rate = read_audio(JFK)
    repeats = int(seconds // (len(samples) / rate)) + 1
    return write_mp4(DATA_DIR / "long.mp4", np.tile(samples, repeats)[: int(seconds * rate)], rate=rate)


def bare(path: Path, batched: bool) -> tuple[float, str, float]:
    """faster-whisper alone with the same settings as the service; returns (seconds, text, media duration)."""
    config = services.engine_config()
    from dataclasses import replace

    config = replace(config, batched_min_seconds=0.0 if batched else float("inf"))
    started = time.perf_counter()
    result = transcribe_file(path, config)
    return time.perf_counter() - started, result.text, result.duration


def job_path(path: Path, owner: object, batched: bool) -> tuple[float, str]:
    """The whole service: upload row, job row, probe, progress events, transcript row and files."""
    with path.open("rb") as handle:
        upload = Upload.objects.create(owner=owner, original_name=path.name, file=File(handle, name=path.name))
    threshold = 0.0 if batched else float("inf")
    with override_settings(WHISPER_BATCHED_MIN_SECONDS=threshold):
        started = time.perf_counter()
        job = services.run_job(services.create_job(owner=owner, source=str(upload.id)).id)
        elapsed = time.perf_counter() - started
    assert job.status == "done", job.error
    text = Transcript.objects.get(pk=job.transcript_id).text
    upload.delete()
    return elapsed, text


def compare(path: Path, owner: object, runs: int, batched: bool) -> None:
    bare(path, batched)  # warm-up: model load, first-call allocations
    bare_times, job_times = [], []
    duration = 0.0
    for _ in range(runs):  # interleaved, so drift (thermal, other load) hits both alike
        seconds, _, duration = bare(path, batched)
        bare_times.append(seconds)
        job_times.append(job_path(path, owner, batched)[0])
    bare_median, job_median = statistics.median(bare_times), statistics.median(job_times)
    label = "batched" if batched else "sequential"
    print(
        f"  {path.name} ({duration:.0f} s) {label:>10}: bare RTF {duration / bare_median:5.1f}x  "
        f"job RTF {duration / job_median:5.1f}x  job/bare time {job_median / bare_median:.3f}  "
        f"(median of {runs}: bare {bare_median:.2f} s, job {job_median:.2f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--long-seconds", type=float, default=180.0)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    owner = get_user_model().objects.create(username="bench")
    progress.send_event = lambda groups, event: None  # no websocket listeners in a benchmark
    clip = long_clip(args.long_seconds)
    print(f"VideoAgent transcription benchmark ({os.cpu_count()} CPUs), data in {DATA_DIR}")
    for model in ("tiny.en", "base"):
        with override_settings(WHISPER_MODEL=model):
            config = services.engine_config()
            load_model(config)
            print(f"\n{model} (beam {config.beam_size}, {config.compute_type or 'default'} compute, VAD on)")
            _, text, _ = bare(JFK, batched=False)
            print(f"  WER on jfk.flac: {word_error_rate(JFK_WORDS, text) * 100:.1f} %  ({text.strip()})")
            compare(JFK, owner, args.runs, batched=False)
            compare(clip, owner, args.runs, batched=False)
            compare(clip, owner, args.runs, batched=True)
            current, peak = memory_mb()
            print(f"  memory: RSS {current:.0f} MB now, peak {peak:.0f} MB (process, both models loaded so far)")


if __name__ == "__main__":
    main()
