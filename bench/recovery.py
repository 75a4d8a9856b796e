"""Job recovery benchmark: from the death of the process running a job to the job running again, with the defaults.

The defaults: a heartbeat every 10 s, a runner silent for 60 s is dead, every worker (and the embedded server)
sweeps every 30 s, and the Redis broker's visibility timeout is the time limit + 30 min (4.5 h), so it is the
sweep, not the broker, that brings the job back. What it measures, with real processes:
- a worker killed (kill -9) mid-job, its job taken up by a worker on another machine: on Redis, and on RabbitMQ
  when it is reachable on 127.0.0.1:5672. The workers pose as two machines with a host name each
  (unshare --uts, which needs root), so only the job's heartbeat tells that its worker died; bound 60 + 30 s;
- the same with both workers on one host, where the dead pid is seen at once: bound the sweep's 30 s;
- the embedded server (`make run`) killed mid-job and started again: from the new start to the job running.
"Running again" is when a live process has claimed the job for its second start (the row names it, attempts 2);
each case then waits for the job to finish and checks it made its transcript.

How: tests/live_workers.py's cluster (Daphne, `make worker`'s Celery command) on PostgreSQL (a database of its
own, dropped at the end; DATABASE_URL, by default the local server) and Redis db 10. Whisper is tiny.en on one
thread: recovery does not depend on the model. One run per case; a death falls anywhere in the heartbeat and sweep
periods, so a case lands anywhere below its bound. Every wait is bounded and every process is stopped by PID.
About 8 minutes on 2 CPUs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
WORK = Path(tempfile.mkdtemp(prefix="videoagent-recoverybench-"))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
# tests.live_workers imports the suite's conftest, whose factories import models, so Django is set up here.
os.environ.update({"DJANGO_SETTINGS_MODULE": "videoagent.settings", "VIDEOAGENT_DATA_DIR": str(WORK / "bench")})

import django  # noqa: E402

django.setup()

import pytest  # noqa: E402

from tests import live_workers  # noqa: E402
from tests.live_server import daphne_server, running_daphne  # noqa: E402
from tests.live_workers import (  # noqa: E402
    celery_worker,
    claimed_again_by,
    cluster_environment,
    jobs,
    kill_the_transcribing_worker,
    rabbitmq_broker,
    require_other_machines,
    runner_pid,
    served_files,
    submit_transcription,
    user_session_and_token,
    wait_for,
    web_server,
)
from tests.media import LONG_PARAGRAPHS, spoken_mp4  # noqa: E402

# Never the db of the cluster tests (11) or of the cluster bench (14), which empty theirs.
live_workers.CLUSTER_REDIS_DB = 10
QUICK_WHISPER = {"WHISPER_DECODING": "sequential"}  # with cluster_environment's tiny.en on one thread
ACTIVE = {"queued", "downloading", "transcribing"}


@dataclass
class Recovery:
    case: str
    bound: str
    running_again: float | None = None  # seconds from the death (or the new start) to the job's second claim
    done: float | None = None  # seconds from the same moment to the job done, with its transcript
    skipped: str = ""


def submit(web: str, token: str, source: str) -> None:
    status, body = submit_transcription(web, token, source)
    if status != 202:
        raise RuntimeError(f"submit answered {status}: {body}")


def finished(environment: dict[str, str]) -> dict[str, object]:
    """The one job once it has ended; RuntimeError unless it is done, on its second start, with its transcript."""
    (job,) = wait_for(
        lambda: [row for row in jobs(environment) if row["status"] not in ACTIVE] or None,
        timeout=240,
        what="the job to end",
        interval=0.5,
    )
    if job["status"] != "done" or job["attempts"] != 2 or not job["transcript_id"]:
        raise RuntimeError(f"the job did not finish on its second start: {job}")
    return job


def worker_killed(talk: str, case: str, *, machines: bool, broker: str = "") -> Recovery:
    """Two workers (on two machines, or one host), kill -9 of the one transcribing: its job on the other."""
    bound = "60 + 30 s" if machines else "30 s"
    directory = WORK / case.replace(" ", "-").replace(",", "")
    directory.mkdir()
    with contextlib.ExitStack() as stack:
        try:
            if machines:
                require_other_machines()
            settings = dict(QUICK_WHISPER)
            if broker == "rabbitmq":
                settings["CELERY_BROKER_URL"] = stack.enter_context(rabbitmq_broker())
        except pytest.skip.Exception as skipped:
            return Recovery(case, bound, skipped=str(skipped))
        print(f"{case}: a worker killed mid-job", flush=True)
        environment = stack.enter_context(cluster_environment(directory, **settings))
        web = stack.enter_context(web_server(environment, directory / "web.log"))
        one, two = (
            stack.enter_context(
                celery_worker(environment, directory / f"{name}.log", name, machine=f"box-{name}" if machines else "")
            )
            for name in ("one", "two")
        )
        _, token = user_session_and_token(environment)
        submit(web, token, talk)
        _, survivor, killed_at = kill_the_transcribing_worker(environment, (one, two))
        wait_for(lambda: claimed_again_by(environment, survivor), timeout=180, what="the job to run again")
        running_again = time.monotonic() - killed_at
        job = finished(environment)
        assert runner_pid(job) == survivor.pid
        return Recovery(case, bound, running_again, time.monotonic() - killed_at)


def embedded_server_killed(talk: str) -> Recovery:
    """`make run`'s one process killed mid-job and started again on the same data: its job resumes."""
    case = "embedded server killed, started again"
    print(f"{case}: kill -9 mid-job, then the next start", flush=True)
    settings = {**QUICK_WHISPER, "TRANSCRIPTION_RUNNER": "local", "WHISPER_MODEL": "tiny.en"}
    settings |= {"WHISPER_MODELS": "tiny.en", "WHISPER_LANGUAGE_DETECTOR": "", "WHISPER_CPU_THREADS": "1"}
    with daphne_server(WORK / "embedded", **settings) as server:
        environment = server.environment
        _, token = user_session_and_token(environment)
        submit(server.url, token, talk)
        wait_for(lambda: jobs(environment)[0]["status"] == "transcribing", timeout=120, what="the job to transcribe")
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=10)
        starting = time.monotonic()
        port = int(server.url.rsplit(":", 1)[1])
        with running_daphne(environment, port, WORK / "embedded" / "daphne-again.log") as again:
            wait_for(lambda: claimed_again_by(environment, again), timeout=60, what="the job to start again")
            running_again = time.monotonic() - starting
            finished(environment)
            return Recovery(case, "the server's start", running_again, time.monotonic() - starting)


