"""The Whisper process: in the embedded mode the web server never runs Whisper itself.

Its transcriptions run in one child process (transcripts.whisper_child), started with the "spawn" method (a fork of
a process with threads and an event loop could inherit a lock held by another thread), on the first job, with a
lower scheduling priority and, unless WHISPER_CPU_THREADS says otherwise, one core fewer than the machine has, so
the web process always has a core to answer on. The child keeps its loaded models for the next job and stops once
no job has needed it for WHISPER_PROCESS_IDLE_SECONDS.

The job's thread in the web process stays where it was (transcripts.pipeline: it claims the job, reports
progress, writes the transcript); only the call to the engine crosses to the child. Progress comes back as it is
made; a cancel goes to the child, which stops at its next progress step (and is killed if it does not within
CANCEL_GRACE_SECONDS). A child that dies (killed, out of memory) fails none of the web process: each job it was
running gets WhisperProcessLost, and the next job starts a new child.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import replace
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from django.conf import settings

from transcripts.engine.whisper import EngineConfig, ProgressCallback, TranscriptionResult
from transcripts.whisper_child import serve

logger = logging.getLogger(__name__)

NICENESS = 10  # added to the child's scheduling priority: the web process wins every contested core
CANCEL_POLL_SECONDS = 1.0  # how often a waiting job looks for its owner's cancel between progress steps
CANCEL_GRACE_SECONDS = 30.0  # a cancelled request the child has not given up by then ends with the child
STOP_SECONDS = 5.0  # how long an idle child gets to exit before it is killed

Replies = queue.Queue[tuple[object, ...]]


class WhisperProcessLost(Exception):
    """The child process ended while it was transcribing this job (killed, or out of memory)."""


def cpu_threads(configured: int) -> int:
    """Whisper's threads: WHISPER_CPU_THREADS when set, else every core this process may use but one."""
    return configured or max(1, len(os.sched_getaffinity(0)) - 1)


