# The two commands of the README:
#   make serve   set everything up (first run: a large install, with progress) and start the server
#   make test    set everything up the same way and run the whole test suite
PYTHON ?= python3.11
VENV   := .venv
STAMP  := $(VENV)/.installed

.PHONY: setup serve test bench lint

$(STAMP): pyproject.toml sdks/python/pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --upgrade --progress-bar on pip
	@echo "==> installing Vocable and its bundled models (first run: several hundred MB)"
	$(VENV)/bin/python -m pip install --progress-bar on -e '.[dev]'
	@echo "==> installing the Python SDK (sdks/python; its tests run in make test)"
	$(VENV)/bin/python -m pip install --progress-bar on -e sdks/python
	@touch $@

setup: $(STAMP)
	@$(VENV)/bin/vocable models pull base >/dev/null
	@echo "==> setup done"

serve: setup
	$(VENV)/bin/vocable serve

test: setup
	$(VENV)/bin/python -m pytest

lint: setup
	$(VENV)/bin/ruff check src tests bench
