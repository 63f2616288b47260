# The two commands: `make run` (set up, migrate SQLite, load demo data, serve) and `make test`.
VENV   ?= .venv
PY      = $(VENV)/bin/python
FLASK   = $(VENV)/bin/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test setup system-deps browser bench fuzz-api clean

run: setup
	$(FLASK) db upgrade
	PUBLIC_URL=http://$(HOST):$(PORT) $(FLASK) crm demo-data
	@echo "CRMConnect is at http://$(HOST):$(PORT)/login"
	CRM_SANDBOX=1 PUBLIC_URL=http://$(HOST):$(PORT) $(FLASK) run --host $(HOST) --port $(PORT)

# The import contracts (pyproject.toml [tool.importlinter]) first, then the suite on SQLite always; PostgreSQL / MariaDB as well when TEST_POSTGRES_URL / TEST_MARIADB_URL are set;
# the job tests use a real Redis when REDIS_URL is set.
test: setup browser
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest
	@if [ -n "$$TEST_POSTGRES_URL" ]; then echo "== PostgreSQL"; TEST_DATABASE_URL="$$TEST_POSTGRES_URL" $(PY) -m pytest -m "not e2e"; fi
	@if [ -n "$$TEST_MARIADB_URL" ]; then echo "== MariaDB"; TEST_DATABASE_URL="$$TEST_MARIADB_URL" $(PY) -m pytest -m "not e2e"; fi

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(MAKE) --no-print-directory system-deps
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $@

# WeasyPrint renders PDFs with Pango; the PDF tests read them back with poppler's pdftotext.
# Installed from Debian's packages when missing (needs root).
system-deps:
	@if ! ldconfig -p | grep -q libpango-1.0 || ! command -v pdftotext >/dev/null; then \
	  apt-get update -qq && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core poppler-utils; fi

# The end-to-end test drives Debian's Chromium through Playwright (no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium)

# Each prints its figures and exits 1 below its target; `-` runs the rest anyway.
bench: setup
	-$(PY) bench/invoice_list.py --db sqlite
	-$(PY) bench/invoice_list.py --db postgres
	-$(PY) bench/invoice_pdf.py
	-$(PY) bench/chain.py --db postgres
	-$(PY) bench/chain.py --db sqlite
	-$(PY) bench/efactura.py
	-$(PY) bench/stock_report.py --db postgres
	-$(PY) bench/delivery_approve.py --db postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench --workers 2
	-$(PY) bench/reports.py
	-$(PY) bench/load.py --duration 60 --users 10

# schemathesis against the OpenAPI document on a demo server: fails on any 5xx. A short run:
# make fuzz-api FUZZ_ARGS="--examples 5 --max-time 300"
fuzz-api: setup
	$(PY) -m pip install -q -e ".[fuzz]"
	$(PY) scripts/fuzz_api.py $(FUZZ_ARGS)

clean:
	rm -rf $(VENV) instance
