# Two commands: `make run` (the main job) and `make test`. Both build .venv first:
# a Python >= 3.12 found on this machine (tools/find-python), pinned deps from requirements.lock.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test bench clean help

help:
	@echo "make run    set up .venv and run the main job (results/ ... figures)"
	@echo "make test   set up .venv and run the test suite"
	@echo "make bench  run the benchmarks (experiments/bench.py)"

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || { python=$$(tools/find-python) && echo "creating $(VENV) with $$python" && "$$python" -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m experiments.run scenario=jan2022 protocol=eu seed=1 rounds=20
	$(PY) -m experiments.sweep sweep=smoke sweep.workers=2

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m experiments.bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
