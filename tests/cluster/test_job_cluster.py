"""Transcription on real Celery workers: two Daphne servers and two workers on the real Redis broker and PostgreSQL.

Jobs are submitted over REST with a token, as a client would; their state is read from the shared database and
their progress from a websocket on the other web server. Whisper is tiny.en on one thread, to keep the tests short.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
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
    cluster_environment,
    redis_url,
    served_files,
    submit_transcription,
    user_session_and_token,
    wait_for,
    web_server,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]

JOBS_SQL = "select id::text, status, attempts, runner, transcript_id, error from transcripts_transcriptionjob"


@pytest.fixture(scope="module")
def media_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """jfk.flac and a talk of about a minute and a half, served over HTTP on 127.0.0.1 for yt-dlp."""
    directory = tmp_path_factory.mktemp("cluster-media")
    (directory / "jfk.flac").write_bytes((TEST_DATA / "jfk.flac").read_bytes())
    media.spoken_mp4([("en-us", text) for text in media.LONG_PARAGRAPHS], directory / "talk.mp4")
    with served_files(directory) as url:
        yield url


def jobs(environment: dict[str, str]) -> list[dict[str, Any]]:
    with psycopg.connect(environment["DATABASE_URL"]) as connection:
        cursor = connection.execute(JOBS_SQL)
        columns = [column.name for column in cursor.description or []]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def count(environment: dict[str, str], table: str) -> int:
    with psycopg.connect(environment["DATABASE_URL"]) as connection:
        query = sql.SQL("select count(*) from {}").format(sql.Identifier(table))
        return connection.execute(query).fetchone()[0]  # type: ignore[index]


def runner_pid(job: dict[str, Any]) -> int:
    return int(job["runner"].split(":")[1])


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


@pytest.mark.parametrize("max_attempts", [3, 1])
def test_a_job_whose_worker_is_killed_is_finished_by_the_other_worker_or_fails_past_its_attempts(
    tmp_path: Path, media_files: str, max_attempts: int
) -> None:
    settings = {"WHISPER_DECODING": "sequential", "TRANSCRIPTION_MAX_ATTEMPTS": str(max_attempts)}
    with (
        cluster_environment(tmp_path, **settings) as environment,
        web_server(environment, tmp_path / "web.log") as web,
        celery_worker(environment, tmp_path / "worker-1.log", "one") as worker_1,
        celery_worker(environment, tmp_path / "worker-2.log", "two") as worker_2,
    ):
        _, token = user_session_and_token(environment)
        status, body = submit_transcription(web, token, f"{media_files}/talk.mp4")
        assert status == 202, body
        running = wait_for(
            lambda: [row for row in jobs(environment) if row["status"] == "transcribing"],
            timeout=120,
            what="the job to be transcribing",
        )[0]
        victim, survivor = (worker_1, worker_2) if runner_pid(running) == worker_1.pid else (worker_2, worker_1)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)

        (job,) = wait_for(
            lambda: ended(jobs(environment), 1), timeout=240, what="the job to end after its worker was killed"
        )
        if max_attempts > 1:
            assert job["status"] == "done", job["error"]
            assert job["attempts"] == 2 and runner_pid(job) == survivor.pid
            assert count(environment, "transcripts_transcript") == 1
        else:
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
