"""A clip of more than three minutes through the job service: subtitle-sized cues, words kept, honest progress."""

from __future__ import annotations

import json
import time

import pytest
from django.core.files import File

from tests.job_helpers import transcribe_now
from tests.media import LONG_PARAGRAPHS, normalise, word_error_rate
from tests.transcripts.test_jobs import parse_srt, parse_vtt
from transcripts.models import JobStatus, Transcript
from uploads.models import Upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def seconds(stamp: str) -> float:
    hours, minutes, rest = stamp.replace(",", ".").split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


def test_long_media_gives_subtitle_sized_cues_without_losing_a_word_and_progress_that_moves(
    alice, long_speech, monkeypatch
):
    events: list[tuple[float, dict]] = []
    monkeypatch.setattr(
        "transcripts.progress.send_event", lambda groups, event: events.append((time.monotonic(), dict(event)))
    )
    with long_speech.open("rb") as handle:
        upload = Upload.objects.create(owner=alice, original_name="talk.mp4", file=File(handle, name="talk.mp4"))
    started = time.monotonic()
    job = transcribe_now(alice, str(upload.id))
    finished = time.monotonic()

    assert job.status == JobStatus.DONE, job.error
    transcript = Transcript.objects.get(pk=job.transcript_id)
    assert transcript.duration >= 180
    reference = " ".join(LONG_PARAGRAPHS * 2 + LONG_PARAGRAPHS[:2])
    assert word_error_rate(reference, transcript.text) <= 0.15, transcript.text

    # Subtitles: at most 7 s and two lines of 42 characters per cue; every word of the text, in order.
    files = {path.suffix: path.read_text() for path in transcript.files_dir.iterdir()}
    srt, vtt = parse_srt(files[".srt"]), parse_vtt(files[".vtt"])
    assert len(srt) == len(vtt) > len(transcript.segments)
    for _, start, end, text in srt:
        assert 0 < seconds(end) - seconds(start) <= 7.0, (start, end, text)
        lines = text.split("\n")
        assert len(lines) <= 2 and all(len(line) <= 42 for line in lines), text
    cue_starts = [seconds(start) for _, start, _, _ in srt]
    assert cue_starts == sorted(cue_starts)
    assert normalise(" ".join(text for _, _, _, text in srt)) == normalise(transcript.text)
    assert normalise(" ".join(text for _, _, text in vtt)) == normalise(transcript.text)

    # JSON keeps the segments, each with its language and its words with times.
    document = json.loads(files[".json"])
    assert document["languages"] == ["en"]
    for segment in document["segments"]:
        assert segment["language"] == "en" and segment["words"]
        assert normalise(" ".join(word["word"] for word in segment["words"])) == normalise(segment["text"])
        assert all(segment["start"] - 0.5 <= w["start"] <= w["end"] <= segment["end"] + 0.5 for w in segment["words"])

    # Progress moves with the work: several values between 0 and 100, the first in the first half of the job.
    between = [(at, event["percent"]) for at, event in events if 0 < event["percent"] < 100]
    assert len({percent for _, percent in between}) >= 4, [event["percent"] for _, event in events]
    assert between[0][0] - started < (finished - started) / 2
    assert [event["percent"] for _, event in events] == sorted(event["percent"] for _, event in events)
