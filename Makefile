# Two commands on a fresh machine: `make demo` and `make test`. Everything lands in .state/.
PYTHON ?= python3.11
STATE  ?= .state
VENV   := $(STATE)/venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test bench up down status logs install clean help

help:
	@echo "make demo    the platform with simulated traffic and dashboards (installs what is missing)"
	@echo "make test    the whole test suite on the real services (starts what it needs)"
	@echo "make up | down | status | logs    the native stack (python -m infra ...)"

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is missing: install Python 3.11 (or run make PYTHON=/path/to/python3.11)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --cache-dir $(STATE)/pip-cache -e '.[test]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

demo: install
	$(PY) -m infra demo

up: install
	$(PY) -m infra up

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# Figures, not tests: throughput and freshness of one worker on the real stack.
bench: install
	$(PY) -m bench.throughput

down:
	@if [ -x $(PY) ]; then $(PY) -m infra down; else $(PYTHON) -m infra down; fi

status:
	@$(PY) -m infra status

logs:
	@$(PY) -m infra logs $(SERVICE)

# Stops everything and removes data and logs; keeps downloads (venvs, Maven and pip caches).
clean: down
	rm -rf $(STATE)/kafka/data $(STATE)/clickhouse $(STATE)/superset $(STATE)/logs $(STATE)/pids
