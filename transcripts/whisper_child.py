"""The Whisper process's side: what runs in the child process that transcribes for an embedded web server.

It imports no Django (it is started with the "spawn" method, so it begins as a fresh interpreter holding only the
engine) and touches no database: it receives requests on one connection, runs `transcribe_file` for each in a
thread of its own (so TRANSCRIPTION_CONCURRENCY jobs share the one loaded model, as threads of a worker do), and
sends back progress, then the result or the error. The parent (transcripts.whisper_process) writes everything.

Messages, as tuples, parent to child: ("transcribe", id, path, config, language, task), ("cancel", id), ("stop",).
Child to parent: ("progress", id, percent), ("done", id, result), ("cancelled", id),
("error", id, exception, traceback text).
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
import traceback
from multiprocessing.connection import Connection
from pathlib import Path

from transcripts.engine.whisper import EngineConfig, transcribe_file

logger = logging.getLogger(__name__)


class _Cancelled(Exception):
    """The parent asked to stop this request (raised from the engine's progress callback)."""


def serve(conn: Connection, niceness: int) -> None:
    """The child's main loop: until the parent says stop or goes away (its end of the connection closes)."""
    os.nice(niceness)  # the web process's requests come first; Whisper gets what is left of the CPU
    send_lock = threading.Lock()
    cancels: dict[int, threading.Event] = {}

    def send(message: tuple[object, ...]) -> None:
        try:
            with send_lock:
                conn.send(message)
        except OSError:  # the parent is gone; the main loop sees it too and ends the process
            pass

    def run(request_id: int, path: str, config: EngineConfig, language: str, task: str) -> None:
        cancel = cancels[request_id]

        def on_progress(percent: float) -> None:
            if cancel.is_set():
                raise _Cancelled
            send(("progress", request_id, percent))

        try:
            result = transcribe_file(Path(path), config, language=language, task=task, on_progress=on_progress)
        except _Cancelled:
            send(("cancelled", request_id))
        except Exception as exc:
            send(("error", request_id, _picklable(exc), traceback.format_exc()))
        else:
            send(("cancelled", request_id) if cancel.is_set() else ("done", request_id, result))
        finally:
            cancels.pop(request_id, None)

    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the parent died: nobody is left to read a result
        kind, args = message[0], message[1:]
        if kind == "transcribe":
            cancels[args[0]] = threading.Event()
            threading.Thread(target=run, args=args, name=f"transcribe-{args[0]}", daemon=True).start()
        elif kind == "cancel" and args[0] in cancels:
            cancels[args[0]].set()
        elif kind == "stop":
            return


def _picklable(exc: Exception) -> Exception:
    """The exception itself where it crosses the pipe intact (the engine's own errors do), else its text."""
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301 (our own bytes, read back at once)
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
