"""VideoAgent settings: one module, every value read from the environment with a laptop-friendly default.

The README lists every variable. Absent DATABASE_URL means SQLite in the data directory; absent REDIS_URL means the
in-memory channel layer (one server process only).
"""

from __future__ import annotations

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from videoagent.env import database_from_url, env_bool, env_choice, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DATA_DIR = Path(env_str("VIDEOAGENT_DATA_DIR", str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
# Uploads, transcripts' files and kept media. Every web process and worker must see the same folder: with several
# machines, mount one shared volume here (MEDIA_DIR) on each.
MEDIA_ROOT = Path(env_str("MEDIA_DIR", str(DATA_DIR / "media"))).resolve()
MODEL_CACHE_DIR = DATA_DIR / "models"
AGENT_HOME_DIR = DATA_DIR / "agent"
# A job's scratch files (a download in progress) live here, one folder per job; a start-up sweep removes the
# folders of jobs that no longer run, so a crash never leaves partial downloads behind for good.
JOB_WORK_DIR = DATA_DIR / "work"


def _load_or_create_secret_key() -> str:
    """Use SECRET_KEY if given; otherwise generate one on first start and keep it in the data directory."""
    from_env = env_str("SECRET_KEY")
    if from_env:
        return from_env
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = _load_or_create_secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", ["http://127.0.0.1:8000", "http://localhost:8000"])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "axes",
    "csp",
    # ninja in INSTALLED_APPS: /api/docs uses its bundled Swagger UI files (static/ninja/), not a CDN.
    "ninja",
    "accounts",
    "chat",
    "transcripts",
    "uploads",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Static files are answered here, by the app itself (`make run` needs no other web server), and so carry the
    # headers of the three above (nosniff, referrer policy, CSP, frame policy); a static handler in front of Django
    # sent them bare. Above sessions and login: a stylesheet needs neither.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.LoginRequiredMiddleware",
    "accounts.middleware.NotFoundMiddleware",
    "videoagent.api_errors.JsonMethodNotAllowedMiddleware",
    # Last, as axes asks: it turns a lockout flagged during authenticate() into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "videoagent.urls"
ASGI_APPLICATION = "videoagent.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": database_from_url(DATABASE_URL)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "db.sqlite3",
            # Wait for the writer instead of failing with "database is locked" under concurrent chats.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
            # Tests use a file, not shared-cache memory: worker threads then get SQLite's normal locking with
            # the timeout above instead of "table is locked" errors. One file per process for parallel runs.
            "TEST": {"NAME": str(Path(tempfile.gettempdir()) / f"videoagent-test-{os.getpid()}.sqlite3")},
        }
    }

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # A receive blocks in Redis for 5 s (channels_redis' BZPOPMIN), and redis-py 8 reads with a 5 s socket
            # timeout by default, so every websocket idle for 5 s failed with "Timeout reading". No read timeout:
            # BZPOPMIN bounds the wait itself (and a longer timeout made cancelled receives hang on Python 3.11).
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
                "prefix": env_str("CHANNEL_PREFIX", "videoagent"),
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "chat:index"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes), for the login page and the admin's alike: after LOGIN_FAILURE_LIMIT failed
# passwords for one username from one address, that pair is refused (even with the right password) until
# LOGIN_COOLOFF_MINUTES have passed since the last failure, or an administrator unlocks it (admin "Access
# attempts", or `manage.py axes_reset_username NAME`). Keying on the pair means nobody elsewhere can lock a
# user out; the price is that one address gets LOGIN_FAILURE_LIMIT tries per username.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: it refuses a locked pair before any password is checked
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_COOLOFF_MINUTES = env_int("LOGIN_COOLOFF_MINUTES", 15)
if LOGIN_FAILURE_LIMIT < 1 or LOGIN_COOLOFF_MINUTES < 1:
    raise ImproperlyConfigured("LOGIN_FAILURE_LIMIT and LOGIN_COOLOFF_MINUTES must be at least 1")
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Attempts during a lock are not counted, so the lock ends when announced; otherwise a user who keeps trying
# the right password would stay locked for as long as they keep trying.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "accounts.throttling.lockout_response"
# The client address is the socket's peer (REMOTE_ADDR) unless TRUSTED_PROXY_HEADER names the header a reverse
# proxy in front of the app sets (X-Forwarded-For, X-Real-IP). Never trust one by default: without such a proxy
# any client can send X-Forwarded-For itself, make up a new address for every attempt and never be locked.
TRUSTED_PROXY_HEADER = env_str("TRUSTED_PROXY_HEADER", "").strip()
if TRUSTED_PROXY_HEADER and not (TRUSTED_PROXY_HEADER.isascii() and TRUSTED_PROXY_HEADER.replace("-", "").isalnum()):
    raise ImproperlyConfigured(f"TRUSTED_PROXY_HEADER={TRUSTED_PROXY_HEADER!r}: give a header name like X-Real-IP")
