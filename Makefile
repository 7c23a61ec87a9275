# agentid — everything a fresh machine needs goes through these targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# the hot path compiled with mypyc (src/agentid/native.py lists the modules)
NATIVE := $(VENV)/.native
NATIVE_SRC := $(wildcard src/agentid/extract/*.py) src/agentid/mime.py src/agentid/ids.py \
	src/agentid/email/inbound/parse.py src/agentid/native.py tools/compile_native.py

.PHONY: install native serve test lint typecheck format bench bench-tools test-tools clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Without a C compiler the service runs from source (slower): a warning, not a failure.
native: $(NATIVE)

$(NATIVE): $(STAMP) $(NATIVE_SRC)
	$(BIN)/python tools/compile_native.py || echo "agentid: not compiled, running from source"
	touch $@

serve: $(NATIVE)
	$(BIN)/agentid serve

# External programs tests need (Postfix's smtp-source, NSD) are installed first when missing;
# a test without one skips with the reason, or fails when AGENTID_REQUIRE_EXTERNAL=1 (CI).
test: $(NATIVE)
	-@$(MAKE) --no-print-directory bench-tools
	-@$(MAKE) --no-print-directory test-tools
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools

typecheck: $(STAMP)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests bench tools
	$(BIN)/ruff check --fix src tests bench tools

bench: $(NATIVE)
	-@$(MAKE) --no-print-directory bench-tools
	$(BIN)/python bench/extract.py
	$(BIN)/python bench/digest.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/wait_latency.py
	$(BIN)/python bench/rss.py
	$(BIN)/python bench/large_messages.py
	$(BIN)/python bench/send.py
	$(BIN)/python bench/hostile.py
	$(BIN)/python bench/dkim_sign.py
	$(BIN)/python bench/guard.py
	$(BIN)/python bench/cluster.py

# Debian's postfix package: smtp-source (the load generator) and Postfix itself, which
# bench/ingest.py runs as a private instance from bench/postfix/. Preseeded "No
# configuration", so installing it neither configures nor starts a system mail server.
bench-tools:
	@{ command -v smtp-source || test -x /usr/sbin/smtp-source; } >/dev/null && \
	  { command -v postfix || test -x /usr/sbin/postfix; } >/dev/null || \
	  { echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections && \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix; }

# Debian's nsd: the authoritative name server tests/dns/ starts on loopback with the zones
# agentid applied. Installing it starts no system name server (the tests run their own).
# Debian's chromium: the browser tests/web/ drives headless through Playwright (pinned in
# pyproject.toml to the release that speaks to it; Playwright's own download is not used).
# Debian's postfix-pgsql: the pgsql lookup tables of the Postfix that
# tests/email/inbound/test_postfix.py runs in front of agentid (preseeded like bench-tools).
test-tools:
	@{ command -v nsd || test -x /usr/sbin/nsd; } >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nsd && \
	    { command -v systemctl >/dev/null && systemctl disable --now nsd 2>/dev/null; true; }; }
	@{ command -v chromium || test -x /usr/bin/chromium; } >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	@test -e /usr/lib/postfix/postfix-pgsql.so || \
	  { echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections && \
	    apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix postfix-pgsql; }

clean:
	rm -rf $(VENV) build .build *.egg-info src/*.egg-info
	find src -name '*.so' -delete
