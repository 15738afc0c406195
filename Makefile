# Two commands do everything on a fresh machine:
#   make run    set up, ingest corpus/ into the embedded index, serve the API and web page
#   make test   set up, run the whole test suite
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT_PACKAGES := tesseract-ocr tesseract-ocr-dan tesseract-ocr-eng chromium fonts-dejavu-core wdanish mythes-da dict-freedict-dan-eng
HOST ?= 127.0.0.1
PORT ?= 8765
export OPS_DATA_DIR ?= $(CURDIR)/data

.PHONY: setup system-packages run ingest serve test lint bench

setup: system-packages $(STAMP)

# Debian packages: OCR (tesseract + Danish) and Chromium for the browser tests.
system-packages:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages: $$missing"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# torch first, pinned to the CPU build: otherwise sentence-transformers pulls a CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[st,dev]'
	touch $(STAMP)

ingest: setup
	$(BIN)/ops-search ingest corpus/

serve: setup
	$(BIN)/ops-search serve --host $(HOST) --port $(PORT)

run: ingest serve

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: setup
	$(BIN)/python bench/embed_throughput.py
	$(BIN)/python bench/query_latency.py