AXES_CLIENT_IP_CALLABLE = "accounts.throttling.client_ip_address"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
# WhiteNoise serves what collectstatic gathered and, as Django's own static handler did, the app folders themselves,
# so a checkout serves its pages' files before (and without) a collectstatic.
WHITENOISE_USE_FINDERS = True
# No `Access-Control-Allow-Origin: *` (WhiteNoise's default, for fonts on a CDN): no other site reads our files.
WHITENOISE_ALLOW_ALL_ORIGINS = False
MEDIA_URL = "media/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Content-Security-Policy (django-csp) on every response: scripts, styles, images and connections from this origin
# only, so HTML that slipped into a page (a message, a transcript title) can neither run nor load anything. There is
# no inline script or style anywhere (the admin has none either); 'self' in connect-src also covers the chat's
# ws:// or wss:// websocket on the same host and port. The API docs page adds data: images (videoagent/api.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
# /api/docs and /api/openapi.json are for logged-in users and API token holders unless this publishes them.
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", False)

# Seed 1.1: one log format, module loggers, no print().
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"seed": {"format": "%(asctime)s - %(name)s - %(levelname)s - %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "seed"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # yt-dlp and httpx chatter is routed through our logger at WARNING unless asked for.
        "httpx": {"level": "WARNING"},
    },
}

# Seed 1.2: the agent actor's constants.
RESPONSE_TIMEOUT_SECONDS = env_float("RESPONSE_TIMEOUT_SECONDS", 300.0)
GREETING_TIMEOUT_SECONDS = env_float("GREETING_TIMEOUT_SECONDS", 30.0)
SESSION_TTL_SECONDS = env_float("SESSION_TTL_SECONDS", 3600.0)
CLEANUP_INTERVAL_SECONDS = env_float("CLEANUP_INTERVAL_SECONDS", 300.0)
# A chat holds one message in progress and at most QUEUE_MAX_SIZE waiting; more are refused, not saved.
QUEUE_MAX_SIZE = env_int("QUEUE_MAX_SIZE", 10)
GRACEFUL_SHUTDOWN_TIMEOUT = env_float("GRACEFUL_SHUTDOWN_TIMEOUT", 2.0)

# The agent (Claude Agent SDK). The model service is configured by ANTHROPIC_API_KEY / ANTHROPIC_AUTH_TOKEN /
# ANTHROPIC_BASE_URL, passed through to the CLI; without any of them the chat says so and the rest works.
AGENT_MODEL = env_str("AGENT_MODEL", "")
AGENT_MAX_TURNS = env_int("AGENT_MAX_TURNS", 30)
AGENT_MAX_SESSIONS = env_int("AGENT_MAX_SESSIONS", 50)
# One user may keep this many agents (CLI processes); one more stops their oldest idle one (0: no per-user cap).
AGENT_MAX_SESSIONS_PER_USER = env_int("AGENT_MAX_SESSIONS_PER_USER", 3)
# An agent whose chat has had no tab open this long is stopped (the chat resumes from the database).
AGENT_IDLE_DISCONNECTED_SECONDS = env_float("AGENT_IDLE_DISCONNECTED_SECONDS", 120.0)
AGENT_MAX_RETRIES = env_int("AGENT_MAX_RETRIES", 2)
AGENT_API_TIMEOUT_SECONDS = env_float("AGENT_API_TIMEOUT_SECONDS", 120.0)
# With several server processes (REDIS_URL), a chat's agent runs in the one process holding the chat's lease in
# Redis, renewed every third of this; a process that dies holds it at most this long, then another takes over.
AGENT_LEASE_SECONDS = env_float("AGENT_LEASE_SECONDS", 15.0)
if AGENT_LEASE_SECONDS <= 0:
    raise ImproperlyConfigured("AGENT_LEASE_SECONDS must be more than 0")
