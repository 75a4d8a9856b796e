"""faster-whisper: one model per process, shared by every thread, and a transcribe call that reports progress."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transcripts.engine.models import resolve_model

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[float], None]  # percent, 0–100


@dataclass(frozen=True)
class EngineConfig:
    model: str = "tiny.en"
    device: str = "auto"  # auto | cpu | cuda
    compute_type: str = ""  # empty: int8 on CPU, float16 on CUDA
    beam_size: int = 5
    cpu_threads: int = 0
    # Model replicas that run concurrently (CTranslate2 `inter_threads`): with one, parallel jobs would take
    # turns inside the model anyway; set it to the number of transcriptions allowed at once.
    num_workers: int = 1
    vad_filter: bool = True
    cache_dir: Path = Path("data/models")
    # Media at least this long goes through BatchedInferencePipeline (faster on long media, see bench/).
    batched_min_seconds: float = 120.0
    batch_size: int = 8


@dataclass
class TranscriptionResult:
    language: str
    language_probability: float
    duration: float
    segments: list[dict[str, Any]] = field(default_factory=list)
    text: str = ""
    model_name: str = ""
    batched: bool = False


_models: dict[tuple[str, str, str, int, int], Any] = {}
_models_lock = threading.Lock()


def resolved_device(device: str) -> str:
    if device != "auto":
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def resolved_compute_type(config: EngineConfig, device: str) -> str:
    return config.compute_type or ("float16" if device == "cuda" else "int8")


def load_model(config: EngineConfig) -> Any:
    """The WhisperModel for this configuration, loaded once per process (CTranslate2 models are thread-safe)."""
    from faster_whisper import WhisperModel

    device = resolved_device(config.device)
    compute_type = resolved_compute_type(config, device)
    key = (config.model, device, compute_type, config.cpu_threads, config.num_workers)
    with _models_lock:
        model = _models.get(key)
        if model is None:
            started = time.monotonic()
            path = resolve_model(config.model, config.cache_dir)
            model = WhisperModel(
                path,
                device=device,
                compute_type=compute_type,
                cpu_threads=config.cpu_threads,
                num_workers=max(1, config.num_workers),
                download_root=str(config.cache_dir),
            )
            _models[key] = model
            logger.info(
                "Loaded Whisper %s on %s (%s) in %.1f s", config.model, device, compute_type, time.monotonic() - started
            )
    return model


def transcribe_file(
    path: Path,
    config: EngineConfig,
    *,
    language: str | None = None,
    media_duration: float = 0.0,
    on_progress: ProgressCallback | None = None,
) -> TranscriptionResult:
    """Transcribe an audio or video file (PyAV decodes it; no ffmpeg binary needed)."""
    model = load_model(config)
    use_batched = media_duration >= config.batched_min_seconds
    options: dict[str, Any] = {"language": language or None, "beam_size": config.beam_size}
    if use_batched:
        from faster_whisper import BatchedInferencePipeline

        # The batched pipeline always splits on voice activity; it needs VAD to find its chunks.
        segments_iter, info = BatchedInferencePipeline(model=model).transcribe(
            str(path), batch_size=config.batch_size, **options
        )
    else:
        segments_iter, info = model.transcribe(str(path), vad_filter=config.vad_filter, **options)

    duration = float(info.duration or media_duration or 0.0)
    segments: list[dict[str, Any]] = []
    for segment in segments_iter:  # a generator: decoding happens as we iterate
        text = segment.text.strip()
        if text:
            segments.append({"start": round(segment.start, 3), "end": round(segment.end, 3), "text": text})
        if on_progress and duration > 0:
            on_progress(min(100.0, segment.end / duration * 100.0))
    return TranscriptionResult(
        language=info.language,
        language_probability=float(info.language_probability or 0.0),
        duration=duration,
        segments=segments,
        text=" ".join(s["text"] for s in segments),
        model_name=config.model,
        batched=use_batched,
    )
