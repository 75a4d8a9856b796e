"""The job progress events the transcription service sends, and the channel-layer groups it sends them to.

They live here, beside the code that sends them (transcripts.progress), so that other apps depend on transcripts
and never the reverse: the chat's websocket joins `session_jobs_group` to show its chat's jobs; the jobs page joins
`jobs_group`. Whatever process runs a job (a web server's thread or a Celery worker), the events travel through the
channel layer to every subscribed socket.
"""

from __future__ import annotations

from typing import Literal, TypedDict


class JobProgressEvent(TypedDict):
    """One step of a job, sent to its groups. The chat and the jobs page draw the same shape."""

    type: Literal["job.progress"]
    job_id: str
    status: str  # queued | downloading | transcribing | done | failed | cancelled
    stage: str
    percent: float
    message: str
    transcript_id: str | None
    warning: str  # set when the transcript is done but may miss something (speech in another language)
    jobs_ahead: int | None  # for a queued job: how many jobs are ahead of it (0: next); else None


def job_group(job_id: object) -> str:
    """One job."""
    return f"job_{job_id}"


def jobs_group(owner_id: object) -> str:
    """Every job of one user: the jobs page listens here."""
    return f"jobs_user_{owner_id}"


def session_jobs_group(session_id: object) -> str:
    """The jobs started from one chat: the chat's websockets listen here."""
    return f"jobs_chat_{session_id}"