CHAT_MESSAGE_MAX_CHARS = env_int("CHAT_MESSAGE_MAX_CHARS", 20_000)
# Messages one user may send a minute, across their chats and tabs: each costs model calls (0: no limit).
CHAT_MESSAGES_PER_MINUTE = env_int("CHAT_MESSAGES_PER_MINUTE", 20)
if min(AGENT_MAX_SESSIONS_PER_USER, CHAT_MESSAGES_PER_MINUTE) < 0 or AGENT_IDLE_DISCONNECTED_SECONDS <= 0:
    raise ImproperlyConfigured(
        "AGENT_MAX_SESSIONS_PER_USER and CHAT_MESSAGES_PER_MINUTE must be 0 or more, "
        "AGENT_IDLE_DISCONNECTED_SECONDS more than 0"
    )

# Transcription (faster-whisper + yt-dlp).
# The models users may choose; the first is the default. `base` (bundled, multilingual) hears every language;
# `tiny.en` (bundled) is the fast English-only choice. WHISPER_MODEL, when set, is put first.
WHISPER_MODEL = env_str("WHISPER_MODEL") or env_list("WHISPER_MODELS", ["base"])[0]
WHISPER_MODELS = list(dict.fromkeys([WHISPER_MODEL, *env_list("WHISPER_MODELS", ["base", "tiny.en"])]))
# "batched" (BatchedInferencePipeline over the speech chunks) or "sequential" (the classic decoder over the same
# chunks, not conditioned on its previous text); bench/transcription.py compares them.
WHISPER_DECODING = env_choice("WHISPER_DECODING", "batched", ("batched", "sequential"))
WHISPER_BATCH_SIZE = env_int("WHISPER_BATCH_SIZE", 8)
# A multilingual model that listens for other languages when an English-only model transcribes ("" turns it off).
WHISPER_LANGUAGE_DETECTOR = env_str("WHISPER_LANGUAGE_DETECTOR", "base")
WHISPER_DEVICE = env_str("WHISPER_DEVICE", "auto")
WHISPER_COMPUTE_TYPE = env_str("WHISPER_COMPUTE_TYPE", "")  # empty: int8 on CPU, float16 on CUDA
WHISPER_BEAM_SIZE = env_int("WHISPER_BEAM_SIZE", 5)
# 0: on a worker CTranslate2 picks; in the embedded mode, every core but one (the web process keeps a core).
WHISPER_CPU_THREADS = env_int("WHISPER_CPU_THREADS", 0)
WHISPER_VAD_FILTER = env_bool("WHISPER_VAD_FILTER", True)
TRANSCRIPTION_CONCURRENCY = env_int("TRANSCRIPTION_CONCURRENCY", 1)
# In the embedded mode Whisper runs in a child process of the web server (transcripts/whisper_process.py), which
# keeps its loaded model for the next job and stops after this many seconds without one.
WHISPER_PROCESS_IDLE_SECONDS = env_float("WHISPER_PROCESS_IDLE_SECONDS", 300.0)

# Where jobs run (transcripts/runner.py). "local": threads of the process that created the job (the embedded
# default). "celery": Celery workers (`make worker`) through CELERY_BROKER_URL. "auto": celery when a broker is
# configured, else local. CELERY_BROKER_URL defaults to REDIS_URL, so a deployment with Redis uses workers.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or env_str("REDIS_URL")
TRANSCRIPTION_RUNNER = env_choice("TRANSCRIPTION_RUNNER", "auto", ("auto", "local", "celery"))
if TRANSCRIPTION_RUNNER == "auto":
    TRANSCRIPTION_RUNNER = "celery" if CELERY_BROKER_URL else "local"
