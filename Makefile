# Two commands on a fresh machine: `make dev` (run the whole chat locally) and `make test` (every test).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements/*.txt | sha256sum | cut -c1-12)
PYTEST_WORKERS ?= auto

.PHONY: setup dev test lint typecheck unit integration local-tests infra-tests synth docs bench deploy destroy clean

$(STAMP): requirements/runtime.txt requirements/dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

setup: $(STAMP)

dev: setup  ## run the whole chat on http://127.0.0.1:$${CHAT_PORT:-8080}
	$(PY) -m local

test: setup lint typecheck  ## every test, in parallel
	$(PY) -m pytest -n $(PYTEST_WORKERS)

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: setup
	$(PY) -m mypy

unit: setup
	$(PY) -m pytest -n $(PYTEST_WORKERS) tests/unit

integration: setup
	$(PY) -m pytest -n $(PYTEST_WORKERS) tests/integration

local-tests: setup
	$(PY) -m pytest -n $(PYTEST_WORKERS) tests/local

infra-tests: setup
	$(PY) -m pytest -n $(PYTEST_WORKERS) tests/infra

docs: setup  ## regenerate docs/protocol.md from the pydantic models
	PYTHONPATH=layers/shared/python $(PY) -m chat.protocol_doc docs/protocol.md

bench: setup
	$(PY) bench/run.py

synth: setup  ## synthesize the CDK app into cdk.out (offline)
	npx --yes aws-cdk@2 synth --app "$(PY) app.py" --quiet

deploy: setup
	npx --yes aws-cdk@2 deploy --app "$(PY) app.py"

destroy: setup
	npx --yes aws-cdk@2 destroy --app "$(PY) app.py"

clean:
	rm -rf $(VENV) cdk.out .build .pytest_cache .mypy_cache .ruff_cache
