"""The embedded runner's Whisper process: the web process (here, the test process) never runs Whisper itself.

Jobs run as a runner runs them (the pipeline, in the test's thread); their Whisper step goes to the child process,
which is real: the real model on real speech, killed for real with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.job_helpers import make_job, run_job
from transcripts.jobs import cancel_job
from transcripts.models import JobStatus
from transcripts.pipeline import STARTING_AGAIN
from transcripts.whisper_process import cpu_threads, whisper_process

pytestmark = pytest.mark.django_db(transaction=True)


def _stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat from field 3 (the state) on: the command name before it may hold spaces."""
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()


def niceness(pid: int) -> int:
    return int(_stat_fields(pid)[16])  # field 19


def cpu_ticks(pid: int) -> int:
    fields = _stat_fields(pid)
    return int(fields[11]) + int(fields[12])  # fields 14 and 15: user and system time


class Watch:
    """Records every progress event, and the Whisper process's pid whenever the job reports Whisper's progress;
    `on_whisper` runs at the first such report of each attempt (the child is then in the middle of the job)."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.pids: list[int | None] = []
        self.on_whisper: Callable[[dict], None] | None = None
        self._fired_for: set[int] = set()

    def __call__(self, groups: list[str], event: dict) -> None:
        self.events.append(event)
        if event["status"] == JobStatus.TRANSCRIBING and event["percent"] > 0:
            self.pids.append(whisper_process.pid)
            attempt = sum(1 for e in self.events if e["message"] == "Starting")
            if self.on_whisper is not None and attempt not in self._fired_for:
                self._fired_for.add(attempt)
                self.on_whisper(event)


@pytest.fixture
def watch(monkeypatch) -> Watch:
    watching = Watch()
    monkeypatch.setattr("transcripts.progress.send_event", watching)
    return watching


def kill_whisper(event: dict) -> None:
    pid = whisper_process.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)


def test_a_job_runs_in_the_whisper_process_and_reports_its_progress(alice, make_upload, watch):
    job = run_job(make_job(alice, str(make_upload(alice, "jfk.flac").id)))

    assert job.status == JobStatus.DONE, job.error
    assert "ask not what your country" in job.transcript.text.lower()
    whisper_pids = set(watch.pids)
    assert len(whisper_pids) == 1 and None not in whisper_pids
    (pid,) = whisper_pids
    assert pid != os.getpid()
    assert niceness(pid) > niceness(os.getpid())  # the web process wins every contested core
    percents = [e["percent"] for e in watch.events if e["status"] == JobStatus.TRANSCRIBING]
    assert len(set(percents)) >= 3 and percents == sorted(percents)
    assert watch.events[0]["percent"] == 0.0 and watch.events[-1]["status"] == JobStatus.DONE


def test_a_second_job_reuses_the_loaded_model_in_the_same_process(alice, make_upload, watch):
    first = run_job(make_job(alice, str(make_upload(alice, "jfk.flac").id)))
    first_pids = set(watch.pids)
    watch.pids.clear()
    second = run_job(make_job(alice, str(make_upload(alice, "speech.mp4").id)))

    assert (first.status, second.status) == (JobStatus.DONE, JobStatus.DONE)
    assert first_pids == set(watch.pids) and None not in first_pids


def test_whisper_leaves_the_web_process_a_core_unless_told_otherwise():
    assert cpu_threads(0) == max(1, len(os.sched_getaffinity(0)) - 1)
    assert cpu_threads(3) == 3


def test_a_job_cancelled_while_whisper_runs_stops_the_whisper_process_work(alice, make_upload, watch):
    job = make_job(alice, str(make_upload(alice, "jfk.flac").id))
    watch.on_whisper = lambda event: cancel_job(owner=alice, job_id=job.id)
    started = time.monotonic()
    job = run_job(job)

    assert job.status == JobStatus.CANCELLED
    assert time.monotonic() - started < 30
    pid = whisper_process.pid
    assert pid is not None and pid in watch.pids  # the same process, kept for the next job
    # The job ends once the child has dropped it: from then on the child is idle.
    ticks = cpu_ticks(pid)
    time.sleep(1.0)
    assert cpu_ticks(pid) - ticks < 0.2 * os.sysconf("SC_CLK_TCK")
    watch.on_whisper = None
    after = run_job(make_job(alice, str(make_upload(alice, "speech.mp4").id)))
    assert after.status == JobStatus.DONE and whisper_process.pid == pid, after.error


def test_a_killed_whisper_process_is_reported_and_the_job_starts_again(alice, make_upload, watch):
    watch.on_whisper = lambda event: kill_whisper(event) if len(set(watch.pids)) == 1 else None
    job = run_job(make_job(alice, str(make_upload(alice, "jfk.flac").id)))

    assert job.status == JobStatus.DONE, job.error
    assert job.attempts == 2  # counted like a dead worker's job
    assert "ask not what your country" in job.transcript.text.lower()
    assert any(e["stage"] == STARTING_AGAIN and e["status"] == JobStatus.QUEUED for e in watch.events)
    killed, replacement = dict.fromkeys(watch.pids)  # in order: the killed child, then the new one
    assert killed != replacement and replacement == whisper_process.pid
    assert os.getpid() and whisper_process.pid != os.getpid()  # this process, the web server, is still here


def test_a_job_whose_whisper_process_keeps_dying_fails_after_its_last_attempt(alice, make_upload, watch, settings):
    settings.TRANSCRIPTION_MAX_ATTEMPTS = 2
    watch.on_whisper = kill_whisper
    job = run_job(make_job(alice, str(make_upload(alice, "jfk.flac").id)))

    assert job.status == JobStatus.FAILED
    assert job.attempts == 2
    assert "interrupted 2 times" in job.error
    assert watch.events[-1]["status"] == JobStatus.FAILED
    watch.on_whisper = None
    after = run_job(make_job(alice, str(make_upload(alice, "speech.mp4").id)))
    assert after.status == JobStatus.DONE  # the next job starts a new Whisper process


def test_an_idle_whisper_process_stops(alice, make_upload, watch, settings):
    settings.WHISPER_PROCESS_IDLE_SECONDS = 0.5
    job = run_job(make_job(alice, str(make_upload(alice, "speech.mp4").id)))
    assert job.status == JobStatus.DONE
    pid = watch.pids[-1]
    deadline = time.monotonic() + 15
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(pid) and whisper_process.pid is None
    assert run_job(make_job(alice, str(make_upload(alice, "speech.mp4").id))).status == JobStatus.DONE
    assert watch.pids[-1] != pid  # the next job started a new one


def alive(pid: int) -> bool:
    try:
        return _stat_fields(pid)[0] != "Z"
    except FileNotFoundError:
        return False
