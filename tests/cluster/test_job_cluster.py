"""Transcription on real Celery workers: two Daphne servers and two workers on the real Redis broker and PostgreSQL
(and, for a killed worker, on RabbitMQ too).

Jobs are submitted over REST with a token, as a client would; their state is read from the shared database and
their progress from a websocket on the other web server. Whisper is tiny.en on one thread, to keep the tests short;
every job timing (heartbeat, sweep, the broker's visibility timeout) is the default.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from psycopg import sql
from websockets.sync.client import connect

from tests import media
from tests.conftest import TEST_DATA
from tests.live_server import free_port
from tests.live_workers import (
    celery_worker,
    claimed_again_by,
    cluster_environment,
    jobs,
    kill_the_transcribing_worker,
    rabbitmq_broker,
    redis_url,
    require_other_machines,
    runner_pid,
    served_files,
    submit_transcription,
    user_session_and_token,
    wait_for,
    web_server,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]


@pytest.fixture(scope="module")
def media_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """jfk.flac and a talk of about a minute and a half, served over HTTP on 127.0.0.1 for yt-dlp."""
    directory = tmp_path_factory.mktemp("cluster-media")
    (directory / "jfk.flac").write_bytes((TEST_DATA / "jfk.flac").read_bytes())
    media.spoken_mp4([("en-us", text) for text in media.LONG_PARAGRAPHS], directory / "talk.mp4")
    with served_files(directory) as url:
        yield url


def count(environment: dict[str, str], table: str) -> int:
    with psycopg.connect(environment["DATABASE_URL"]) as connection:
        query = sql.SQL("select count(*) from {}").format(sql.Identifier(table))
        return connection.execute(query).fetchone()[0]  # type: ignore[index]


@contextlib.contextmanager
def listening(url: str, session_key: str) -> Iterator[list[dict[str, Any]]]:
    """The events of the jobs page's websocket on one server, collected in the background."""
    events: list[dict[str, Any]] = []
    socket_url = url.replace("http://", "ws://") + "/ws/jobs/"
    with connect(socket_url, origin=url, additional_headers={"Cookie": f"sessionid={session_key}"}) as websocket:

        def read() -> None:
            with contextlib.suppress(Exception):
                for message in websocket:
                    events.append(json.loads(message))

        threading.Thread(target=read, daemon=True).start()
        yield events


def test_jobs_from_both_web_servers_run_once_each_spread_over_both_workers(tmp_path: Path, media_files: str) -> None:
    with (
        cluster_environment(tmp_path) as environment,
        web_server(environment, tmp_path / "web-a.log") as web_a,
        web_server(environment, tmp_path / "web-b.log") as web_b,
        celery_worker(environment, tmp_path / "worker-1.log", "one") as worker_1,
        celery_worker(environment, tmp_path / "worker-2.log", "two") as worker_2,
    ):
        session_key, token = user_session_and_token(environment)
        with listening(web_b, session_key) as events:
            submitted = []
            for index in range(6):
                status, body = submit_transcription(
                    (web_a, web_b)[index % 2], token, f"{media_files}/jfk.flac?copy={index}"
                )
                assert status == 202, body
                submitted.append(body["id"])
            finished = wait_for(lambda: ended(jobs(environment), 6), timeout=240, what="six jobs to finish")
            wait_for(lambda: set(final_events(events)) >= set(submitted), timeout=15, what="the final events")
            final = final_events(events)

        assert sorted(row["id"] for row in finished) == sorted(submitted)
        assert [row["status"] for row in finished] == ["done"] * 6, [row["error"] for row in finished]
        assert [row["attempts"] for row in finished] == [1] * 6
        # One transcript per job, never two.
        assert len({row["transcript_id"] for row in finished}) == 6
        assert count(environment, "transcripts_transcript") == 6
        assert {runner_pid(row) for row in finished} == {worker_1.pid, worker_2.pid}
        # The websocket on web server B saw every job's progress and its final event, with the transcript.
        assert set(final) == set(submitted)
        assert all(final[job_id]["transcript_id"] for job_id in submitted)
        for job_id in submitted:
            assert any(e["job_id"] == job_id and e["status"] == "transcribing" for e in events), job_id


QUEUED_OR_RUNNING = {"queued", "downloading", "transcribing"}


def ended(rows: list[dict[str, Any]], expected: int) -> list[dict[str, Any]] | None:
    """The rows once there are `expected` jobs and none is queued or running any more."""
    if len(rows) == expected and all(row["status"] not in QUEUED_OR_RUNNING for row in rows):
        return rows
    return None


