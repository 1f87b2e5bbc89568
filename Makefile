# The blog's commands. On a fresh machine: `make run`, then `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
AWS_PORT ?= 4566
STAGE ?= dev

.PHONY: install run test css clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# The local stack: moto on 127.0.0.1:$(AWS_PORT), the blog on http://127.0.0.1:$(PORT)
run: install
	$(PY) -m blogctl serve --port $(PORT) --aws-port $(AWS_PORT)

test: install
	$(PY) -m pytest

css: install
	$(PY) -m blogctl css

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
