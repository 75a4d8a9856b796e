"""Transcript formats: plain text, SubRip (SRT), WebVTT and JSON.

SRT: numbered cues, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, a blank line between cues.
VTT: a `WEBVTT` header line, a blank line, then cues with `HH:MM:SS.mmm --> HH:MM:SS.mmm`. Cue text is markup in
WebVTT: `&`, `<` and `>` are written `&amp;`, `&lt;`, `&gt;` (players drop or misread them raw). SRT has no
escapes; its text stays as spoken.
Both use subtitle-sized cues cut from the segments' words (subtitles.py); JSON keeps the segments with their words.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping
from typing import Any

from transcripts.engine.subtitles import build_cues

FORMATS: dict[str, str] = {
    "txt": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "json": "application/json",
}

Segment = Mapping[str, Any]


def timestamp(seconds: float, *, decimal_marker: str) -> str:
    """`3725.5` → `01:02:05,500` (SRT) or `01:02:05.500` (VTT)."""
    total_ms = max(0, round(seconds * 1000))
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal_marker}{millis:03d}"


def _cues(segments: Iterable[Segment], decimal_marker: str) -> list[tuple[str, str]]:
    def stamp(seconds: float) -> str:
        return timestamp(seconds, decimal_marker=decimal_marker)

    return [(f"{stamp(cue.start)} --> {stamp(cue.end)}", cue.text) for cue in build_cues(segments)]


def to_srt(segments: Iterable[Segment]) -> str:
    blocks = [f"{number}\n{times}\n{text}" for number, (times, text) in enumerate(_cues(segments, ","), start=1)]
    return "\n\n".join(blocks) + "\n" if blocks else ""


def to_vtt(segments: Iterable[Segment]) -> str:
    blocks = [f"{times}\n{html.escape(text, quote=False)}" for times, text in _cues(segments, ".")]
    return "WEBVTT\n\n" + "\n\n".join(blocks) + ("\n" if blocks else "")


def to_text(text: str) -> str:
    return text.strip() + "\n" if text.strip() else ""


def render_transcript(
    fmt: str,
    *,
    title: str,
    language: str,
    duration: float,
    segments: list[dict[str, Any]],
    text: str,
    languages: list[str] | None = None,
    gaps: list[dict[str, float]] | None = None,
) -> str:
    """The transcript in one of FORMATS; ValueError for an unknown format."""
    if fmt == "txt":
        return to_text(text)
    if fmt == "srt":
        return to_srt(segments)
    if fmt == "vtt":
        return to_vtt(segments)
    if fmt == "json":
        document = {
            "title": title,
            "language": language,
            "languages": languages or ([language] if language else []),
            "duration": duration,
            "text": text,
            "segments": [
                {
                    "start": s["start"],
                    "end": s["end"],
                    "text": s["text"],
                    "language": s.get("language") or language,
                    "words": s.get("words", []),
                    "edited": bool(s.get("edited")),
                }
                for s in segments
            ],
            "gaps": gaps or [],
        }
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    raise ValueError(f"Unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
