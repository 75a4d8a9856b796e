"""Links: checked for safety, then fetched audio-only with yt-dlp (no post-processing, so no ffmpeg binary).

Playlists are refused with a clear message rather than silently downloading many videos; a link to one video
inside a playlist (YouTube's `watch?v=…&list=…`) fetches that one video.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yt_dlp

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


def check_url(url: str, *, allow_private: bool) -> None:
    """Only http(s) links to public addresses (unless private ones are allowed)."""
    parsed = urlparse(url.strip())
    if parsed.scheme not in {"http", "https"}:
        raise DownloadError("Only http:// and https:// links can be transcribed.")
    if not parsed.hostname:
        raise DownloadError("The link has no host name.")
    if allow_private:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parsed.hostname, parsed.port or None)}
    except (socket.gaierror, UnicodeError) as exc:
        raise DownloadError(f"The host {parsed.hostname} could not be found.") from exc
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            raise DownloadError(
                f"Links to private, loopback or reserved addresses are not allowed ({parsed.hostname})."
            )


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


def readable_error(exc: Exception) -> str:
    message = ANSI_ESCAPE.sub("", str(exc)).removeprefix("ERROR: ").strip()
    return f"The link could not be downloaded: {message}"


def _options(dest_dir: Path, config: DownloadConfig, hook: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    return {
        "format": "bestaudio/best",
        "outtmpl": str(dest_dir / "media.%(ext)s"),
        "noplaylist": True,
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

    def hook(status: dict[str, Any]) -> None:
        if status.get("status") != "downloading" or on_progress is None:
            return
        total = status.get("total_bytes") or status.get("total_bytes_estimate")
        done = status.get("downloaded_bytes") or 0
        if total and done > config.max_bytes:
            raise yt_dlp.utils.DownloadError(f"the file is larger than the {megabytes(config.max_bytes)} limit")
        if total:
            on_progress(min(100.0, done / total * 100.0), f"{done / 2**20:.1f} of {total / 2**20:.1f} MB")

    dest_dir.mkdir(parents=True, exist_ok=True)
    with yt_dlp.YoutubeDL(_options(dest_dir, config, hook)) as ydl:
        try:
            info = ydl.extract_info(url, download=False)
        except yt_dlp.utils.DownloadError as exc:
            raise DownloadError(readable_error(exc)) from exc
        if info is None:
            raise DownloadError("The link could not be read.")
        if info.get("_type") in {"playlist", "multi_video"}:
            raise DownloadError("That link is a playlist. Send a link to a single video instead.")
        duration = float(info.get("duration") or 0.0)
        if duration > config.max_duration_seconds:
            raise DownloadError(
                f"The video is {duration / 60:.0f} minutes long; the limit is "
                f"{config.max_duration_seconds / 60:.0f} minutes."
            )
        try:
            ydl.process_ie_result(info, download=True)
        except yt_dlp.utils.DownloadError as exc:
            raise DownloadError(readable_error(exc)) from exc

    # yt-dlp skips a file over max_filesize without an error: no file means it was too large.
    files = [p for p in dest_dir.iterdir() if p.name.startswith("media.") and not p.name.endswith(".part")]
    if not files:
        raise DownloadError(f"The file is larger than the {megabytes(config.max_bytes)} download limit.")
    path = files[0]
    if path.stat().st_size > config.max_bytes:
        raise DownloadError(f"The file is larger than the {megabytes(config.max_bytes)} download limit.")
    return DownloadedMedia(
        path=path,
        title=str(info.get("title") or path.name),
        duration=duration,
        extractor=str(info.get("extractor_key") or info.get("extractor") or ""),
        webpage_url=str(info.get("webpage_url") or url),
    )
