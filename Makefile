# Everything a developer or CI runs. The first target that needs the virtualenv creates it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1

.PHONY: setup demo test check test-all lint format bench layers synth deploy clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(INSTALLED)

setup: $(INSTALLED) ## create .venv and install clubsync with its dev tools

demo: $(INSTALLED) ## the member sync end to end: moto + billing sandbox on 127.0.0.1
	$(BIN)/clubsync demo

test: $(INSTALLED) ## the default test run (unit, integration, infra); slow soak/fuzz runs excluded
	$(BIN)/python -m pytest

check: lint test ## what CI runs (.ci/run): lint, import rules, then the default test run

test-all: $(INSTALLED) ## every test, including the slow soak and fuzz runs
	$(BIN)/python -m pytest -m ""

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(INSTALLED) ## benchmarks print figures; they never fail a build
	$(BIN)/python bench/member_sync.py
	$(BIN)/python bench/full_sync.py
	$(BIN)/python bench/handler_import.py
	$(BIN)/python bench/state_machine.py
	$(BIN)/python bench/burst.py
	$(BIN)/python bench/public_url_refusal.py

layers: $(INSTALLED) ## the Lambda layers (dependencies for arm64, the library), no Docker
	$(BIN)/python layers/build.py

# The CDK CLI pinned by package-lock.json (npm ci installs exactly that version).
node_modules/.bin/cdk: package.json package-lock.json
	npm ci --no-audit --no-fund

STAGE ?= dev

synth: layers node_modules/.bin/cdk ## synthesize the CloudFormation templates (cdk.out/), STAGE=dev|prod
	npx cdk synth -q -c stage=$(STAGE)

deploy: layers node_modules/.bin/cdk ## deploy with your AWS credentials: make deploy STAGE=prod (docs/operations.md)
	npx cdk deploy -c stage=$(STAGE)

clean:
	rm -rf $(VENV) build cdk.out node_modules .pytest_cache .mypy_cache .ruff_cache
