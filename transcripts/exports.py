"""A transcript as files: each format rendered for download, and the copies kept beside it on disk."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from django.utils.text import slugify

from transcripts.engine.formats import FORMATS, render_transcript
from transcripts.models import Transcript

EXPORT_FORMATS = ("txt", "srt", "vtt", "json")
FILENAME_STEM_MAX = 80


@dataclass(frozen=True)
class TranscriptFile:
    """A transcript rendered in one format, ready to send as an attachment."""

    filename: str
    content_type: str
    content: str


def safe_filename(title: str, extension: str) -> str:
    """An ASCII file name derived from the title: no path separators, quotes or control characters survive."""
    stem = slugify(title, allow_unicode=False)[:FILENAME_STEM_MAX].strip("-_") or "transcript"
    return f"{stem}.{extension}"


def export_transcript(transcript: Transcript, fmt: str) -> TranscriptFile:
    """Render `transcript` as txt, srt, vtt or json (ValueError for any other format)."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    content = render_transcript(
        fmt,
        title=transcript.title,
        language=transcript.language,
        languages=transcript.languages,
        duration=transcript.duration,
        segments=transcript.segments,
        text=transcript.text,
        gaps=transcript.gaps,
    )
    return TranscriptFile(safe_filename(transcript.title, fmt), FORMATS[fmt], content)


def export_transcripts_zip(transcripts: list[Transcript]) -> bytes:
    """A zip of TXT files, one per transcript; equal titles get numbered names instead of overwriting each other."""
    buffer = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for transcript in transcripts:
            exported = export_transcript(transcript, "txt")
            name = exported.filename
            counter = 1
            while name in used:
                counter += 1
                name = exported.filename.removesuffix(".txt") + f"-{counter}.txt"
            used.add(name)
            archive.writestr(name, exported.content)
    return buffer.getvalue()


def write_transcript_files(transcript: Transcript) -> None:
    """Export every format into the transcript's own directory (removed with the transcript)."""
    transcript.files_dir.mkdir(parents=True, exist_ok=True)
    for fmt in FORMATS:
        exported = export_transcript(transcript, fmt)
        (transcript.files_dir / f"transcript.{fmt}").write_text(exported.content, encoding="utf-8")
