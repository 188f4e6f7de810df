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
# torch's version is the one constraints.txt pins (requirements-dev.txt and service/Dockerfile are
# checked against it by tests/service/test_service_torch_pin.py).
TORCH_VERSION := $(shell sed -n 's/^torch==//p' constraints.txt)

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

.PHONY: help install test test-fast lint fmt demo serve render stack preview up destroy rollout rollback bench lock clean

help: ## list these targets
	@awk -F':.*## ' '/^[a-z-]+:.*## / { name[++n] = $$1; text[n] = $$2; if (length($$1) > w) w = length($$1) } \
	  END { for (i = 1; i <= n; i++) printf "  make %-" w "s  %s\n", name[i], text[i] }' $(MAKEFILE_LIST)

install: $(VENV)/.installed ## set up .venv with the pinned dependencies (safe to rerun)

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

test: install ## every check CI runs: lint, all tests, the policy pack on every stack
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# tests/image builds and runs container images: make image-test (CI runs both).
	$(PY) -m pytest -q --ignore=tests/image
	@# The policy pack on the offline render of every shipped stack: any mandatory violation fails.
	@status=0; for file in Pulumi.*.yaml; do stack=$${file#Pulumi.}; stack=$${stack%.yaml}; \
	  $(PY) -m policy check "$$stack" || status=1; done; exit $$status

test-fast: install ## lint + the quick tests (skips those that start servers or processes)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -q -m "not slow"

demo: install ## the local main job in one command: generate, bake, serve, ask, load, plot, stop [DURATION=10]
	$(PY) -m bench demo --duration "$(or $(DURATION),10)"

lint: install ## check code style (ruff)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: install ## fix code style (ruff)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

render: install ## show what STACK would deploy, offline [STACK=dev FORMAT=markdown|json|yaml]
	@$(PY) -m infra render $(STACK) --format $(or $(FORMAT),markdown)

stack: ## select STACK for `pulumi config set`, creating it the first time [STACK=dev]
	@$(PULUMI_ENV); echo "selected stack $(STACK)"

preview: install ## show what `make up` would change in Google Cloud [STACK=dev]
	@$(PULUMI_ENV); pulumi preview --stack "$(STACK)" --diff

up: install ## build the image and deploy STACK to Google Cloud [STACK=dev]
	@$(PULUMI_ENV); pulumi up --stack "$(STACK)"

destroy: install ## delete what STACK deployed (prod: turn deletionProtection off first) [STACK=dev]
	@$(PULUMI_ENV); pulumi destroy --stack "$(STACK)"

rollout: install ## roll a new revision out to STACK step by step, checked at each step [STEPS=10,50 SOAK=5m]
	@$(PULUMI_ENV); $(PY) -m infra rollout "$(STACK)" $(if $(STEPS),--steps "$(STEPS)") $(if $(SOAK),--soak "$(SOAK)")

rollback: install ## send STACK's traffic back to the previous revision [STACK=dev]
	@$(PULUMI_ENV); $(PY) -m infra rollback "$(STACK)"

# make demo / make bench: without URL, a generated model baked for RUNTIME/PRECISION (default: what
# the dev stack's image bakes, infra.plan.image_build_args), served by `python -m service`.
BENCH_OPTS = $(strip $(if $(URL),--url "$(URL)") --preset "$(or $(PRESET),tiny)" \
	$(if $(RUNTIME),--runtime "$(RUNTIME)") $(if $(PRECISION),--precision "$(PRECISION)") \
	$(if $(RPS),--rps "$(RPS)") --duration "$(or $(DURATION),20)" $(if $(FROM_ZERO),--from-zero) \
	$(if $(SCALE_OUT_AT),--scale-out-at "$(SCALE_OUT_AT)"))

bench: install ## 20 s load test of a local (or URL) service: report + plots [URL= RPS= DURATION= ...]
	$(PY) -m bench demo $(BENCH_OPTS)


serve: install ## run the service on this machine, as the image does [MODEL_DIR=models/qa PORT=8080]
	@test -n "$(MODEL_DIR)" || { echo "set MODEL_DIR: make serve MODEL_DIR=DIR; make DIR with" \
	  "$(PY) -m service.bake --source HUB_ID_OR_CHECKPOINT --out DIR (README: Run it locally)" >&2; exit 2; }
	MODEL_DIR="$(MODEL_DIR)" $(if $(PORT),PORT="$(PORT)") $(PY) -m service

# make image: the stack's build args (infra.plan.image_build_args) with these overrides;
# BUILD_ARGS='KEY=VALUE ...' passes any other Dockerfile arg. The last line is the image reference.
IMAGE_OPTS = --stack "$(STACK)" $(if $(RUNTIME),--runtime "$(RUNTIME)") \
	$(if $(PRECISION),--precision "$(PRECISION)") $(if $(MODEL_SOURCE),--model-source "$(MODEL_SOURCE)") \
	$(if $(MODEL_REVISION),--model-revision "$(MODEL_REVISION)") $(if $(IMAGE),--image "$(IMAGE)") \
	$(foreach arg,$(BUILD_ARGS),--build-arg "$(arg)")

.PHONY: image image-test
image: install ## build the service image: [RUNTIME= PRECISION= (default: the stack's) MODEL_SOURCE=DIR_OR_HUB_ID MODEL_REVISION= IMAGE=name:tag]
	@$(PY) -m infra image $(IMAGE_OPTS)

image-test: install ## build the image variants tests/image lists from a generated model; test each as Cloud Run runs it
	$(PY) -m pytest -q -m slow tests/image -p no:cacheprovider

.PHONY: bench-serving
bench-serving: install ## speed and memory studies of the service [STUDY=runtimes|spinning|batching]
	$(if $(STUDY),$(PY) -m bench.studies.runtimes --study "$(STUDY)" $(if $(filter runtimes,$(STUDY)),--site-packages),$(PY) -m bench.studies.serving)

lock: install ## re-pin constraints.txt to what .venv has installed
	{ echo "# Full transitive pin set (pip freeze of a working .venv). Update with \`make lock\`."; \
	  $(PIP) freeze --exclude-editable | grep -v -i '^torch==' ; echo "torch==$(TORCH_VERSION)"; } > constraints.txt

clean: ## remove caches (keeps .venv, models and Pulumi state)
	rm -rf .pytest_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
