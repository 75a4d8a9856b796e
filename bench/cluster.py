"""Cluster benchmark: transcription on Celery workers, beside the embedded runner of today, with real processes.

What it measures on this machine:
- throughput, in minutes of audio per minute of wall time, of N jobs (default 8) of an 84 s clip with 1 worker and
  with 2 workers: the sum of the transcripts' durations over the time from the first submit to the last finish;
- the web process's largest event-loop stall while the workers transcribe, measured as bench/chat.py does: a cheap
  GET of /login/ every 20 ms; its p99 and max, and max less the median of the same request at rest. The same for
  the embedded mode (TRANSCRIPTION_RUNNER=local: the one Daphne runs Whisper itself), and for one worker on one CPU
  thread, which leaves the web process a core of its own as workers on other machines would;
- time from submit to a worker starting the job (job.started_at - job.created_at) on an idle cluster;
- the worker's resident memory: at rest with the model loaded (VmRSS) and its peak over the run (VmHWM);
- beside each run, what a browser on the jobs page received: the progress events the web process relayed to its
  websocket, and whether the server closed the socket.

How: tests/live_workers.py starts Daphne and Celery workers (`--pool threads --concurrency 1`, as `make worker`)
on PostgreSQL (a database of their own, dropped at the end; DATABASE_URL, by default the local server) and the real
Redis on 127.0.0.1:6379 (db 14). Jobs are submitted over REST with a token, the clip (espeak-ng speech) is served
over HTTP on 127.0.0.1, and job rows are read from PostgreSQL. Whisper settings are the product's defaults (base,
its language detector, CTranslate2's own thread count) unless told otherwise. Every wait is bounded and every
process is stopped when its context ends. About 5 minutes on 2 CPUs; `--model tiny.en` is quicker.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
WORK = Path(tempfile.mkdtemp(prefix="videoagent-clusterbench-"))
# The cluster needs PostgreSQL (one database shared by every process); cluster_environment creates its own next to
# the one named here and derives the admin URL from it.
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
# tests.live_workers imports the suite's conftest, whose factories import models, so Django must be set up here,
# with a data directory of this script's own (the processes it starts get the cluster's).
os.environ.update({"DJANGO_SETTINGS_MODULE": "videoagent.settings", "VIDEOAGENT_DATA_DIR": str(WORK / "bench")})

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from tests import live_workers  # noqa: E402
from tests.live_workers import (  # noqa: E402
    celery_worker,
    cluster_environment,
    served_files,
    submit_transcription,
    user_session_and_token,
    wait_for,
    web_server,
)
from tests.media import LONG_PARAGRAPHS, read_audio, spoken_mp4  # noqa: E402
from transcripts.engine.models import assembled_base  # noqa: E402

# The cluster tests use db 11 and empty it; the bench must never empty theirs while they run on this machine.
live_workers.CLUSTER_REDIS_DB = 14
# cluster_environment's one-thread tiny.en keeps the tests quick; the bench runs the product's defaults instead, so
# these are removed from the processes' environment (job timings are the defaults already).
TEST_ONLY_SETTINGS = ("WHISPER_MODELS", "WHISPER_LANGUAGE_DETECTOR", "WHISPER_CPU_THREADS")
PROBE_INTERVAL = 0.02  # seconds between two GETs of the latency probe, as in bench/chat.py
QUIET_SECONDS = 2.0
SHORT_RUN_JOBS = 2  # the embedded and one-thread runs: about 20 s or more of latency samples each
IDLE_SUBMITS = 5
ACTIVE = {"queued", "downloading", "transcribing"}
JOBS_SQL = """
select j.status, j.error, j.created_at, j.started_at, j.finished_at, coalesce(t.duration, 0)
from transcripts_transcriptionjob j left join transcripts_transcript t on t.id = j.transcript_id
where j.id = any(%s::uuid[])
"""


@dataclass
class JobRow:
    status: str
    error: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration: float


@dataclass
class Watch:
    """What a browser on the jobs page saw: the progress events the web process relayed to its websocket."""

    events: int = 0
    closed_by_server_after: float | None = None  # seconds after connecting, when the server ended the socket


@dataclass
class Batch:
    """N jobs run to the end, and what the web server's latency probe saw meanwhile."""

    label: str
    rows: list[JobRow]
    quiet: list[float]
    busy: list[float]
    watch: Watch

    @property
    def audio_seconds(self) -> float:
        return sum(row.duration for row in self.rows)

    @property
    def wall_seconds(self) -> float:
        finished = max(row.finished_at for row in self.rows if row.finished_at)
        return (finished - min(row.created_at for row in self.rows)).total_seconds()

    @property
    def stall(self) -> float:
        """The largest wait beyond a request's usual time: a bound on the longest event-loop stall."""
        return max(0.0, max(self.busy) - percentile(self.quiet, 0.5))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def memory_mb(pid: int, field: str) -> float:
    """VmRSS (resident now) or VmHWM (the most it has been resident) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


class LatencyProbe:
    """GET `url` every 20 ms in a background thread. The server answers at once unless its event loop (or the CPU)
    is busy, so the slowest answers show the stalls."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.latencies: list[float] = []
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="latency-probe", daemon=True)

    def __enter__(self) -> LatencyProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=35)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(self.url, timeout=30) as response:  # loopback only
                    response.read()
                self.latencies.append(time.perf_counter() - started)
            except OSError:
                self.failures += 1
            self._stop.wait(PROBE_INTERVAL)


