# The one front door. `make demo` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Three installs: the core alone (the simulations and analyses), the core with the staff
# site (what `make demo` needs), and everything with the contributor's tools (tests,
# linters, browser automation, the Dask cluster).
CORE_STAMP := $(VENV)/.installed-core-stamp
SITE_STAMP := $(VENV)/.installed-site-stamp
STAMP := $(VENV)/.installed-stamp

.PHONY: install install-core install-site demo test test-core bench validate lint format clean \
	chromium pictures nof1-power

install: $(STAMP)
install-core: $(CORE_STAMP)
install-site: $(SITE_STAMP)

# Each re-installs only when pyproject.toml changed since it last ran; a fuller install
# also counts as the smaller ones.
$(CORE_STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $(CORE_STAMP)

$(SITE_STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[web]'
	@touch $(SITE_STAMP) $(CORE_STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP) $(SITE_STAMP) $(CORE_STAMP)

demo: install-site
	$(BIN)/ldntrial demo

# The database tests (tests/web) run a second time on PostgreSQL. Without a
# server they are skipped with a message, except under CI, where that fails.
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/ldntrial

# axe-core (npm) is injected into pages by the accessibility tests.
NODE_STAMP := node_modules/.installed-stamp
$(NODE_STAMP): package-lock.json
	npm ci --no-audit --no-fund --silent
	@touch $(NODE_STAMP)

# CI runs the core's tests on the core installed alone first (test-core), then this with
# CORE_TESTED=yes, which leaves them out of the whole suite instead of running them twice
# (11 of about 50 minutes on a slow day of this machine).
test: install chromium $(NODE_STAMP)
	$(BIN)/python -m pytest -n 2 -q $(if $(CORE_TESTED),$(addprefix --ignore=,$(CORE_TESTS)))
	@if $(BIN)/python tests/postgres_reachable.py "$(PG_TEST_URL)"; then \
		echo "the database tests again, on PostgreSQL ($(PG_TEST_URL)):"; \
		DATABASE_URL="$(PG_TEST_URL)" $(BIN)/python -m pytest -n 2 -q tests/web; \
	elif [ "$$CI" = "true" ]; then \
		echo "CI needs PostgreSQL at $(PG_TEST_URL) for the database tests"; exit 1; \
	else \
		echo "no PostgreSQL at $(PG_TEST_URL): the database tests ran on SQLite only"; \
	fi

# The core installed alone (no Django, no site; `pip install .[test,cluster]`, not editable, so
# the package data is what a user gets) in its own venv, running the core's tests: a
# statistician's install works without the site. CI runs it beside `make test`.
CORE_VENV := .venv-core
CORE_TESTS := tests/protocol tests/data tests/stats tests/simulate tests/planning \
	tests/validation tests/report tests/interop tests/test_public_api.py \
	tests/cli/test_evidence_command.py tests/cli/test_without_the_site.py \
	tests/cli/test_startup.py
test-core: chromium
	@test -x $(CORE_VENV)/bin/python || $(PYTHON) -m venv $(CORE_VENV)
	$(CORE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CORE_VENV)/bin/python -m pip install --quiet '.[test,cluster]'
	@! $(CORE_VENV)/bin/python -c "import django" 2>/dev/null || \
		(echo "the core install brought Django with it"; exit 1)
	@# pyproject's DJANGO_SETTINGS_MODULE is pytest-django's, which the core does not have.
	$(CORE_VENV)/bin/python -m pytest -n 2 -q -p no:cacheprovider \
		-W ignore::pytest.PytestConfigWarning $(CORE_TESTS)

# Reports print to PDF with Debian's Chromium; the tests use it for real.
chromium:
	@test -x /usr/bin/chromium || (echo "installing Debian's chromium for the report tests" && \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# The README's pictures: a report's first page, the staff dashboard and a visit form.
pictures: install chromium
	$(BIN)/python docs/report_picture.py
	$(BIN)/python docs/web_screenshots.py

# How often each built-in N-of-1 design answers right, for the physician's page (minutes).
nof1-power: install-core
	$(BIN)/python docs/nof1_power.py

# The diary load uses wrk (Debian's package) as the crowd of phones.
bench: install
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/power.py
	$(BIN)/python benchmarks/dashboard.py
	@command -v wrk >/dev/null || (echo "installing Debian's wrk for the diary load" && \
		apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
	PG_TEST_URL="$(PG_TEST_URL)" $(BIN)/python benchmarks/diary_load.py

# Error rates and coverage of every reported analysis, by simulation (about an hour on
# 2 cores). The figures ship with the package, so that every result states its verdict;
# the table goes in the README (docs/validation/table.md), the true values beside it.
validate: install-core
	@mkdir -p docs/validation
	$(BIN)/ldntrial validate --sims 1000 --slow-sims 500 \
		--json src/ldntrial/stats/reference/validation.json \
		--truth docs/validation/truth.json --markdown docs/validation/table.md

lint: install
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	@# django-stubs' plugin loads the site's settings, which make keys in the data folder:
	@# a throw-away one, so that lint leaves nothing behind.
	data=$$(mktemp -d) && LDNTRIAL_DATA_DIR=$$data $(BIN)/mypy; status=$$?; rm -rf $$data; exit $$status

format: install
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

clean:
	rm -rf $(VENV) $(CORE_VENV) demo-output .pytest_cache .ruff_cache .hypothesis .mypy_cache