class WhisperProcess:
    """The child process and the jobs waiting on it; one per web process (`whisper_process`), made on demand."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._send_lock = threading.Lock()
        self._waiting: dict[int, tuple[Replies, BaseProcess]] = {}  # each job's replies, and its child
        self._ids = itertools.count(1)
        self._idle_timer: threading.Timer | None = None

    @property
    def pid(self) -> int | None:
        """The child's pid while it runs, else None."""
        process = self._process
        return process.pid if process is not None and process.is_alive() else None

    def transcribe(
        self,
        path: Path,
        config: EngineConfig,
        *,
        language: str = "",
        task: str = "transcribe",
        on_progress: ProgressCallback | None = None,
        check_cancel: Callable[[], None] | None = None,
    ) -> TranscriptionResult:
        """transcribe_file in the child. What on_progress or check_cancel raise (JobCancelled) stops the child's
        work on it too; WhisperProcessLost when the child dies meanwhile; the engine's own errors as they are."""
        config = replace(config, cpu_threads=cpu_threads(config.cpu_threads))
        request_id, replies, conn = self._open_request()
        try:
            try:
                self._send(conn, ("transcribe", request_id, str(path), config, language, task))
            except OSError as exc:  # it died just now; the reply thread has not seen it yet
                raise WhisperProcessLost("The Whisper process stopped") from exc
            while True:
                try:
                    reply = replies.get(timeout=CANCEL_POLL_SECONDS)
                except queue.Empty:
                    reply = ("waiting", request_id)
                kind = reply[0]
                if kind == "done":
                    return reply[2]  # type: ignore[return-value]
                if kind == "error":
                    logger.warning("The Whisper process failed a transcription:\n%s", reply[3])
                    raise reply[2]  # type: ignore[misc]
                if kind != "progress" and kind != "waiting":  # "lost", or "cancelled" by a stop of the child
                    raise WhisperProcessLost(f"The Whisper process stopped ({reply[1]})")
                try:
                    if kind == "progress" and on_progress is not None:
                        on_progress(reply[2])  # type: ignore[arg-type]
                    elif check_cancel is not None:
                        check_cancel()
                except BaseException:  # the job was cancelled (or its reporting failed): the child stops too
                    self._abandon(request_id, replies, conn)
                    raise
        finally:
            self._close_request(request_id)

    def stop(self) -> None:
        """Stop the child (it is started again by the next job). Jobs still running in it get WhisperProcessLost."""
        with self._lock:
            process, conn = self._detach()
        self._end(process, conn)

    def _detach(self) -> tuple[BaseProcess | None, Connection | None]:
        """Take the child out of service (the caller holds the lock): the next job starts a new one."""
        process, conn = self._process, self._conn
        self._process, self._conn = None, None
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        return process, conn

    def _end(self, process: BaseProcess | None, conn: Connection | None) -> None:
        if process is None or conn is None:
            return
        with contextlib.suppress(OSError):  # it has died already
            self._send(conn, ("stop",))
        process.join(STOP_SECONDS)
        if process.is_alive():
            process.kill()
            process.join(STOP_SECONDS)

    def _open_request(self) -> tuple[int, Replies, Connection]:
        with self._lock:
            if self._idle_timer is not None:
                self._idle_timer.cancel()
                self._idle_timer = None
            if self._process is None or self._conn is None or not self._process.is_alive():
                self._start()
            request_id = next(self._ids)
            replies: Replies = queue.Queue()
            self._waiting[request_id] = (replies, self._process)  # type: ignore[assignment]
            return request_id, replies, self._conn  # type: ignore[return-value]

    def _close_request(self, request_id: int) -> None:
        with self._lock:
            self._waiting.pop(request_id, None)
            if not self._waiting and self._process is not None:
                self._idle_timer = threading.Timer(settings.WHISPER_PROCESS_IDLE_SECONDS, self._stop_if_idle)
                self._idle_timer.daemon = True
                self._idle_timer.start()

    def _stop_if_idle(self) -> None:
        with self._lock:  # checked and detached at once: a job starting meanwhile would find the child stopping
            if self._waiting:
                return
            process, conn = self._detach()
        logger.info("Stopping the idle Whisper process")
        self._end(process, conn)

    def _start(self) -> None:
        """Start the child and the thread that hands its replies to the waiting jobs (the caller holds the lock)."""
        context = multiprocessing.get_context("spawn")
        parent_end, child_end = context.Pipe()
        # A daemon child: when this process exits normally, multiprocessing ends it instead of waiting for it. When
        # this process dies, the child's end of the pipe reports the end and the child exits by itself.
        process = context.Process(target=serve, args=(child_end, NICENESS), name="whisper", daemon=True)
        process.start()
        child_end.close()  # only the child holds it now, so the child's death reads as the end of the pipe here
        self._process, self._conn = process, parent_end
        threading.Thread(
            target=self._read_replies, args=(process, parent_end), name="whisper-replies", daemon=True
        ).start()
        logger.info("Started the Whisper process (pid %s)", process.pid)

    def _read_replies(self, process: BaseProcess, conn: Connection) -> None:
        while True:
            try:
                reply = conn.recv()
            except (EOFError, OSError):
                break
            with self._lock:
                waiting = self._waiting.get(reply[1])  # type: ignore[call-overload]
            if waiting is not None:
                waiting[0].put(reply)
        process.join(STOP_SECONDS)
        with self._lock:
            if self._process is process:
                self._process, self._conn = None, None
            lost = [replies for replies, child in self._waiting.values() if child is process]
        conn.close()
        if lost:
            logger.error("The Whisper process (pid %s) ended with exit code %s", process.pid, process.exitcode)
        for replies in lost:
            replies.put(("lost", f"exit code {process.exitcode}"))

    def _send(self, conn: Connection, message: tuple[object, ...]) -> None:
        with self._send_lock:
            conn.send(message)

    def _abandon(self, request_id: int, replies: Replies, conn: Connection) -> None:
        """Tell the child to drop a request and wait until it has, so the slot it held is free when this returns."""
        try:
            self._send(conn, ("cancel", request_id))
        except OSError:
            return  # the child is gone already
        try:
            while replies.get(timeout=CANCEL_GRACE_SECONDS)[0] == "progress":
                pass
        except queue.Empty:
            logger.warning("The Whisper process did not stop a cancelled job in time; stopping it")
            self.stop()


whisper_process = WhisperProcess()
