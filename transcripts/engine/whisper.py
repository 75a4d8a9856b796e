"""faster-whisper: one model per process, shared by every thread, and a transcription that follows the speech.

The recording is decoded once; speech.py finds the speech, cuts it into 30-second chunks and tells each chunk's
language; the chunks are then decoded a few at a time, each group in its own language, with word timestamps; and
coverage.py decodes again what the words left out, so that no speech goes missing without a reported gap.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transcripts.engine import coverage, speech
from transcripts.engine.languages import MULTIPLE, is_english_only, language_name
from transcripts.engine.models import resolve_model

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[float], None]  # percent, 0–100
ANALYSIS_SHARE = 10.0  # percent of the transcription given to finding the speech and its languages
RECOVERY_SHARE = 5.0  # percent kept for decoding again the speech that the first pass skipped
FOREIGN_SPEECH_PROBABILITY = 0.5  # an English-only model's input counts as foreign above this
ENGLISH_CHECK_MAX_CHUNKS = 8  # chunks sampled to check an English-only model's input (each costs an encoder pass)
DECODINGS = ("batched", "sequential")


@dataclass(frozen=True)
class EngineConfig:
    model: str = "base"
    device: str = "auto"  # auto | cpu | cuda
    compute_type: str = ""  # empty: int8 on CPU, float16 on CUDA
    beam_size: int = 5
    cpu_threads: int = 0
    # Model replicas that run concurrently (CTranslate2 `inter_threads`): with one, parallel jobs would take
    # turns inside the model anyway; set it to the number of transcriptions allowed at once.
    num_workers: int = 1
    vad_filter: bool = True
    cache_dir: Path = Path("data/models")
    # How chunks are decoded (bench/transcription.py measures both): "batched", BatchedInferencePipeline over the
    # speech chunks; or "sequential", the classic decoder over the same chunks without conditioning on its own
    # previous text (which drops runs of words on long media).
    decoding: str = "batched"
    batch_size: int = 8
    # A multilingual model that checks an English-only model's input for other languages ("" turns it off).
    language_detector: str = "base"


@dataclass
class TranscriptionResult:
    language: str  # one code, or "multiple"
    language_probability: float
    duration: float
    languages: list[str] = field(default_factory=list)
    segments: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[tuple[float, float]] = field(default_factory=list)  # speech (seconds) where no words came out
    text: str = ""
    model_name: str = ""
    task: str = "transcribe"
    decoding: str = "batched"
    warning: str = ""


_models: dict[tuple[str, str, str, int, int], Any] = {}
_models_lock = threading.Lock()


def resolved_device(device: str) -> str:
    if device != "auto":
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def resolved_compute_type(config: EngineConfig, device: str) -> str:
    return config.compute_type or ("float16" if device == "cuda" else "int8")


def load_model(config: EngineConfig, name: str | None = None) -> Any:
    """The WhisperModel `name` (default: config.model), loaded once per process (CTranslate2 is thread-safe)."""
    from faster_whisper import WhisperModel

    name = name or config.model
    device = resolved_device(config.device)
    compute_type = resolved_compute_type(config, device)
    key = (name, device, compute_type, config.cpu_threads, config.num_workers)
    with _models_lock:
        model = _models.get(key)
        if model is None:
            started = time.monotonic()
            model = WhisperModel(
                resolve_model(name, config.cache_dir),
                device=device,
                compute_type=compute_type,
                cpu_threads=config.cpu_threads,
                num_workers=max(1, config.num_workers),
                download_root=str(config.cache_dir),
            )
            _models[key] = model
            logger.info(
                "Loaded Whisper %s on %s (%s) in %.1f s", name, device, compute_type, time.monotonic() - started
            )
    return model


def transcribe_file(
    path: Path,
    config: EngineConfig,
    *,
    language: str = "",
    task: str = "transcribe",
    on_progress: ProgressCallback | None = None,
) -> TranscriptionResult:
    """Transcribe (or translate into English) an audio or video file; PyAV decodes it, no ffmpeg binary needed.

    `language` "" detects the language of every chunk, so a recording in several languages keeps all of them.
    """
    from faster_whisper import decode_audio

    report = on_progress or (lambda percent: None)
    model = load_model(config)
    english_only = not model.model.is_multilingual
    if english_only and (task != "transcribe" or language not in ("", "en")):
        raise ValueError(f"{config.model} is an English-only model")  # the job service refuses this earlier
    audio = decode_audio(str(path), sampling_rate=speech.SAMPLE_RATE)
    duration = len(audio) / speech.SAMPLE_RATE
    chunks = speech.merge_spans(speech.speech_spans(audio, vad_filter=config.vad_filter))
    report(ANALYSIS_SHARE / 3)
    warning = ""
    if language or english_only:
        for chunk in chunks:
            chunk.language, chunk.probability = language or "en", 1.0
        if english_only and language != "en":
            warning = _foreign_speech_warning(config, audio, chunks)
    else:
        speech.detect_languages(
            model,
            audio,
            chunks,
            batch_size=config.batch_size,
            on_batch=lambda done: report(ANALYSIS_SHARE * (1 + 2 * done / len(chunks)) / 3),
        )
        chunks = speech.language_runs(speech.refine_unsure(model, audio, chunks, batch_size=config.batch_size))
    report(ANALYSIS_SHARE)

    segments: list[dict[str, Any]] = []
    speech_seconds = sum(chunk.seconds for chunk in chunks) or 1.0
    done_seconds = 0.0
    decoding_share = 100 - ANALYSIS_SHARE - RECOVERY_SHARE
    for group in speech.decoding_groups(chunks, batch_size=config.batch_size):
        segments += _decode(model, audio, group, config, task=task)
        done_seconds += sum(chunk.seconds for chunk in group)
        report(ANALYSIS_SHARE + decoding_share * min(1.0, done_seconds / speech_seconds))

    def detect(parts: list[speech.Chunk]) -> None:
        speech.detect_languages(model, audio, parts, batch_size=config.batch_size, on_batch=lambda done: None)

    def decode_again(group: list[speech.Chunk]) -> list[dict[str, Any]]:
        report(100 - RECOVERY_SHARE)  # no further along, but a cancel is seen between the decodes
        return _decode(model, audio, group, config, task=task, skip_silence=True)

    segments, gaps = coverage.recover(
        chunks, segments, decode=decode_again, detect=None if language or english_only else detect
    )
    report(100.0)
    speech_heard = sum(end - start for chunk in chunks for start, end in chunk.spans)
    warning = " ".join(part for part in (warning, coverage.gap_warning(gaps, speech_heard)) if part)

    languages = list(dict.fromkeys(segment["language"] for segment in segments))
    probabilities = [chunk.probability for chunk in chunks]
    return TranscriptionResult(
        language=languages[0] if len(languages) == 1 else (MULTIPLE if languages else language or ""),
        language_probability=min(probabilities) if probabilities else 0.0,
        duration=duration,
        languages=languages,
        segments=segments,
        gaps=gaps,
        text=" ".join(segment["text"] for segment in segments),
        model_name=config.model,
        task=task,
        decoding=config.decoding,
        warning=warning,
    )


NO_SPEECH_PROBABILITY = 0.6  # faster-whisper's own rule for a window that holds no speech...
NO_SPEECH_LOGPROB = -1.0  # ...when its text is also unlikely


def _decode(
    model: Any, audio: Any, group: list[speech.Chunk], config: EngineConfig, *, task: str, skip_silence: bool = False
) -> list[dict[str, Any]]:
    """Decode chunks of one language; segment times are seconds of the whole recording.

    skip_silence drops what Whisper itself takes for no speech (the batched decoder keeps it): a stretch decoded
    again because no words came out of it is often noise, where Whisper would invent a "Thank you."
    """
    language = group[0].language
    options: dict[str, Any] = {
        "language": language,
        "task": task,
        "beam_size": config.beam_size,
        "word_timestamps": True,
        "vad_filter": False,  # the chunks are speech already
    }
    if config.decoding == "sequential":
        clips = [edge for chunk in group for edge in (chunk.start, chunk.end)]
        found, _ = model.transcribe(audio, clip_timestamps=clips, condition_on_previous_text=False, **options)
    else:
        from faster_whisper import BatchedInferencePipeline

        clips = [{"start": chunk.start, "end": chunk.end} for chunk in group]
        found, _ = BatchedInferencePipeline(model=model).transcribe(
            audio, clip_timestamps=clips, batch_size=config.batch_size, **options
        )
    text_language = "en" if task == "translate" else language
    segments = []
    for segment in found:  # a generator: decoding happens as we iterate
        text = segment.text.strip()
        if not text:
            continue
        if skip_silence and segment.no_speech_prob > NO_SPEECH_PROBABILITY and segment.avg_logprob < NO_SPEECH_LOGPROB:
            continue
        words = [
            {"start": round(word.start, 3), "end": round(word.end, 3), "word": word.word.strip()}
            for word in segment.words or []
            if word.word.strip()
        ]
        segments.append(
            {
                "start": round(segment.start, 3),
                "end": round(max(segment.end, segment.start), 3),
                "text": text,
                "language": text_language,
                "words": words,
            }
        )
    return segments


def _foreign_speech_warning(config: EngineConfig, audio: Any, chunks: list[speech.Chunk]) -> str:
    """A warning when an English-only model hears another language (checked on a sample of chunks)."""
    if not config.language_detector or not chunks or is_english_only(config.language_detector):
        return ""
    try:
        detector = load_model(config, config.language_detector)
    except Exception:  # a missing detector must not fail the transcription itself
        logger.warning("Language detector %s unavailable", config.language_detector, exc_info=True)
        return ""
    step = max(1, len(chunks) // ENGLISH_CHECK_MAX_CHUNKS)
    sample = [speech.Chunk(spans=list(chunk.spans)) for chunk in chunks[::step][:ENGLISH_CHECK_MAX_CHUNKS]]
    speech.detect_languages(detector, audio, sample, batch_size=config.batch_size, on_batch=lambda done: None)
    foreign = [c for c in sample if c.language != "en" and c.probability >= FOREIGN_SPEECH_PROBABILITY]
    if not foreign:
        return ""
    names = ", ".join(language_name(code) for code in dict.fromkeys(chunk.language for chunk in foreign))
    start, end = coverage.clock(foreign[0].start), coverage.clock(foreign[-1].end)
    return (
        f"Speech in {names} was heard (around {start}–{end}), but the {config.model} model understands only "
        f"English: that part may be missing or wrong. Transcribe it again with a multilingual model."
    )
