# Two commands on a fresh machine: `make dev` (run the whole chat locally) and `make test` (every test).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP_INSTALL := $(PY) -m pip install --disable-pip-version-check
PYTEST_WORKERS ?= auto
# `make dev` installs only what the local stack needs; `make test` adds the test, lint and CDK tools. Each set has
# a stamp named after the hash of its files: a second run installs nothing, a changed requirement installs again.
LOCAL_REQUIREMENTS := requirements/runtime.txt requirements/local.txt
DEV_REQUIREMENTS := $(LOCAL_REQUIREMENTS) requirements/dev.txt
LOCAL_STAMP := $(VENV)/.installed-local-$(shell cat $(LOCAL_REQUIREMENTS) | sha256sum | cut -c1-12)
DEV_STAMP := $(VENV)/.installed-dev-$(shell cat $(DEV_REQUIREMENTS) | sha256sum | cut -c1-12)
BENCH_REQUIREMENTS := $(DEV_REQUIREMENTS) requirements/bench.txt
BENCH_STAMP := $(VENV)/.installed-bench-$(shell cat $(BENCH_REQUIREMENTS) | sha256sum | cut -c1-12)
NODE_NEEDED := Node 20+ is needed for the CDK tests and commands (the CDK runs on jsii, a Node runtime): \
install it from https://nodejs.org or with nvm (nvm install 20). Without it, make unit integration local-tests run.

.PHONY: setup dev web test lint typecheck unit integration local-tests infra-tests synth docs protocol bench deploy destroy clean \
	node-check

$(PY):
	$(PYTHON) -m venv $(VENV)

$(LOCAL_STAMP): $(LOCAL_REQUIREMENTS) | $(PY)
	@echo "Installing what the local stack needs (requirements/local.txt, 170 MB) into $(VENV):" \
		"about 75 s on a first run, with pip's progress below."
	$(PIP_INSTALL) -r requirements/local.txt
	rm -f $(VENV)/.installed-local-* && touch $@

$(DEV_STAMP): $(DEV_REQUIREMENTS) $(LOCAL_STAMP)
	@echo "Installing the test, lint and CDK tools (requirements/dev.txt, 750 MB more) into $(VENV):" \
		"about 2.5 minutes on a first run."
	$(PIP_INSTALL) -r requirements/dev.txt
	rm -f $(VENV)/.installed-dev-* && touch $@

setup: $(DEV_STAMP)

$(BENCH_STAMP): $(BENCH_REQUIREMENTS) $(DEV_STAMP)
	@echo "Installing what the benchmarks' plots need (requirements/bench.txt: matplotlib) into $(VENV)."
	$(PIP_INSTALL) -r requirements/bench.txt
	rm -f $(VENV)/.installed-bench-* && touch $@

# The web client is built by infra/web_build.py (also run by `cdk synth`): `npm ci` when package-lock.json changed,
# `vite build` when a source changed, each behind a stamp named after a hash, as above. Standard library only.
web: | $(PY)  ## build the web client into web/dist (needs Node 20.19+)
	$(PY) -m infra.web_build

dev: $(LOCAL_STAMP)  ## build the web client if Node is there, and run the whole chat on http://127.0.0.1:$${CHAT_PORT:-8080}
	$(PY) -m infra.web_build --if-node
	$(PY) -m local

# Checked before anything is installed: without Node the CDK tests fail late, in a long jsii traceback.
NODE_VERSION = $(shell node --version 2>/dev/null)
NODE_IS_20_OR_LATER = $(shell v="$(NODE_VERSION)"; v=$${v#v}; [[ "$${v%%.*}" =~ ^[0-9]+$$ ]] && (( $${v%%.*} >= 20 )) && echo yes)
node-check:
	@$(if $(NODE_IS_20_OR_LATER),:,$(error $(NODE_NEEDED) Found: $(or $(NODE_VERSION),no node on the PATH)))

# The web client's checks (protocol types, tsc, vitest) and its browser tests are pytest tests: they run on the
# workers beside the Python ones. The build comes first so its progress shows and a broken build stops here.
test: node-check setup lint typecheck web  ## every test, in parallel
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

infra-tests: node-check setup
	$(PY) -m pytest -n $(PYTEST_WORKERS) tests/infra

docs: protocol  ## regenerate docs/protocol.md from the pydantic models
	PYTHONPATH=layers/shared/python $(PY) -m chat.protocol_doc docs/protocol.md

protocol: setup  ## regenerate the protocol's JSON Schema and the web client's TypeScript types from the models
	PYTHONPATH=layers/shared/python $(PY) -m chat.protocol_schema web/src/client/protocol.schema.json
	cd web && npm run --silent protocol

# Issue 9's measurements, written into docs/benchmarks.md and docs/benchmarks/*.png (about 10 minutes on 2 cores;
# `make bench BENCH_ARGS=--quick` for a smaller run while developing).
bench: $(BENCH_STAMP)  ## measure, then write docs/benchmarks.md
	$(PY) bench/run.py $(BENCH_ARGS)

synth: node-check setup  ## synthesize the CDK app into cdk.out (offline)
	npx --yes aws-cdk@2 synth --app "$(PY) app.py" --quiet

deploy: node-check setup
	npx --yes aws-cdk@2 deploy --app "$(PY) app.py"

destroy: node-check setup
	npx --yes aws-cdk@2 destroy --app "$(PY) app.py"

clean:
	rm -rf $(VENV) cdk.out .build .pytest_cache .mypy_cache .ruff_cache web/node_modules web/dist test-artifacts
