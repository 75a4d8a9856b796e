# The two commands a new user needs: `make run` and `make test`. Everything else is for developers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run worker test lint format bench migrate system-deps

$(BIN)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed requirements-test.txt
	$(BIN)/python -m pip install -q -r requirements-test.txt
	touch $@

migrate: $(BIN)/.installed
	$(BIN)/python manage.py migrate --noinput

run: migrate
	$(BIN)/python manage.py collectstatic --noinput -v0
	@echo "VideoAgent: open http://$(HOST):$(PORT)/"
	$(BIN)/daphne -b $(HOST) -p $(PORT) videoagent.asgi:application

# A transcription worker (scaling out: README, "Scaling out"). It needs the database, the broker
# (CELERY_BROKER_URL, or REDIS_URL), the channel layer and the shared MEDIA_DIR; no Daphne, no Claude CLI.
# WORKER_CONCURRENCY: transcriptions at once on this machine (threads sharing one loaded model); it is also the
# worker's TRANSCRIPTION_CONCURRENCY, so each thread of the pool has its slot.
WORKER_CONCURRENCY ?= 1
worker: migrate
	TRANSCRIPTION_CONCURRENCY=$(WORKER_CONCURRENCY) $(BIN)/celery -A videoagent worker --queues transcription --pool threads \
		--concurrency $(WORKER_CONCURRENCY) --hostname transcription@%h --loglevel INFO

# The Debian packages the tests need (espeak-ng, chromium), checked first: installed when that asks no password
# (root, or sudo -n), otherwise make stops here with the command to run.
system-deps:
	scripts/system-deps

test: system-deps $(BIN)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(BIN)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(BIN)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(BIN)/.installed-test
	$(BIN)/python bench/transcription.py
	$(BIN)/python bench/coverage.py
	$(BIN)/python bench/chat.py
	$(BIN)/python bench/cluster.py
	$(BIN)/python bench/recovery.py
