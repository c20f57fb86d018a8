# Two commands for a newcomer: `make demo` and `make test`. Everything else is set up on the way.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STATIC := src/vigil/web/static/vendor
export VIGIL_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: demo test faults assets install install-dev lint typecheck bench fuzz clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

$(STATIC)/.built: node_modules/.package-lock.json
	rm -rf $(STATIC) && mkdir -p $(STATIC)/govuk $(STATIC)/moj $(STATIC)/assets $(STATIC)/leaflet $(STATIC)/htmx
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js $(STATIC)/govuk/
	cp node_modules/@ministryofjustice/frontend/moj/moj-frontend.min.css node_modules/@ministryofjustice/frontend/moj/moj-frontend.min.js $(STATIC)/moj/
	cp -r node_modules/govuk-frontend/dist/govuk/assets/. $(STATIC)/assets/
	cp -r node_modules/@ministryofjustice/frontend/moj/assets/. $(STATIC)/assets/
	cp -r node_modules/leaflet/dist/. $(STATIC)/leaflet/
	cp node_modules/htmx.org/dist/htmx.min.js $(STATIC)/htmx/
	touch $@

assets: $(STATIC)/.built

demo: install assets
	$(BIN)/vigil demo

test: install-dev assets
	$(BIN)/pytest

# The fault suite's long cases: real Vigil processes with their own NATS and PostgreSQL, each
# stopped for 30 s or 150 s while fixes flow (docs/operations.md, "Fault behaviour"). The engine
# kill and the embedded-server kill run in `make test` as well.
faults: install-dev
	$(BIN)/pytest -m faults tests/faults

# Style, types, and the house rules: module and function sizes, the import layers.
lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q -p no:cacheprovider tests/test_code_shape.py tests/test_import_rules.py \
		tests/test_typed_boundaries.py
	$(BIN)/python tests/test_code_shape.py | head -2

# The long runs of the input-hardening tests: schemathesis with 100 examples per operation and
# role, and a million fuzzed inputs through each device decoder (figures: docs/security.md).
fuzz: install-dev
	VIGIL_FUZZ_EXAMPLES=100 $(BIN)/pytest -q tests/web/test_api_contract.py
	$(BIN)/pip install --quiet atheris
	$(BIN)/python bench/fuzz_decoders.py --runs 1000000

typecheck: install-dev
	$(BIN)/mypy

clean:
	rm -rf $(VENV) node_modules $(STATIC) vigil.db vigil.db-wal vigil.db-shm
