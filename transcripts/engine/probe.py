"""Check a media file with PyAV before any work starts, so bad input fails fast with a clear message."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av


class MediaError(ValueError):
    """The file cannot be transcribed; the message is meant for the user."""


@dataclass(frozen=True)
class MediaInfo:
    duration: float  # seconds; 0.0 when the container does not say
    audio_codec: str
    has_video: bool


def probe_media(path: Path) -> MediaInfo:
    if not path.exists():
        raise MediaError("The media file is missing.")
    if path.stat().st_size == 0:
        raise MediaError("The file is empty.")
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            audio = next(iter(container.streams.audio), None)
            if audio is None:
                raise MediaError("The file has no audio stream, so there is no speech to transcribe.")
            duration = float(container.duration / av.time_base) if container.duration else 0.0
            if not duration and audio.duration and audio.time_base:
                duration = float(audio.duration * audio.time_base)
            return MediaInfo(
                duration=duration,
                audio_codec=audio.codec_context.name,
                has_video=bool(container.streams.video),
            )
    except av.error.FFmpegError as exc:
        raise MediaError("The file is not a readable audio or video file (corrupt or unsupported format).") from exc
