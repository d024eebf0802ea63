# Dangol: `make demo` sets everything up and runs the demo; `make test` sets up and runs the tests.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
APT_PACKAGES := chromium libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk fonts-noto-color-emoji fonts-dejavu-core

# Models load from installed packages or local folders only: never from a hub at run time.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install system-deps demo test test-fast lint bench migration clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system-deps
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# Debian packages: chromium for the browser tests, Pango and CJK fonts for the PDF report, and
# PostgreSQL's initdb when absent (the tests start a throwaway cluster when no server is configured).
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# The int8 ONNX encoder is ~3x faster than torch on a CPU; export it once (about a minute).
demo: install
	@test -f var/models/e5-dangol-onnx/export.json || $(PY) -m dangol.cli nlp export-onnx
	$(PY) -m dangol.cli demo

# Every case runs: PostgreSQL ones on DANGOL_TEST_POSTGRES_URL, or else on a throwaway cluster.
test: install
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow and not browser"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy dangol listener nlp responder storage reports dashboard
	$(VENV)/bin/lint-imports

bench: install
	$(PY) -m bench.run

# Regenerate the initial migration from storage/models.py (only while no release has shipped).
migration: install
	rm -f storage/migrations/versions/0001_initial_schema.py /tmp/dangol-migration.db
	$(PY) -c "from alembic import command; from storage.engine import make_engine; from storage.migrate import alembic_config; command.revision(alembic_config(make_engine('sqlite:////tmp/dangol-migration.db')), message='initial schema', autogenerate=True, rev_id='0001')"
	$(VENV)/bin/ruff format storage/migrations/versions

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
