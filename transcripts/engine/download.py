"""Links: checked for safety, then fetched audio-only with yt-dlp (no post-processing, so no ffmpeg binary).

Playlists are refused with a clear message rather than silently downloading many videos; a link to one video
inside a playlist (YouTube's `watch?v=…&list=…`) fetches that one video.

Private addresses are checked twice: `check_url` resolves the link's host before a job exists (a quick, clear
refusal), and while yt-dlp runs every address it resolves is checked again, so neither a redirect to
http://127.0.0.1/ nor a DNS answer that changes between the two look-ups reaches the server's own network.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yt_dlp

from transcripts.engine.addresses import is_public

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[float, str], None]  # percent 0–100, human-readable detail
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


class DownloadError(ValueError):
    """The link cannot be used; the message is meant for the user."""


@dataclass(frozen=True)
class DownloadConfig:
    max_bytes: int = 1024 * 1024 * 1024
    max_duration_seconds: int = 4 * 3600
    socket_timeout: float = 30.0
    allow_private: bool = False


@dataclass(frozen=True)
class DownloadedMedia:
    path: Path
    title: str
    duration: float
    extractor: str
    webpage_url: str


def private_address_refused(host: str) -> DownloadError:
    return DownloadError(f"Links to private, loopback or reserved addresses are not allowed ({host}).")


def check_url(url: str, *, allow_private: bool) -> None:
    """Only http(s) links to public addresses (unless private ones are allowed)."""
    url = url.strip()
    if not url.lower().startswith(("http://", "https://")):  # also what plain words get: the most useful answer
        raise DownloadError("Only http:// and https:// links can be transcribed.")
    # Spaces, control characters and lone surrogates belong in no link, and the database refuses some of them.
    if not url.isprintable() or any(char.isspace() for char in url):
        raise DownloadError("The link is not a valid URL.")
    try:
        parsed = urlparse(url)
        hostname, port = parsed.hostname, parsed.port
    except ValueError as exc:  # e.g. a port out of range
        raise DownloadError("The link is not a valid URL.") from exc
    if parsed.scheme not in {"http", "https"}:
        raise DownloadError("Only http:// and https:// links can be transcribed.")
    if not hostname:
        raise DownloadError("The link has no host name.")
    if allow_private:
        return
    try:
        addresses = {info[4][0] for info in _system_getaddrinfo(hostname, port or None)}
    except (OSError, UnicodeError) as exc:
        raise DownloadError(f"The host {hostname} could not be found.") from exc
    if not all(is_public(str(address)) for address in addresses):
        raise private_address_refused(hostname)


# The resolver yt-dlp's connections use is wrapped once per process; the wrapper only acts in a thread that is
# inside `public_addresses_only`, so every other caller (database, Redis, ...) is unaffected.
_system_getaddrinfo = socket.getaddrinfo
_guard = threading.local()
_guard_install_lock = threading.Lock()


def _guarded_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    results = _system_getaddrinfo(host, port, *args, **kwargs)
    if getattr(_guard, "active", False):
        for result in results:
            if not is_public(str(result[4][0])):
                _guard.refused_host = str(host)
                raise OSError(f"{host} resolves to a private address")
    return results


@contextmanager
def public_addresses_only(enabled: bool = True) -> Iterator[None]:
    """While active in this thread, connections to non-public addresses fail (redirects and DNS included)."""
    if not enabled:
        yield
        return
    with _guard_install_lock:
        if socket.getaddrinfo is not _guarded_getaddrinfo:
            socket.getaddrinfo = _guarded_getaddrinfo
    _guard.active, _guard.refused_host = True, None
    try:
        yield
    finally:
        _guard.active = False


def _refused_host() -> str | None:
    return getattr(_guard, "refused_host", None)


class _QuietLogger:
    """yt-dlp writes to stderr unless given a logger; send its chatter to ours instead."""

    def debug(self, message: str) -> None:
        logger.debug("yt-dlp: %s", message)

    def info(self, message: str) -> None:
        logger.debug("yt-dlp: %s", message)

    def warning(self, message: str) -> None:
        logger.info("yt-dlp: %s", message)

    def error(self, message: str) -> None:
        logger.info("yt-dlp: %s", message)


def megabytes(size: int) -> str:
    return f"{size / 2**20:.0f} MB" if size >= 2**20 else f"{size / 1024:.0f} KB"


def human_duration(seconds: float) -> str:
    """`11` → `11 s`, `600` → `10 min`, `5400` → `1 h 30 min`."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def duration_over_limit(duration: float, limit: float) -> DownloadError:
    return DownloadError(f"The media is {human_duration(duration)} long; the limit is {human_duration(limit)}.")


