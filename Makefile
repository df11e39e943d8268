# Every target creates the environment it needs, so `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-sqlite test-postgres lint typecheck bench bench-smoke lock clean messages

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/portal migrate
	$(BIN)/portal demo --if-empty
	$(BIN)/portal serve --host 127.0.0.1 --port 8000

# The suite runs on SQLite always, and again on PostgreSQL when PORTAL_TEST_POSTGRES_URL is set. The two
# passes are independent (each its own database and data directory), so they run side by side, one per core;
# each one's output is printed whole when it ends, with its 25 slowest tests and its time.
PYTEST = $(BIN)/python -m pytest -q -p no:cacheprovider --durations=25
test: $(STAMP)
	@if [ -n "$$PORTAL_TEST_POSTGRES_URL" ]; then \
		log=$$(mktemp); \
		PORTAL_TEST_DATABASE=postgres $(PYTEST) -m db > $$log 2>&1 & pg=$$!; \
		$(PYTEST); lite=$$?; \
		wait $$pg; postgres=$$?; \
		echo "== again on PostgreSQL =="; cat $$log; rm -f $$log; \
		[ $$lite -eq 0 ] && [ $$postgres -eq 0 ]; \
	else \
		$(PYTEST) && \
		echo "PORTAL_TEST_POSTGRES_URL is not set: the database tests ran on SQLite only."; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check portal controls attestations tests bench
	$(BIN)/ruff format --check portal controls attestations tests bench

typecheck: $(STAMP)
	$(BIN)/mypy portal controls attestations

# Every measurement of DESIGN section 8 through real servers, at 1,000,000 attestations on SQLite and on
# PostgreSQL (long: the seeds take minutes; BENCH_DIR keeps them between runs). wrk is installed when absent.
bench: $(STAMP)
	command -v wrk >/dev/null || apt-get install -y -qq wrk || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python -m bench

# The same code paths at 2,000 attestations with short runs: fails when any measurement cannot run (CI).
bench-smoke: $(STAMP)
	command -v wrk >/dev/null || apt-get install -y -qq wrk || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python -m bench --smoke

# Regenerates the pinned, hashed lock file from pyproject.toml (needs network access to PyPI).
lock:
	$(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv pip compile pyproject.toml --extra dev --generate-hashes -o requirements.lock

clean:
	rm -rf $(VENV) var/*.sqlite* build *.egg-info

# Extracts translatable text into portal/locale/messages.pot and merges it into each language's catalog.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k Message -o portal/locale/messages.pot .
	$(BIN)/pybabel update -i portal/locale/messages.pot -d portal/locale
