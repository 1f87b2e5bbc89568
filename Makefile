# The blog's commands. On a fresh machine: `make run`, then `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
AWS_PORT ?= 4566
STAGE ?= dev
# Where `make run` keeps the bucket (every version), the index, the queues and the preview secret
STATE_DIR ?= .local/state

.PHONY: install run reset test typecheck css templates clean deploy destroy package rehearse cost bench audit

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet "pip==26.2.1"  # chalice 1.34 needs pip<26.3
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# The local stack: moto on 127.0.0.1:$(AWS_PORT), the blog on http://127.0.0.1:$(PORT); its data is kept
# in $(STATE_DIR) across restarts
run: install
	$(PY) -m blogctl serve --port $(PORT) --aws-port $(AWS_PORT) --state-dir $(STATE_DIR)

# `make run` from scratch: forget the kept data, upload the sample posts from content/ again
reset: install
	$(PY) -m blogctl serve --port $(PORT) --aws-port $(AWS_PORT) --state-dir $(STATE_DIR) --fresh

# In a random order each run (its seed is printed first: `pytest -p randomly --randomly-seed=N` repeats it),
# one worker per CPU (pytest-xdist; a file's tests share a worker, so module fixtures are built once).
# TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= auto
test: install
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

# mypy: strict on app.py and chalicelib, mypy's defaults on the tools and tests (mypy.ini)
typecheck: install
	$(PY) -m mypy

css: install
	$(PY) -m blogctl css

# After editing chalicelib/templates/: compile them ahead of time into chalicelib/templates_compiled/
# (committed; a test fails while they are out of date, and until then the site compiles the edited ones itself)
templates: install
	$(PY) -m blogctl templates

# AWS, with your credentials: `make deploy STAGE=prod`; DRY_RUN=1 runs the read-only preflight
# and prints the steps, changing nothing
DRY := $(if $(DRY_RUN),--dry-run,)

deploy: install
	$(PY) -m blogctl deploy --stage $(STAGE) $(DRY)

# Removes the CDN, the functions, the API and the alarms; never the bucket, the table or the queues
destroy: install
	$(PY) -m blogctl destroy --stage $(STAGE) $(DRY)

# The whole deploy on a local stack, offline: deploy, publish, smoke test, destroy (CI runs it)
rehearse: install
	$(PY) -m blogctl.rehearsal --stage $(STAGE)

# chalice package into build/$(STAGE) with the CDN, alarms and log groups merged in, cfn-lint, zip at most 5 MB (CI runs it)
package: install
	$(PY) -m blogctl package --stage $(STAGE) $(DRY)

# Calls per view measured on moto, times AWS prices: the README's cost model
cost: install
	$(PY) -m blogctl cost

# Benchmarks side by side in one run (a few minutes): a table, and bench/results.json
bench: install
	$(PY) -m bench

# Lighthouse (mobile and desktop) and axe-core (1280/390 px, light/dark) on the local stack's pages,
# with the system's Chromium; fails below 100. Reports and screenshots in build/audit (CI runs it)
audit: install node_modules/.package-lock.json
	CHROME_PATH=$${CHROME_PATH:-/usr/bin/chromium} $(PY) -m blogctl.audit --out build/audit

# The audit's npm packages, exactly as package-lock.json pins them (puppeteer-core downloads no browser)
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache node_modules