def readable_error(exc: Exception) -> str:
    message = ANSI_ESCAPE.sub("", str(exc)).removeprefix("ERROR: ").strip()
    return f"The link could not be downloaded: {message}"


def _options(dest_dir: Path, config: DownloadConfig, hook: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    return {
        "format": "bestaudio/best",
        "outtmpl": str(dest_dir / "media.%(ext)s"),
        "noplaylist": True,
        # A playlist link is refused below; listing its entries flat keeps that refusal quick for long lists.
        "extract_flat": "in_playlist",
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "logger": _QuietLogger(),
        "progress_hooks": [hook],
        "max_filesize": config.max_bytes,
        "socket_timeout": config.socket_timeout,
        "retries": 2,
        "fragment_retries": 2,
        "postprocessors": [],
        "cachedir": False,
        "overwrites": True,
        "color": {"stderr": "never", "stdout": "never"},
    }


def download_audio(
    url: str, dest_dir: Path, config: DownloadConfig, on_progress: ProgressCallback | None = None
) -> DownloadedMedia:
    """Fetch the link's audio into dest_dir. Raises DownloadError with a readable message."""
    check_url(url, allow_private=config.allow_private)

    too_large = DownloadError(f"The file is larger than the {megabytes(config.max_bytes)} download limit.")

    def hook(status: dict[str, Any]) -> None:
        if status.get("status") != "downloading":
            return
        done = status.get("downloaded_bytes") or 0
        # yt-dlp checks max_filesize only against a Content-Length it is told; a stream without one (or a
        # fragmented one) is stopped here. An exception raised in a hook aborts the download.
        if done > config.max_bytes:
            raise too_large
        total = status.get("total_bytes") or status.get("total_bytes_estimate")
        if total and on_progress is not None:
            on_progress(min(100.0, done / total * 100.0), f"{done / 2**20:.1f} of {total / 2**20:.1f} MB")

    dest_dir.mkdir(parents=True, exist_ok=True)
    with public_addresses_only(not config.allow_private):
        info = _fetch(url, dest_dir, config, hook)
    # yt-dlp skips a file over max_filesize without an error: no file means it was too large.
    files = [p for p in dest_dir.iterdir() if p.name.startswith("media.") and not p.name.endswith((".part", ".ytdl"))]
    if not files or files[0].stat().st_size > config.max_bytes:
        raise too_large
    path = files[0]
    duration = float(info.get("duration") or 0.0)
    return DownloadedMedia(
        path=path,
        title=str(info.get("title") or path.name),
        duration=duration,
        extractor=str(info.get("extractor_key") or info.get("extractor") or ""),
        webpage_url=str(info.get("webpage_url") or url),
    )


def _fetch(url: str, dest_dir: Path, config: DownloadConfig, hook: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Read the link's metadata, apply the limits, then download. Returns yt-dlp's info dict."""
    with yt_dlp.YoutubeDL(_options(dest_dir, config, hook)) as ydl:
        try:
            info = ydl.extract_info(url, download=False)
            if info is None:
                raise DownloadError("The link could not be read.")
            if info.get("_type") in {"playlist", "multi_video"}:
                raise DownloadError("That link is a playlist. Send a link to a single video instead.")
            duration = float(info.get("duration") or 0.0)
            if duration > config.max_duration_seconds:
                raise duration_over_limit(duration, config.max_duration_seconds)
            ydl.process_ie_result(info, download=True)
        except yt_dlp.utils.DownloadError as exc:
            refused = _refused_host()
            if refused is not None:
                raise private_address_refused(refused) from exc
            if isinstance(exc.exc_info[1] if exc.exc_info else None, DownloadError):
                raise exc.exc_info[1] from exc  # type: ignore[misc]
            raise DownloadError(readable_error(exc)) from exc
    return info
