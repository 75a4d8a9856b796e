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
# The English half of tests/data/multilingual.mp3 (shared/data/speech/README.md); the German half reads the same
# licence text in German, so these words of its German translation must come back from a German transcription.
LICENCE_WORDS = (
    "Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated "
    "documentation files, to deal in the software without restriction, including without limitation the rights to "
    "use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the software, and to permit "
    "persons to whom the software is furnished to do so, subject to the following conditions: The above copyright "
    "notice and this permission notice shall be included in all copies or substantial portions of the software."
)
GERMAN_LICENCE_WORDS = {"software", "dokumentationsdateien", "kopie", "hiermit", "unentgeltlich", "personen"}
MULTILINGUAL_ENGLISH_SECONDS = 30.0  # the German half starts after the pause at about 30 s
# Three sentences with one-second pauses, English, then German, then English: all inside one 30-second window.
LANGUAGE_SWITCH = (
    ("en-us", "Welcome to the weekly news. The city council met on Monday to discuss the new library."),
    ("de", "Guten Abend und willkommen. Heute sprechen wir über das Wetter in Berlin und die neue Brücke."),
    ("en-us", "Most members agreed that the building should open next spring."),
)
# Varied English paragraphs for a clip of more than three minutes (batched decoding, subtitle cues, progress).
LONG_PARAGRAPHS = (
    SYNTHETIC_TEXT,
    "Every morning the harbour opens at six. Fishing boats return with their catch, and the market fills with "
    "traders who argue about the price of cod and mackerel. By noon the stalls are empty and the gulls take over "
    "the quay.",
    "The museum on the hill keeps a collection of old maps. Some of them show islands that were never found, and "
    "rivers that flow in the wrong direction. Visitors like to compare them with modern satellite pictures.",
    "Our train leaves platform four at half past nine. Please keep your ticket until the end of the journey, and "
    "remember that the quiet carriage is at the front of the train.",
    "The garden club meets on the first Saturday of every month. This spring the members planted tomatoes, "
    "beans and sunflowers along the south wall, and the children built a small pond for frogs.",
    "Scientists at the university have measured the temperature of the lake for thirty years. The water is now "
    "two degrees warmer in summer, and some fish have moved to deeper and colder parts of the lake.",
)


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Lower-case both sides, strip punctuation, word-level edit distance / reference words."""
    return jiwer.wer(normalise(reference), normalise(hypothesis))


def espeak_wav(text: str, path: Path, voice: str = "en-us") -> Path:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise RuntimeError("espeak-ng is not installed (.ci/run installs it: apt-get install espeak-ng)")
    subprocess.run([espeak, "-v", voice, "-s", "150", "-w", str(path), text], check=True)
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


def spoken_mp4(parts: list[tuple[str, str]], path: Path, pause_seconds: float = 1.0) -> Path:
    """(voice, text) parts spoken one after another with a pause after each, as one MP4."""
    pieces, rate = [], SAMPLE_RATE
    for index, (voice, text) in enumerate(parts):
        samples, rate = read_audio(espeak_wav(text, path.with_suffix(f".{index}.wav"), voice))
        pieces += [samples, np.zeros(int(pause_seconds * rate), dtype=np.float32)]
    return write_mp4(path, np.concatenate([np.zeros(rate // 2, dtype=np.float32), *pieces]), rate=rate)


# Real speech cut from multilingual.mp3 (seconds in that file) and the words each piece says, for recordings that
# switch language inside one 30-second window: the reader is the same, so only the language tells them apart.
REAL_PIECES = {
    "en-a": (
        (0.0, 4.84),
        "Permission is hereby granted, free of charge, to any person obtaining a copy of this software",
    ),
    "en-b": (
        (0.0, 8.85),
        "Permission is hereby granted, free of charge, to any person obtaining a copy of this software "
        "and associated documentation files to deal in the software without restriction",
    ),
    "en-c": (
        (23.05, 29.4),
        "the above copyright notice and this permission notice shall be included in all copies or "
        "substantial portions of the software",
    ),
    "de-a": ((30.5, 36.0), "Jeden, der diese Software und die dazugehörigen Dokumentationsdateien erhält"),
    "de-b": ((42.2, 45.95), "Dies umfasst insbesondere das Recht, die Software zu verwenden"),
}


# English, German (under half a second of pause), German, about a second, English: one VAD chunk, three parts.
ENGLISH_GERMAN_ENGLISH = [("en-a", 0.4), ("de-a", 0.3), ("de-b", 1.0), ("en-c", 0.5)]
GERMAN_ENGLISH_GERMAN = [("de-a", 0.4), ("en-b", 1.0), ("de-b", 0.5)]


def real_speech_mp4(source: Path, path: Path, parts: list[tuple[str, float]], babble_seconds: float = 0.0) -> Path:
    """(piece of REAL_PIECES, pause after it in seconds) one after another, with 0.3 s of silence first.

    babble_seconds puts that much babble after the first piece: six copies of the source's speech at once, which
    the VAD takes for speech and in which no words can be told.
    """
    samples, rate = read_audio(source)
    pieces = [np.zeros(int(0.3 * rate), dtype=np.float32)]
    for index, (name, pause) in enumerate(parts):
        (start, end), _ = REAL_PIECES[name]
        pieces += [samples[int(start * rate) : int(end * rate)], np.zeros(int(pause * rate), dtype=np.float32)]
        if index == 0 and babble_seconds:
            pieces += [babble(samples, int(babble_seconds * rate)), np.zeros(int(pause * rate), dtype=np.float32)]
    return write_mp4(path, np.concatenate(pieces), rate=rate)


def babble(samples: np.ndarray, length: int, voices: int = 6) -> np.ndarray:
    """`voices` copies of the speech, each shifted by a prime number of samples, summed: a crowd talking at once."""
    repeated = np.tile(samples, -(-length * 2 // len(samples)))
    crowd = sum(np.roll(repeated, voice * 7919 * 5)[:length] for voice in range(voices))
    return (crowd / (voices / 2)).astype(np.float32)


def reference_words(parts: list[tuple[str, float]], language: str) -> str:
    """The words the pieces of one language say, in order (their names start with the language code)."""
    return " ".join(REAL_PIECES[name][1] for name, _ in parts if name.startswith(language))


# Two real sentences of two voices, repeated with 2 s pauses: Whisper base, decoding the default 30-second chunks,
# wrote one sentence of some windows and stopped (12 of 24 "what your country" and 16 of 24 "permission" on 326 s).
ASK_NOT = ((2.85, 7.6), "ask not what your country can do for you")  # seconds of jfk.flac


def repeated_sentences_mp4(jfk: Path, multilingual: Path, path: Path, repeats: int, pause: float = 2.0) -> Path:
    """JFK's "ask not what your country can do for you" and the licence's first sentence, one after the other."""
    from faster_whisper import decode_audio

    (ask_start, ask_end), _ = ASK_NOT
    (licence_start, licence_end), _ = REAL_PIECES["en-a"]
    ask = decode_audio(str(jfk), sampling_rate=SAMPLE_RATE)[int(ask_start * SAMPLE_RATE) : int(ask_end * SAMPLE_RATE)]
    licence = decode_audio(str(multilingual), sampling_rate=SAMPLE_RATE)
    licence = licence[int(licence_start * SAMPLE_RATE) : int(licence_end * SAMPLE_RATE)]
    silence = np.zeros(int(pause * SAMPLE_RATE), dtype=np.float32)
    pieces = [np.zeros(SAMPLE_RATE // 4, dtype=np.float32)] + [ask, silence, licence, silence] * repeats
    return write_mp4(path, np.concatenate(pieces), rate=SAMPLE_RATE)


def cut_mp4(source: Path, path: Path, *, start: float, end: float | None = None) -> Path:
    """The part of `source` from start to end (seconds) as an MP4."""
    samples, rate = read_audio(source)
    return write_mp4(path, samples[int(start * rate) : None if end is None else int(end * rate)], rate=rate)
