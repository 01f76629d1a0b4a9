# Two commands on a fresh machine: `make demo` and `make test`. Everything lands in .state/.
PYTHON ?= python3.11
STATE  ?= .state
VENV   := $(STATE)/venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# `make up CLUSTER=1` (and status, logs, migrate, down): the cluster mode (infra/cluster.py, infra/SCALING.md)
ifdef CLUSTER
export DRAMA_CLUSTER := $(CLUSTER)
endif

.PHONY: demo test test-cluster test-cluster-short test-reliability soak forget-user check bench up down status logs install clean help migrate dashboards chromium forecast-model forecast-evaluate forecast-studio

help:
	@echo "make demo    the platform with simulated traffic and dashboards (installs what is missing)"
	@echo "make test    the whole test suite on the real services (starts what it needs)"
	@echo "make test-reliability  the reliability suite (tests/reliability/): a ledger verdict per scenario"
	@echo "make check   lint (ruff), the import layers (lint-imports) and the tests that need no services"
	@echo "make up | down | status | logs    the native stack (python -m launcher ...); CLUSTER=1: the cluster"
	@echo "make migrate the warehouse schema (python -m warehouse.migrate; make up runs it too)"
	@echo "make forecast-model | forecast-evaluate   the hit forecast's model and its held-out figures (docs/forecast.md)"
	@echo "make forecast-studio                       the studio spending by the forecast, on against off (about 15 min)"
	@echo "make dashboards  the five dashboards, the viewer role and the alerts into Superset (make up runs it too)"

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is missing: install Python 3.11 (or run make PYTHON=/path/to/python3.11)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --cache-dir $(STATE)/pip-cache -e '.[test]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

demo: install
	$(PY) -m launcher demo

up: install
	$(PY) -m launcher up

# Applies what is pending; refuses a ledger from a newer release or an applied file that changed.
migrate: install
	$(PY) -m warehouse.migrate

# Idempotent: objects are updated in place (dashboards/provision.py). Needs `make up`.
dashboards: install
	$(PY) -m dashboards.provision

test: install chromium
	$(PY) -m pytest --durations=25 $(PYTEST_ARGS)

# The platform on 3 Kafka brokers, ZooKeeper and ClickHouse 2 shards x 2 replicas (infra/SCALING.md):
# the cluster's layout, the golden replay, the retry nets, stale replicas, and five faults under load
# (each ends with the ledger's verdict, .state/reliability/cluster_*.json). About 15 minutes.
test-cluster: install
	DRAMA_CLUSTER_TESTS=1 $(PY) -m pytest -s --durations=10 tests/cluster $(PYTEST_ARGS)

# What CI runs of it (.ci/run): everything but four of the five faults. About 5 minutes.
test-cluster-short: install
	DRAMA_CLUSTER_TESTS=1 $(PY) -m pytest -s --durations=10 tests/cluster/test_cluster.py \
	  tests/cluster/test_faults.py::test_a_clickhouse_replica_killed_and_restarted_catches_up $(PYTEST_ARGS)

# The reliability suite alone, in full (tests/reliability/README.md): each scenario ends with a ledger
# verdict, kept in .state/reliability/<scenario>.json. `make test` runs its short version.
test-reliability: install
	DRAMA_RELIABILITY=full $(PY) -m pytest -s tests/reliability $(PYTEST_ARGS)

# The soak, opt-in (an hour; DRAMA_SOAK_MINUTES to change it): memory, lag and the de-duplication state stay flat.
soak: install
	DRAMA_SOAK=1 $(PY) -m pytest -s tests/reliability/test_soak.py $(PYTEST_ARGS)

# The browser tests' Chromium and ChromeDriver, from Debian (tests/dashboards/test_browser.py).
chromium:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
	    echo "Chromium is missing: install Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"; exit 1; fi; \
	  echo "installing Debian's chromium and chromium-driver (once)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null; \
	fi

# Seconds, no services: each step runs even if one before failed; the exit code is non-zero if any did.
check: install
	@status=0; \
	echo "--- ruff"; $(VENV)/bin/ruff check --output-format concise . || status=1; \
	echo "--- lint-imports"; $(VENV)/bin/lint-imports --no-logo --cache-dir $(STATE)/import-linter-cache || status=1; \
	echo "--- data dictionary (warehouse/README.md)"; $(PY) -m warehouse.dictionary --check || status=1; \
	echo "--- every chart's SQL (dashboards/README.md)"; $(PY) -m dashboards.reference --check || status=1; \
	echo "--- pytest -m 'not stack and not slow'"; $(PY) -m pytest -q -m "not stack and not slow" $(PYTEST_ARGS) \
	  || status=1; \
	exit $$status

# Figures, not tests: throughput and freshness of one worker on the real stack, then the warehouse's
# queries at 100M events (WAREHOUSE_ARGS="--events 10000000" for a shorter run), then the study's
# figures for five seeds with the re-create loop on (simulator/CALIBRATION.md), then 20 ops screens on
# Loop health through Superset's cache (bench/dashboards.py).
bench: install
	$(PY) -m bench.throughput $(BENCH_ARGS)
	$(PY) -m bench.warehouse $(WAREHOUSE_ARGS)
	$(PY) -m bench.calibration $(CALIBRATION_ARGS)
	$(PY) -m bench.dashboards $(DASHBOARDS_ARGS)

# The hit forecast (docs/forecast.md), on ClickHouse (`make up` first): forecast/model.json from the
# training seeds, then its figures on seeds it never saw, with the calibration plot. Each seed's slate
# is simulated, loaded and read once, then cached in .state/forecast/ (about a minute a seed).
forecast-model: install
	$(PY) -m forecast train

forecast-evaluate: install
	$(PY) -m forecast evaluate --hours 6,12,24,48 --plot docs/forecast-calibration.png

# The studio spending by the forecast: each held-out seed's slate with the forecast off and on (bench/studio.py).
forecast-studio: install
	$(PY) -m bench.studio --seeds 201-205 --json bench/results/studio-$$(date -u +%Y%m%dT%H%M%SZ).json

# Privacy: a user's events and profile removed from every table, the metrics rebuilt without them, the
# request audited (warehouse/forget.py). Asks for confirmation; the workers must be stopped.
forget-user: install
	@test -n "$(USER_ID)" || { echo "usage: make forget-user USER_ID=<the user's id>"; exit 2; }
	$(PY) -m warehouse forget-user "$(USER_ID)"

down:
	@if [ -x $(PY) ]; then $(PY) -m launcher down; else $(PYTHON) -m launcher down; fi

status:
	@$(PY) -m launcher status

logs:
	@$(PY) -m launcher logs $(SERVICE)

# Stops everything and removes data and logs; keeps downloads (venvs, Maven and pip caches).
clean: down
	rm -rf $(STATE)/kafka/data $(STATE)/clickhouse $(STATE)/superset $(STATE)/postgres $(STATE)/logs $(STATE)/pids
