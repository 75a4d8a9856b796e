"""Test media made here: espeak-ng speech muxed into MP4 with PyAV, silent and broken files, and WER."""

from __future__ import annotations

import re
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import jiwer
import numpy as np

SYNTHETIC_TEXT = (
    "Welcome to the weekly news. The city council met on Monday to discuss the new library. "
    "Most members agreed that the building should open next spring. The mayor thanked everyone for their work."
)
JFK_WORDS = (
    "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
)
SAMPLE_RATE = 16_000


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Lower-case both sides, strip punctuation, word-level edit distance / reference words."""
    return jiwer.wer(normalise(reference), normalise(hypothesis))


def espeak_wav(text: str, path: Path) -> Path:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise RuntimeError("espeak-ng is not installed (.ci/run installs it: apt-get install espeak-ng)")
    subprocess.run([espeak, "-v", "en-us", "-s", "150", "-w", str(path), text], check=True)
    return path


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples in -1..1 and their rate."""
    chunks = []
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.rate
        for frame in container.decode(stream):
            data = frame.to_ndarray()
            if np.issubdtype(data.dtype, np.integer):
                data = data / float(np.iinfo(data.dtype).max + 1)  # integer PCM to the -1..1 range
            # Planar audio is (channels, samples); packed audio interleaves the channels in one row.
            channels = data if frame.format.is_planar else data.reshape(frame.samples, -1).T
            chunks.append(channels.mean(axis=0))
    return np.concatenate(chunks).astype(np.float32), rate


def write_mp4(
    path: Path, samples: np.ndarray | None, *, rate: int = SAMPLE_RATE, video_seconds: float | None = None
) -> Path:
    """An MP4 with a small video stream and, unless samples is None, an AAC audio stream."""
    seconds = video_seconds if video_seconds is not None else len(samples) / rate  # type: ignore[arg-type]
    with av.open(str(path), "w") as container:
        video = container.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = None
        if samples is not None:
            audio = container.add_stream("aac", rate=rate)
            audio.layout = "mono"
        for index in range(int(seconds * 10)):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), index % 255, dtype=np.uint8), format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, 10)
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if audio is not None and samples is not None:
            pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
            for start in range(0, len(pcm), 1024):
                chunk = pcm[start : start + 1024].reshape(1, -1)
                frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout="mono")
                frame.sample_rate = rate
                frame.pts = start
                for packet in audio.encode(frame):
                    container.mux(packet)
            for packet in audio.encode():
                container.mux(packet)
    return path


def speech_mp4(text: str, directory: Path, name: str = "speech.mp4") -> Path:
    wav = espeak_wav(text, directory / f"{name}.wav")
    samples, rate = read_audio(wav)
    # A second of silence on each side, as in real recordings.
    pad = np.zeros(rate, dtype=np.float32)
    return write_mp4(directory / name, np.concatenate([pad, samples, pad]), rate=rate)


def silent_mp4(directory: Path, seconds: float = 5.0) -> Path:
    return write_mp4(directory / "silent.mp4", np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32))


def video_only_mp4(directory: Path, seconds: float = 3.0) -> Path:
    return write_mp4(directory / "no-audio.mp4", None, video_seconds=seconds)
