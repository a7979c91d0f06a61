# Two commands on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint chromium clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m app migrate
	$(PY) -m app demo
	$(PY) -m app serve --host 127.0.0.1 --port 8000

lint: $(STAMP)
	$(PY) -m ruff check .

# Browser tests use Debian's Chromium, never a downloaded browser build.
chromium:
	@test -x /usr/bin/chromium || (apt-get update -q && apt-get install -y -q chromium)

# Browser tests run in their own pytest process: Playwright's loop must not share
# a process with the async tests (see docs/testing.md).
test: $(STAMP) chromium
	$(PY) -m ruff check .
	$(PY) -m pytest -m "not browser"
	$(PY) -m pytest -m browser

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache village.db*