@contextlib.contextmanager
def talk_served() -> Iterator[str]:
    """A talk of about a minute and a half (espeak-ng), served over HTTP on 127.0.0.1; its URL."""
    media = WORK / "media"
    media.mkdir()
    spoken_mp4([("en-us", text) for text in LONG_PARAGRAPHS], media / "talk.mp4")
    with served_files(media) as url:
        yield f"{url}/talk.mp4"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--keep", action="store_true", help="keep the logs and data directory")
    args = parser.parse_args()
    began = time.monotonic()
    try:
        with talk_served() as talk:
            results = [
                worker_killed(talk, "Redis broker, workers on two machines", machines=True),
                worker_killed(talk, "RabbitMQ broker, workers on two machines", machines=True, broker="rabbitmq"),
                worker_killed(talk, "Redis broker, workers on one host", machines=False),
                embedded_server_killed(talk),
            ]
    except BaseException:
        print(f"Logs and data kept in {WORK}", file=sys.stderr)
        raise

    print(f"\n# VideoAgent job recovery: {os.cpu_count()} CPUs, default heartbeat, sweep and visibility timeout\n")
    print("| the process running a job dies | bound | running again after | done after (tiny.en) |")
    print("| --- | --- | --- | --- |")
    for result in results:
        if result.skipped:
            print(f"| {result.case} | {result.bound} | not measured: {result.skipped} | |")
        else:
            print(f"| {result.case} | {result.bound} | {result.running_again:.1f} s | {result.done:.1f} s |")
    print("\nFrom the kill; for the embedded server, from its next start (the sweep at start resumes the job).")
    print(f"\nTotal run time {time.monotonic() - began:.0f} s.")
    if args.keep:
        print(f"Logs and data kept in {WORK}")
    else:
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
