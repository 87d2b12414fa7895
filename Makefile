# Two commands for a fresh machine with Python 3.11 and pip: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint bench clean chromium app-screenshot report-screenshot

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installed markers are re-made when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,ray,app]"
	touch $@ $(VENV)/.installed

# The headline output: capability extracted versus detection spend for the Alibaba 2026 world
# (10 budgets x fixed/adaptive x 3 replicates = 60 full-scale runs, a minute or two on 2 cores).
demo: $(VENV)/.installed
	$(BIN)/distillsim sweep sweep=spend_curve scenario=alibaba_2026 'replicate=range(0,3)' | tee .demo.out
	@echo "figures: $$(tail -n 1 .demo.out)/curve.png, frontier.png, breakeven_vs_value.png; table: summary.md"
	@rm -f .demo.out

# Debian's chromium for the browser test (tests/test_app.py); Playwright drives it, so no
# `playwright install`. Installed with apt where missing (the machines' user is root).
chromium:
	@command -v chromium >/dev/null || \
		(apt-get update && apt-get install -y --no-install-recommends chromium)

test: $(VENV)/.installed-test chromium
	$(BIN)/ruff check sim tests benchmarks hydra_plugins
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

# Refresh the README's screenshot of `distillsim app` (the browser test, writing it).
app-screenshot: $(VENV)/.installed-test chromium
	mkdir -p docs/figures
	DISTILLSIM_APP_SCREENSHOT=$(CURDIR)/docs/figures/app.png $(BIN)/python -m pytest -q tests/test_app.py

# A screenshot of a results folder's report.html in the browser test (REPORT=<folder>).
report-screenshot: $(VENV)/.installed-test chromium
	@test -n "$(REPORT)" || (echo "usage: make report-screenshot REPORT=<run, sweep or study folder>"; exit 2)
	mkdir -p docs/figures
	DISTILLSIM_REPORT_FOLDER=$(abspath $(REPORT)) DISTILLSIM_REPORT_SCREENSHOT=$(CURDIR)/docs/figures/report.png \
		$(BIN)/python -m pytest -q tests/test_html_report.py -k browser

lint: $(VENV)/.installed-test
	$(BIN)/ruff check sim tests benchmarks hydra_plugins

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