def quiet_latencies(url: str) -> list[float]:
    with LatencyProbe(url) as probe:
        time.sleep(QUIET_SECONDS)
    return probe.latencies


@contextlib.contextmanager
def watching(web: str, session_key: str) -> Iterator[Watch]:
    watch, leaving = Watch(), threading.Event()
    url = web.replace("http://", "ws://") + "/ws/jobs/"
    with connect(url, origin=web, additional_headers={"Cookie": f"sessionid={session_key}"}) as websocket:
        connected = time.monotonic()

        def read() -> None:
            with contextlib.suppress(ConnectionClosed):
                for _ in websocket:
                    watch.events += 1
            if not leaving.is_set():
                watch.closed_by_server_after = time.monotonic() - connected

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            yield watch
        finally:
            leaving.set()
    reader.join(timeout=5)


def submit(web: str, token: str, source: str) -> str:
    """POST /api/transcriptions as an API client would; the job id."""
    status, body = submit_transcription(web, token, source)
    if status != 202:
        raise RuntimeError(f"submit answered {status}: {body}")
    return body["id"]


def job_rows(environment: dict[str, str], ids: list[str]) -> list[JobRow]:
    with psycopg.connect(environment["DATABASE_URL"]) as connection:
        return [JobRow(*row) for row in connection.execute(JOBS_SQL, (ids,)).fetchall()]


def wait_until_ended(environment: dict[str, str], ids: list[str], timeout: float) -> list[JobRow]:
    """The jobs' rows once none is queued or running; RuntimeError if one of them did not end done."""

    def ended() -> list[JobRow] | None:
        rows = job_rows(environment, ids)
        return rows if len(rows) == len(ids) and all(row.status not in ACTIVE for row in rows) else None

    rows: list[JobRow] = wait_for(ended, timeout=timeout, what=f"{len(ids)} jobs to end", interval=0.5)
    failed = [row.error for row in rows if row.status != "done"]
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(rows)} jobs did not succeed: {failed[:3]}")
    return rows


