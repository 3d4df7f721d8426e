# The two commands of the README:
#   make serve   set everything up (first run: a large install, with progress) and start the server
#   make test    set everything up the same way and run the whole test suite
PYTHON ?= python3.11
VENV   := .venv
STAMP  := $(VENV)/.installed

.PHONY: setup serve test bench lint browser

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

# The web interface's tests drive Debian's headless Chromium (never a downloaded browser build).
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "==> installing chromium and chromium-driver (browser tests of the web interface)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	else \
		echo "make test needs Chromium for the web interface's browser tests:" >&2; \
		echo "  sudo apt-get install chromium chromium-driver" >&2; \
		exit 1; \
	fi

# The layering contracts (pyproject.toml [tool.importlinter]) are part of the suite.
test: setup browser
	$(VENV)/bin/lint-imports
	$(VENV)/bin/python -m pytest

lint: setup
	$(VENV)/bin/ruff check src tests bench