def final_events(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {event["job_id"]: event for event in list(events) if event.get("status") == "done"}


# With the defaults (heartbeat every 10 s, dead after 60 s, a sweep every 30 s), a job whose worker on another
# machine was killed is running again on a live worker within timeout + sweep; a few seconds more for the claim.
RUNNING_AGAIN_WITHIN = 60 + 30 + 10


@pytest.mark.parametrize("broker", ["redis", "rabbitmq"])
def test_a_killed_workers_job_runs_again_on_another_machine_within_the_heartbeat_timeout_and_a_sweep(
    tmp_path: Path, media_files: str, broker: str
) -> None:
    # Each worker has a host name of its own, as on two machines: neither can see the other's pid, so the job's
    # heartbeat alone tells that its worker died. Every timing is the default; the broker (Redis: visibility
    # timeout of 4.5 h; RabbitMQ: it hands the message back at once, and the live worker's claim turns it down
    # while the heartbeat is fresh) does not bring the job back: the sweep does.
    require_other_machines()
    with contextlib.ExitStack() as stack:
        settings = {"WHISPER_DECODING": "sequential"}
        if broker == "rabbitmq":
            settings["CELERY_BROKER_URL"] = stack.enter_context(rabbitmq_broker())
        environment = stack.enter_context(cluster_environment(tmp_path, **settings))
        web = stack.enter_context(web_server(environment, tmp_path / "web.log"))
        worker_1 = stack.enter_context(celery_worker(environment, tmp_path / "worker-1.log", "one", machine="box-1"))
        worker_2 = stack.enter_context(celery_worker(environment, tmp_path / "worker-2.log", "two", machine="box-2"))
        _, token = user_session_and_token(environment)
        status, body = submit_transcription(web, token, f"{media_files}/talk.mp4")
        assert status == 202, body
        _, survivor, killed_at = kill_the_transcribing_worker(environment, (worker_1, worker_2))

        wait_for(
            lambda: claimed_again_by(environment, survivor),
            timeout=RUNNING_AGAIN_WITHIN,
            what="the job to run again on the live worker",
        )
        print(f"{broker}: running again {time.monotonic() - killed_at:.1f} s after its worker was killed")
        (job,) = wait_for(lambda: ended(jobs(environment), 1), timeout=180, what="the job to end")
        assert job["status"] == "done", job["error"]
        assert job["attempts"] == 2 and runner_pid(job) == survivor.pid
        assert count(environment, "transcripts_transcript") == 1
        assert count(environment, "transcripts_transcriptionjob") == 1


def test_a_job_past_its_attempts_fails_when_its_worker_is_killed_and_one_on_this_host_sees_it_at_once(
    tmp_path: Path, media_files: str
) -> None:
    # On one host a dead worker's pid is gone, so the next sweep (within JOB_SWEEP_SECONDS) finds its job.
    settings = {"WHISPER_DECODING": "sequential", "TRANSCRIPTION_MAX_ATTEMPTS": "1"}
    with (
        cluster_environment(tmp_path, **settings) as environment,
        web_server(environment, tmp_path / "web.log") as web,
        celery_worker(environment, tmp_path / "worker-1.log", "one") as worker_1,
        celery_worker(environment, tmp_path / "worker-2.log", "two") as worker_2,
    ):
        _, token = user_session_and_token(environment)
        status, body = submit_transcription(web, token, f"{media_files}/talk.mp4")
        assert status == 202, body
        kill_the_transcribing_worker(environment, (worker_1, worker_2))

        (job,) = wait_for(lambda: ended(jobs(environment), 1), timeout=30 + 10, what="the sweep to fail the job")
        assert job["status"] == "failed" and job["attempts"] == 1
        assert "interrupted 1 times" in job["error"] and "not tried again" in job["error"]
        assert count(environment, "transcripts_transcript") == 0
        assert count(environment, "transcripts_transcriptionjob") == 1


def test_a_worker_told_to_stop_finishes_its_job_first(tmp_path: Path, media_files: str) -> None:
    settings = {"WHISPER_DECODING": "sequential"}
    with (
        cluster_environment(tmp_path, **settings) as environment,
        web_server(environment, tmp_path / "web.log") as web,
        celery_worker(environment, tmp_path / "worker.log", "one") as worker,
    ):
        _, token = user_session_and_token(environment)
        status, body = submit_transcription(web, token, f"{media_files}/talk.mp4")
        assert status == 202, body
        wait_for(
            lambda: [row for row in jobs(environment) if row["status"] == "transcribing"],
            timeout=120,
            what="the job to be transcribing",
        )
        worker.send_signal(signal.SIGTERM)  # Celery's warm shutdown
        worker.wait(timeout=180)
        (job,) = jobs(environment)
        assert job["status"] == "done" and job["attempts"] == 1, job["error"]
        assert count(environment, "transcripts_transcript") == 1


class BrokerRedis:
    """A Redis of this test's own, on its own port: the broker it stops and starts again."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.url = redis_url(0, self.port)
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("a") as log:
            command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
            self.process = subprocess.Popen([*command, "no"], stdout=log, stderr=subprocess.STDOUT)
        wait_for(self.answers, timeout=20, what="the broker Redis to start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)

    def answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url).ping())
        except redis.ConnectionError:
            return False


def test_with_the_broker_down_a_submit_is_refused_clearly_and_work_resumes_when_it_is_back(
    tmp_path: Path, media_files: str
) -> None:
    broker = BrokerRedis(tmp_path / "broker.log")
    broker.start()
    try:
        with (
            cluster_environment(tmp_path, CELERY_BROKER_URL=broker.url, CELERY_PUBLISH_TIMEOUT_SECONDS="2") as env,
            web_server(env, tmp_path / "web.log") as web,
            celery_worker(env, tmp_path / "worker.log", "one"),
        ):
            _, token = user_session_and_token(env)
            status, body = submit_transcription(web, token, f"{media_files}/jfk.flac")
            assert status == 202, body
            wait_for(lambda: jobs(env)[0]["status"] == "done", timeout=120, what="the first job")

            broker.stop()
            status, body = submit_transcription(web, token, f"{media_files}/jfk.flac?while-down")
            assert status == 503, body
            assert "queue is unavailable" in body["detail"] and "nothing was started" in body["detail"]
            assert len(jobs(env)) == 1  # no job row left queued forever

            broker.start()  # the worker reconnects by itself
            status, body = submit_transcription(web, token, f"{media_files}/jfk.flac?after")
            assert status == 202, body
            after = wait_for(
                lambda: [row for row in jobs(env) if row["id"] == body["id"] and row["status"] == "done"],
                timeout=150,
                what="a job submitted after the broker came back",
            )
            assert after[0]["attempts"] == 1
    finally:
        broker.stop()