# A job's runner refreshes its heartbeat every JOB_HEARTBEAT_SECONDS; one silent for JOB_HEARTBEAT_TIMEOUT_SECONDS
# is dead (its process was killed, or its machine lost), so recovery and a redelivered job may take it over.
JOB_HEARTBEAT_SECONDS = env_float("JOB_HEARTBEAT_SECONDS", 10.0)
JOB_HEARTBEAT_TIMEOUT_SECONDS = env_float("JOB_HEARTBEAT_TIMEOUT_SECONDS", 60.0)
# Every worker (and the web process in the embedded mode) looks this often for jobs whose runner is dead and runs
# them again (transcripts/sweep.py): a killed worker's job is running again within about timeout + this, without
# waiting for the broker's visibility timeout.
JOB_SWEEP_SECONDS = env_float("JOB_SWEEP_SECONDS", 30.0)
# How often a job may start (a worker that died mid-job hands it to another); then it fails with a message.
TRANSCRIPTION_MAX_ATTEMPTS = env_int("TRANSCRIPTION_MAX_ATTEMPTS", 3)
# The longest a job may take. The broker hands an unacknowledged job to another worker only after its visibility
# timeout, which must be longer than this (Redis; for RabbitMQ set its consumer_timeout likewise).
TRANSCRIPTION_TIME_LIMIT_SECONDS = env_int("TRANSCRIPTION_TIME_LIMIT_SECONDS", 4 * 3600)
CELERY_VISIBILITY_TIMEOUT_SECONDS = env_int(
    "CELERY_VISIBILITY_TIMEOUT_SECONDS", TRANSCRIPTION_TIME_LIMIT_SECONDS + 1800
)
# Seconds to wait for the broker when a job is submitted; then the submit fails with "queue unavailable".
CELERY_PUBLISH_TIMEOUT_SECONDS = env_float("CELERY_PUBLISH_TIMEOUT_SECONDS", 5.0)
# Delivery that survives a worker's death: a job's message is acknowledged only when the job has ended
# (acks_late), put back if the worker process is lost, and a worker takes one message at a time (prefetch 1), so
# no job waits behind a busy worker. The job row is the result: no result backend.
CELERY_TASK_DEFAULT_QUEUE = "transcription"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = TRANSCRIPTION_TIME_LIMIT_SECONDS
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = CELERY_PUBLISH_TIMEOUT_SECONDS
# How often a worker looks for messages whose worker died (Redis: unacknowledged past the visibility timeout).
CELERY_RESTORE_INTERVAL_SECONDS = env_int("CELERY_RESTORE_INTERVAL_SECONDS", 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT_SECONDS,
    "unacked_restore_interval": CELERY_RESTORE_INTERVAL_SECONDS,
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": CELERY_PUBLISH_TIMEOUT_SECONDS,
    "socket_timeout": CELERY_PUBLISH_TIMEOUT_SECONDS,
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # the worker logs in LOGGING's format, like the web processes
DOWNLOAD_MAX_BYTES = env_int("DOWNLOAD_MAX_BYTES", 1024 * 1024 * 1024)
DOWNLOAD_MAX_DURATION_SECONDS = env_int("DOWNLOAD_MAX_DURATION_SECONDS", 4 * 3600)
DOWNLOAD_SOCKET_TIMEOUT_SECONDS = env_float("DOWNLOAD_SOCKET_TIMEOUT_SECONDS", 30.0)
# Tests turn this on to fetch from a local HTTP server; production keeps the server out of its own network.
ALLOW_PRIVATE_URLS = env_bool("ALLOW_PRIVATE_URLS", False)

# Keep a link's downloaded audio with its transcript (for the player; deleted with the transcript). Uploads are
# kept anyway, as the user's own files.
KEEP_MEDIA = env_bool("KEEP_MEDIA", True)

# Uploads (seed 5.4).
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 500 * 1024 * 1024)
UPLOAD_ALLOWED_EXTENSIONS = env_list(
    "UPLOAD_ALLOWED_EXTENSIONS",
    [".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v", ".mp3", ".m4a", ".wav", ".flac", ".ogg", ".opus"],
)
# Requests are streamed to disk above this size rather than held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = None
# The size cap is enforced while a multipart body is parsed (uploads/handlers.py), then Django's usual handlers.
FILE_UPLOAD_HANDLERS = [
    "uploads.handlers.SizeLimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
