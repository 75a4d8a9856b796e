"""The transcription engine: faster-whisper, yt-dlp, PyAV probing and subtitle formats. No Django imports here."""
