# Serverless QA inference as code. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STACK ?= dev
# PyTorch's CPU-only wheels: the default PyPI wheel for Linux pulls in several GB of CUDA.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
TORCH_VERSION := 2.13.0

# Pulumi backend: PULUMI_BACKEND_URL wins, then an existing `pulumi login`, else a local file
# backend under the repo (git-ignored), so a first `make up` needs no Pulumi account.
PULUMI_STATE := $(CURDIR)/.pulumi-state
PULUMI_ENV = command -v pulumi >/dev/null || { \
	  echo "error: the Pulumi CLI is not installed: https://www.pulumi.com/docs/iac/download-install/" >&2; exit 1; }; \
	if [[ -z "$${PULUMI_BACKEND_URL:-}" ]] && ! pulumi whoami >/dev/null 2>&1; then \
	  mkdir -p "$(PULUMI_STATE)"; export PULUMI_BACKEND_URL="file://$(PULUMI_STATE)"; \
	  if [[ -z "$${PULUMI_CONFIG_PASSPHRASE+x}$${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; then \
	    echo "note: local backend with an empty secrets passphrase; set PULUMI_CONFIG_PASSPHRASE to choose one" >&2; \
	    export PULUMI_CONFIG_PASSPHRASE=""; fi; fi; \
	pulumi stack select "$(STACK)" --create >/dev/null

.PHONY: help install test test-fast lint fmt serve render stack preview up destroy rollout rollback bench lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: $(VENV)/.installed ## create .venv with the pinned dependencies (idempotent)

# Progress goes to stderr, so that a first `make render … > file` still writes only the render.
# A torch wheel already on this machine (offline CI) first, else PyTorch's CPU index.
$(VENV)/.installed: requirements-dev.txt service/requirements*.txt constraints.txt
	@echo "make install: setting up $(VENV) (pinned, CPU-only torch)" >&2
	@test -x $(PY) || python3 -m venv $(VENV) >&2
	@$(PIP) install -q --upgrade pip >&2
	@$(PIP) install -q --no-deps --no-index torch==$(TORCH_VERSION) >&2 2>/dev/null \
	  || $(PIP) install -q --no-deps --index-url $(TORCH_INDEX) torch==$(TORCH_VERSION) >&2
	@$(PIP) install -q -r requirements-dev.txt -c constraints.txt >&2
	@touch $@

test: install ## the whole offline suite: lint, unit/integration tests, policy checks (what CI runs)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -q
	@# The policy pack on the offline render of every shipped stack: any mandatory violation fails.
	@status=0; for file in Pulumi.*.yaml; do stack=$${file#Pulumi.}; stack=$${stack%.yaml}; \
	  $(PY) -m policy check "$$stack" || status=1; done; exit $$status

test-fast: install ## the inner loop: ruff + the unit tests, skipping `slow` ones (processes, servers, exports)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -q -m "not slow"

lint: install ## ruff check + format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: install ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

render: install ## offline render of a stack: make render STACK=dev [FORMAT=json|yaml|markdown]
	@$(PY) -m infra render $(STACK) --format $(or $(FORMAT),markdown)

stack: ## select STACK with the Pulumi CLI, creating it on first use (then `pulumi config set …` works)
	@$(PULUMI_ENV); echo "selected stack $(STACK)"

preview: install ## pulumi preview for STACK (real Pulumi CLI and GCP credentials)
	@$(PULUMI_ENV); pulumi preview --stack "$(STACK)" --diff

up: install ## pulumi up for STACK
	@$(PULUMI_ENV); pulumi up --stack "$(STACK)"

destroy: install ## pulumi destroy for STACK (prod keeps deletion protection until you turn it off)
	@$(PULUMI_ENV); pulumi destroy --stack "$(STACK)"

rollout: install ## gated rollout of STACK: candidate at 0 %, gate, [STEPS=10,50 SOAK=5m] canary steps, promote (docs/rollout.md)
	@$(PULUMI_ENV); $(PY) -m infra rollout "$(STACK)" $(if $(STEPS),--steps "$(STEPS)") $(if $(SOAK),--soak "$(SOAK)")

rollback: install ## put STACK's traffic back on the previous revision (or drop the candidate's share)
	@$(PULUMI_ENV); $(PY) -m infra rollback "$(STACK)"

bench: install ## ~20 s local load test, report + plots in bench/out/demo [URL= PRESET= RPS= DURATION= FROM_ZERO=1 SCALE_OUT_AT=]
	$(PY) -m bench demo $(if $(URL),--url "$(URL)") --preset "$(or $(PRESET),tiny)" \
	  --rps "$(or $(RPS),10)" --duration "$(or $(DURATION),20)" $(if $(FROM_ZERO),--from-zero) \
	  $(if $(SCALE_OUT_AT),--scale-out-at "$(SCALE_OUT_AT)")

serve: install ## run the service locally, as in the image (gunicorn): make serve MODEL_DIR=models/qa [PORT=8080]
	@test -n "$(MODEL_DIR)" || { echo "set MODEL_DIR: make serve MODEL_DIR=DIR (make one with" \
	  "python -m service.bake --source HUB_ID --out DIR, or python -m bench.fake_model DIR)" >&2; exit 2; }
	MODEL_DIR="$(MODEL_DIR)" $(if $(PORT),PORT="$(PORT)") $(PY) -m service

.PHONY: bench-serving
bench-serving: install ## service speed/memory (distilbert-base shapes): STUDY=runtimes|spinning|batching (bench/out/runtimes), else the torch serving study (bench/out/serving)
	$(if $(STUDY),$(PY) -m bench.studies.runtimes --study "$(STUDY)" $(if $(filter runtimes,$(STUDY)),--site-packages),$(PY) -m bench.studies.serving)

lock: install ## re-pin constraints.txt from the current .venv
	{ echo "# Full transitive pin set (pip freeze of a working .venv). Update with \`make lock\`."; \
	  $(PIP) freeze --exclude-editable | grep -v -i '^torch==' ; echo "torch==$(TORCH_VERSION)"; } > constraints.txt

clean: ## remove caches (keeps .venv and Pulumi state)
	rm -rf .pytest_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
