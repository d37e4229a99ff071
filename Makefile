# mlflowx: `make demo` and `make test` do all set-up on a fresh Debian 12 machine (Python >= 3.11).
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
export PYTHONDONTWRITEBYTECODE =
export PREFECT_SERVER_ANALYTICS_ENABLED = false
export DO_NOT_TRACK = 1
export PREFECT_LOGGING_LEVEL = WARNING

.PHONY: install demo test lint typecheck bench clean

$(STAMP):
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "mlflowx needs Python >= 3.11"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## The pipeline on the embedded defaults (SQLite, local artifacts, ephemeral Prefect, all under
## ./demo-home): train -> evaluate -> register -> deploy. DEMO_DEPLOY=docker rolls out a container.
DEMO_DEPLOY ?= process
demo: install
	MLFLOWX_HOME=$(CURDIR)/demo-home PREFECT_HOME=$(CURDIR)/demo-home/prefect \
	PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=$${PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS:-90} \
	$(PY) flows/demo.py --deploy $(DEMO_DEPLOY)

lint: install
	$(VENV)/bin/ruff check mlflowx tests bench flows
	$(VENV)/bin/ruff format --check mlflowx tests bench flows
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

typecheck: install
	$(VENV)/bin/mypy

test: install lint
	$(VENV)/bin/pytest -n 2 --dist loadgroup -q

bench: install
	$(PY) bench/tracking.py
	$(PY) bench/server.py
	$(PY) bench/serving.py
	$(PY) bench/orchestration.py
	$(PY) bench/ui.py

clean:
	rm -rf $(VENV) demo-home .pytest_cache .mypy_cache .ruff_cache
