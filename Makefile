# DevSignal: two commands on a fresh machine (Python 3.11+ and make).
#   make demo   set everything up and run the whole pipeline on the demo world
#   make test   the whole suite on the embedded PostgreSQL
PYTHON ?= python3
TOOLS  := .tools
UV     := $(TOOLS)/bin/uv
VENV   := .venv
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

.PHONY: install browser demo run up test test-fast bench clean stop help

help:
	@echo "make demo | make test | make up | make bench | make stop | make clean"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==0.13.8

# reinstall only when the lock or the project file changes
$(VENV)/.installed: $(UV) uv.lock pyproject.toml
	$(UV) sync --locked
	@touch $@

install: $(VENV)/.installed

# the CRM's browser test drives Debian's Chromium (headless); installed once, from the system packages
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@echo "installing Chromium from Debian's packages (for the CRM browser test)"
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y --no-install-recommends chromium || \
	  ($(if $(filter 0,$(shell id -u)),,sudo) apt-get update && $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y --no-install-recommends chromium)

browser: $(CHROMIUM)

demo: install
	$(VENV)/bin/devsignal demo

run: install
	$(VENV)/bin/devsignal run

up: install
	$(VENV)/bin/devsignal up

test: install browser
	$(VENV)/bin/python -m pytest

test-fast: install
	$(VENV)/bin/python -m pytest -m "not slow"

bench: install
	$(VENV)/bin/python -m bench

stop:
	-$(VENV)/bin/devsignal db stop

clean: stop
	rm -rf $(VENV) $(TOOLS) .devsignal dbt_project/target dbt_project/logs
