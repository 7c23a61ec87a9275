# agentid — everything a fresh machine needs goes through these targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install serve test lint typecheck format bench bench-tools clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/agentid serve

test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: $(STAMP)
	-@$(MAKE) --no-print-directory bench-tools
	$(BIN)/python bench/extract.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/wait_latency.py
	$(BIN)/python bench/rss.py

# Debian's postfix package: smtp-source (the load generator) and Postfix itself, which
# bench/ingest.py runs as a private instance from bench/postfix/. Preseeded "No
# configuration", so installing it neither configures nor starts a system mail server.
bench-tools:
	@{ command -v smtp-source || test -x /usr/sbin/smtp-source; } >/dev/null && \
	  { command -v postfix || test -x /usr/sbin/postfix; } >/dev/null || \
	  { echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections && \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix; }

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
