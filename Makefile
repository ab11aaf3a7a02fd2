# Two commands: `make run` (the main job) and `make test`. Both build .venv first:
# a Python >= 3.12 found on this machine (tools/find-python), pinned deps from requirements.lock.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

ASSETS := .cache/solara-cdn
HOST   ?= 127.0.0.1
PORT   ?= 8765
CLASS  ?=
LEVEL  ?= $(or $(CLASSROOM_LEVEL),university)
# Small matrices everywhere: OpenBLAS threads only spin (experiments/__init__.py says why).
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: run test bench classroom assets clean help

help:
	@echo "make run    set up .venv and run the main job (results/ ... figures)"
	@echo "make test   set up .venv and run the test suite"
	@echo "make bench  run the benchmarks (experiments/bench.py)"
	@echo "make classroom [HOST=0.0.0.0] [PORT=8765] [CLASS=monday-3rd] [LEVEL=school]  serve the classroom app"
	@echo "               (HOST=0.0.0.0: the class's LAN; CLASS: exports go to results/classroom/<CLASS>/;"
	@echo "                LEVEL: the reading level new tabs start at, university (default) or school)"

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || { python=$$(tools/find-python) && echo "creating $(VENV) with $$python" && "$$python" -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m experiments.run scenario=jan2022 protocol=eu seed=1 rounds=20
	$(PY) -m experiments.sweep sweep=smoke sweep.workers=2

# Solara's front-end files, from the npm registry, served by the app itself (no CDN at run time).
$(ASSETS)/.stamp: tools/fetch-solara-assets
	@if command -v npm >/dev/null; then tools/fetch-solara-assets $(ASSETS) && touch $@; \
	else echo "warning: npm not found: the classroom app and its browser test need Solara's assets (tools/fetch-solara-assets)"; fi

assets: $(ASSETS)/.stamp

test: $(STAMP) $(ASSETS)/.stamp
	SOLARA_ASSETS_PROXY_CACHE_DIR=$(abspath $(ASSETS)) $(PY) -m pytest

# PYTHONPATH: this checkout's sim/ (solara's script would otherwise import the installed one).
# apps/serve.py checks CLASS and LEVEL, serves the assets read-only and runs `solara run apps/classroom.py`.
classroom: $(STAMP) $(ASSETS)/.stamp
	PYTHONPATH=$(CURDIR) CLASSROOM_CLASS="$(CLASS)" CLASSROOM_LEVEL="$(LEVEL)" SOLARA_THEME_SHOW_BANNER=false \
		SOLARA_ASSETS_PROXY_CACHE_DIR=$(abspath $(ASSETS)) $(PY) -m apps.serve --host $(HOST) --port $(PORT)

bench: $(STAMP)
	$(PY) -m experiments.bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .cache
