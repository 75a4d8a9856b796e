"""The embedded server (`make run`: Daphne, the in-process runner) stopped mid-job, by kill -9 or SIGTERM, and
started again: the job starts again from its source by itself and finishes, counted as a second attempt.

Real processes on the default timings; the job's row is read from the server's own database (SQLite by default,
PostgreSQL in the CI pass that sets DATABASE_URL).
"""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import media
from tests.live_server import LiveServer, daphne_server, running_daphne
from tests.live_workers import served_files, submit_transcription, user_session_and_token, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

JOB_SQL = "select status, stage, attempts, runner, transcript_id, error from transcripts_transcriptionjob"
COLUMNS = ("status", "stage", "attempts", "runner", "transcript_id", "error")
# The embedded runner even where REDIS_URL is set (CI's PostgreSQL + Redis pass); Whisper tiny.en on one thread keeps
# the run short. Nothing about jobs' timing is changed.
EMBEDDED = {
    "TRANSCRIPTION_RUNNER": "local",
    "WHISPER_MODEL": "tiny.en",
    "WHISPER_MODELS": "tiny.en",
    "WHISPER_LANGUAGE_DETECTOR": "",
    "WHISPER_CPU_THREADS": "1",
    "WHISPER_DECODING": "sequential",
}


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A talk of about a minute and a half, served over HTTP on 127.0.0.1; its URL."""
    directory = tmp_path_factory.mktemp("restart-media")
    media.spoken_mp4([("en-us", text) for text in media.LONG_PARAGRAPHS], directory / "talk.mp4")
    with served_files(directory) as url:
        yield f"{url}/talk.mp4"


def query(server: LiveServer, sql: str) -> list[tuple[Any, ...]]:
    url = server.environment.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg

        with psycopg.connect(url) as connection:
            return connection.execute(sql).fetchall()
    with contextlib.closing(sqlite3.connect(Path(server.environment["VIDEOAGENT_DATA_DIR"]) / "db.sqlite3")) as db:
        return db.execute(sql).fetchall()


def the_job(server: LiveServer) -> dict[str, Any]:
    (row,) = query(server, JOB_SQL)
    return dict(zip(COLUMNS, row, strict=True))


def claimed_by(server: LiveServer, pid: int) -> bool:
    """Whether the process `pid` has claimed the job for its second start."""
    job = the_job(server)
    return job["attempts"] == 2 and job["runner"].split(":")[1:2] == [str(pid)]


@pytest.mark.parametrize("stop_signal", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_a_job_cut_off_by_the_servers_end_finishes_after_the_next_start(
    tmp_path: Path, talk: str, stop_signal: signal.Signals
) -> None:
    with daphne_server(tmp_path, **EMBEDDED) as server:
        _, token = user_session_and_token(server.environment)
        status, body = submit_transcription(server.url, token, talk)
        assert status == 202, body
        wait_for(lambda: the_job(server)["status"] == "transcribing", timeout=120, what="the job to be transcribing")
        first_runner = the_job(server)["runner"]
        server.process.send_signal(stop_signal)
        server.process.wait(timeout=30)

        cut_off = the_job(server)
        assert cut_off["status"] in ("queued", "downloading", "transcribing"), cut_off  # not failed "interrupted"
        assert cut_off["attempts"] == 1 and cut_off["transcript_id"] is None

        port = int(server.url.rsplit(":", 1)[1])
        starting = time.monotonic()
        with running_daphne(server.environment, port, tmp_path / "daphne-again.log") as again:
            # The sweep at start takes the job before the server listens; the bound is mostly Daphne's start.
            wait_for(lambda: claimed_by(server, again.pid), timeout=60, what="the job to start again")
            running_again_after = time.monotonic() - starting
            job = wait_for(
                lambda: (row := the_job(server))["status"] not in ("queued", "downloading", "transcribing") and row,
                timeout=180,
                what="the resumed job to end",
            )
            log = (tmp_path / "daphne-again.log").read_text()
            assert job["status"] == "done", (job, log)
            assert job["attempts"] == 2 and job["runner"] != first_runner
            assert query(server, "select count(*) from transcripts_transcript") == [(1,)]
            assert "Resumed 1 unfinished transcription job(s)" in log
            print(
                f"{stop_signal.name}: running again {running_again_after:.1f} s after the next start began, "
                f"done {time.monotonic() - starting:.1f} s after"
            )
