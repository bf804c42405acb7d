# The one front door. `make demo` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test bench lint format clean chromium report-picture

install: $(STAMP)

# Re-installs only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: install
	$(BIN)/ldntrial demo

test: install chromium
	$(BIN)/python -m pytest -n 2 -q

# Reports print to PDF with Debian's Chromium; the tests use it for real.
chromium:
	@test -x /usr/bin/chromium || (echo "installing Debian's chromium for the report tests" && \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# The README's picture of a report's first page.
report-picture: install chromium
	$(BIN)/python docs/report_picture.py

bench: install
	$(BIN)/python benchmarks/run.py

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: install
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

clean:
	rm -rf $(VENV) demo-output .pytest_cache .ruff_cache .hypothesis