@dataclass
class Bench:
    """The running cluster's shared environment, the bench user and the clip its jobs transcribe."""

    environment: dict[str, str]
    session_key: str
    token: str
    media_url: str
    clip_seconds: float
    batches: int = 0

    def run_batch(self, label: str, web: str, count: int) -> Batch:
        """Submit `count` jobs of the clip at once, probing the web server until all have ended."""
        page = f"{web}/login/"
        quiet = quiet_latencies(page)
        print(f"{label}: {count} jobs of the clip", flush=True)
        with watching(web, self.session_key) as watch, LatencyProbe(page) as probe:
            # Different query strings: each is a source of its own, as N users' uploads would be.
            self.batches += 1
            clip = f"{self.media_url}/talk.mp4?batch-{self.batches}"
            ids = [submit(web, self.token, f"{clip}-job-{index}") for index in range(count)]
            # Bounded by a pace no machine that runs this should fall below (half real time per job), plus start-up.
            rows = wait_until_ended(self.environment, ids, timeout=60 + count * self.clip_seconds / 2)
        if probe.failures:
            print(f"  warning: {probe.failures} probe requests failed", flush=True)
        return Batch(label, rows, quiet, probe.latencies, watch)

    def idle_start_delays(self, web: str) -> list[float]:
        """Submit one short job at a time to an idle cluster; seconds from each job's creation to a worker
        starting it (the broker's delivery and the claim)."""
        delays = []
        for index in range(IDLE_SUBMITS):
            job_id = submit(web, self.token, f"{self.media_url}/jfk.flac?idle-{index}")
            (row,) = wait_until_ended(self.environment, [job_id], timeout=120)
            assert row.started_at is not None
            delays.append((row.started_at - row.created_at).total_seconds())
        return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model", default="base", help="WHISPER_MODEL of every process (default: base)")
    parser.add_argument("--jobs", type=int, default=8, help="jobs per throughput run (default: 8)")
    parser.add_argument("--cpu-threads", type=int, help="WHISPER_CPU_THREADS (default: CTranslate2 picks)")
    parser.add_argument("--keep", action="store_true", help="keep the logs and data directory")
    args = parser.parse_args()
    began = time.monotonic()

    media = WORK / "media"
    media.mkdir()
    shutil.copyfile(REPO / "tests" / "data" / "jfk.flac", media / "jfk.flac")
    samples, rate = read_audio(spoken_mp4([("en-us", text) for text in LONG_PARAGRAPHS], media / "talk.mp4"))
    # Base is both a model and the language detector; join its files now, so no measured process spends its time
    # copying 145 MB (a fresh data directory would otherwise do it on the first load).
    assembled_base(WORK / "data" / "models")

    try:
        with served_files(media) as media_url, cluster_environment(WORK, WHISPER_MODEL=args.model) as environment:
            for name in TEST_ONLY_SETTINGS:
                environment.pop(name, None)
            if args.cpu_threads is not None:
                environment["WHISPER_CPU_THREADS"] = str(args.cpu_threads)
            with web_server(environment, WORK / "web.log") as web:
                session_key, token = user_session_and_token(environment)
                bench = Bench(environment, session_key, token, media_url, len(samples) / rate)

                # Today's mode first, while no worker exists: this web server runs the jobs in its own threads.
                embedded_environment = {**environment, "TRANSCRIPTION_RUNNER": "local"}
                with web_server(embedded_environment, WORK / "web-embedded.log") as embedded:
                    batches = [bench.run_batch("embedded: 1 Daphne runs Whisper", embedded, SHORT_RUN_JOBS)]

                with celery_worker(environment, WORK / "worker-1.log", "one") as worker_1:
                    at_rest = memory_mb(worker_1.pid, "VmRSS")
                    print("idle cluster: submit → start, one job at a time", flush=True)
                    delays = bench.idle_start_delays(web)
                    batches.append(bench.run_batch("Celery, 1 worker", web, args.jobs))
                    with celery_worker(environment, WORK / "worker-2.log", "two") as worker_2:
                        batches.append(bench.run_batch("Celery, 2 workers", web, args.jobs))
                        peaks = [memory_mb(worker.pid, "VmHWM") for worker in (worker_1, worker_2)]

                # Above, the workers keep both cores busy, so the web process waits for CPU, not for its event loop.
                # A worker on one thread leaves a core to the web process, as workers on other machines would.
                one_thread = {**environment, "WHISPER_CPU_THREADS": "1"}
                with celery_worker(one_thread, WORK / "worker-3.log", "one-thread"):
                    label = "Celery, 1 worker on 1 CPU thread (a core left to the web)"
                    batches.append(bench.run_batch(label, web, SHORT_RUN_JOBS))
    except BaseException:
        print(f"Logs and data kept in {WORK}", file=sys.stderr)
        raise

    threads = "CTranslate2's choice of" if args.cpu_threads is None else str(args.cpu_threads)
    print(
        f"\n# VideoAgent cluster benchmark: {os.cpu_count()} CPUs, Whisper {args.model}, {threads} CPU threads "
        f"per process unless said, clip of {bench.clip_seconds:.0f} s\n"
    )
    print_results(batches, delays, at_rest, peaks)
    print(f"\nTotal run time {time.monotonic() - began:.0f} s.")
    if args.keep:
        print(f"Logs and data kept in {WORK}")
    else:
        shutil.rmtree(WORK, ignore_errors=True)


def print_results(batches: list[Batch], delays: list[float], at_rest: float, peaks: list[float]) -> None:
    print(
        "| runner | jobs | audio | wall | audio-min / wall-min | GET /login/ at rest: median "
        "| while jobs run: p99 / max | largest stall ≤ | jobs page websocket |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for batch in batches:
        watch = batch.watch
        socket = f"{watch.events} events"
        if watch.closed_by_server_after is not None:
            socket += f", then closed by the server after {watch.closed_by_server_after:.0f} s"
        print(
            f"| {batch.label} | {len(batch.rows)} | {batch.audio_seconds / 60:.1f} min | {batch.wall_seconds:.0f} s "
            f"| {batch.audio_seconds / batch.wall_seconds:.1f} | {percentile(batch.quiet, 0.5) * 1000:.0f} ms "
            f"| {percentile(batch.busy, 0.99) * 1000:.0f} / {max(batch.busy) * 1000:.0f} ms "
            f"| {batch.stall * 1000:.0f} ms | {socket} |"
        )
    print(f"\n| idle cluster, {IDLE_SUBMITS} jobs of jfk.flac one at a time | p50 | max |")
    print("| --- | --- | --- |")
    print(
        f"| submit → a worker starts the job (started_at − created_at) | {percentile(delays, 0.5) * 1000:.0f} ms "
        f"| {max(delays) * 1000:.0f} ms |"
    )
    print("\n| worker memory | at rest, model loaded (VmRSS) | peak over the run (VmHWM) |")
    print("| --- | --- | --- |")
    print(f"| worker one (idle, 1- and 2-worker runs) | {at_rest:.0f} MB | {peaks[0]:.0f} MB |")
    print(f"| worker two (2-worker run) | | {peaks[1]:.0f} MB |")


if __name__ == "__main__":
    main()
