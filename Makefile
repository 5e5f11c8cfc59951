# Threadline — every entry point. `make` alone lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.SHELLFLAGS := -eu -o pipefail -c

export UV_PYTHON_DOWNLOADS := never
# The system's certificate store, not uv's bundled roots: a TLS-inspecting proxy's CA is there.
export UV_SYSTEM_CERTS ?= 1
# `make setup` installs uv, pinned, into the project's cache: every target uses that one, so no
# PATH change is needed (UV=... overrides it).
UV ?= $(CURDIR)/.threadline/cache/uv/bin/uv
# PYTHON=3.13 (or 3.12) runs any target with that interpreter, in its own environment .venv-3.13,
# so the default .venv is not rebuilt each time; empty, uv uses the first Python >= 3.11 it finds
# (3.11 where CI runs). The interpreter is found on PATH, through pyenv, or by uv, never downloaded.
PYTHON ?=
ifneq ($(PYTHON),)
export UV_PYTHON := $(shell bash deploy/native/find-python.sh $(PYTHON))
ifeq ($(UV_PYTHON),)
$(error PYTHON=$(PYTHON): no such interpreter on this machine (see the line above))
endif
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/.venv-$(PYTHON)
endif
RUN := $(UV) run --all-packages --locked
STACK := $(RUN) stack

.PHONY: help
help: ## List every target with one line of help
	@awk 'BEGIN {FS = ":.*## "; printf "Threadline — make targets\n\n"} \
	  /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-20s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: setup
setup: ## Install what is missing (apt packages, uv) and sync the workspace; safe to repeat
	@bash deploy/native/setup.sh

.PHONY: up
up: setup ## Start the stack: Docker compose when an engine answers, native processes otherwise
	@$(STACK) up

.PHONY: down
down: ## Stop what `make up` started (native: only the processes it started itself)
	@$(STACK) down

.PHONY: ps
ps: ## Show every component with its address and state
	@$(STACK) ps

.PHONY: logs
logs: ## Show recent logs of every component (COMPONENT=name for one, FOLLOW=1 to follow)
	@$(STACK) logs $(if $(COMPONENT),$(COMPONENT)) $(if $(FOLLOW),--follow)

.PHONY: test
test: ## Run every test: unit, integration (real PostgreSQL, Redis, Kafka) and e2e (PYTHON=3.13: on 3.13)
	@bash deploy/native/setup.sh --test-tools
	@$(RUN) pytest $(PYTEST_ARGS)

.PHONY: test-security
test-security: ## Security suites (-m security): the authorisation matrix over every route and RPC, both services as processes; the user service's OpenAPI contract (schemathesis, every phase and check)
	@bash deploy/native/setup.sh --test-tools
	@$(RUN) pytest -m security tests/security services/user/tests/e2e $(PYTEST_ARGS)

.PHONY: lint
lint: ruff ## ruff (lint + format check) and mypy --strict over the whole repo
	@$(RUN) mypy

.PHONY: ruff
ruff: setup ## ruff alone (lint + format check): `make lint`'s first step
	@$(RUN) ruff check .
	@$(RUN) ruff format --check .

.PHONY: fmt
fmt: ## Format and autofix with ruff
	@$(RUN) ruff format .
	@$(RUN) ruff check --fix .

.PHONY: sbom
sbom: setup ## CycloneDX SBOMs with licences: reports/sbom/<service>.cdx.json per image, workspace.cdx.json
	@$(RUN) python -m threadline_native.supply_chain.sbom

.PHONY: audit
audit: setup ## pip-audit of uv.lock: status 0 clean, 1 vulnerable (listed), 3 not checked (says why)
	@$(RUN) python -m threadline_native.supply_chain.audit

.PHONY: build-backends
build-backends: setup ## Build (once; cached in .threadline/cache) every Go-built observability backend
	@$(RUN) python -m threadline_native.build_backends

.PHONY: k8s-validate
k8s-validate: setup ## Render every deploy/k8s overlay with kustomize (built once), validate each object offline (pinned Kubernetes + CRD schemas), run the policy rules
	@$(RUN) python -m threadline_k8s.cli

.PHONY: rules-test
rules-test: setup ## Unit-test the SLO recording and alerting rules with promtool
	@$(RUN) pytest -q deploy/native/tests/unit/test_obs_slo_rules.py

.PHONY: verify
verify: setup ## Send traffic through every journey and prove each trace/log/metric link works
	@$(RUN) python -m threadline_native.verify

.PHONY: load
load: setup ## Bounded headless load run (LOAD_ARGS=...): reports/load/ + SLO verdict, exit 1 on a breach
	@$(RUN) python -m threadline_loadtests run $(LOAD_ARGS)

.PHONY: load-ui
load-ui: setup ## Locust's web UI on http://127.0.0.1:8089; judged against the SLOs when stopped
	@$(RUN) python -m threadline_loadtests ui $(LOAD_ARGS)

.PHONY: chaos
chaos: setup ## Chaos drills: list them with their hypotheses; DRILL=name runs one (verdict, reports/chaos/; exit 1 failed, 2 bad input)
	@$(RUN) python -m threadline_chaos $(if $(DRILL),run $(DRILL),list)

.PHONY: chaos-all
chaos-all: setup ## Run every chaos drill, one after another, each with its verdict and report (`make up` first)
	@$(RUN) python -m threadline_chaos all

.PHONY: chaos-gameday
chaos-gameday: setup ## A seeded random schedule of faults under steady load (SEED=n, FAULTS=3), judged and reported
	@$(RUN) python -m threadline_chaos gameday --seed $(or $(SEED),1) $(if $(FAULTS),--faults $(FAULTS))

.PHONY: bench
bench: setup ## Highest throughput at p99 < 250 ms, no errors (Locust on CPU 1); docs/benchmarks/load.md
	@$(RUN) python -m threadline_benchmarks load $(BENCH_ARGS)

.PHONY: bench-floor
bench-floor: setup ## The same steps against the bare frameworks, stack down: what is left for the services; docs/benchmarks/floor.md
	@$(RUN) python -m threadline_benchmarks floor $(BENCH_ARGS)

.PHONY: bench-compare
bench-compare: setup ## bench-floor then bench, same steps, one run (stack down at the start; started for the second part): stack/floor throughput and CPU per request per service; docs/benchmarks/compare.md
	@$(RUN) python -m threadline_benchmarks compare $(BENCH_ARGS)

.PHONY: new-service
new-service: setup ## New service from templates/service, registered everywhere: NAME=payment KIND=http|grpc (PORT=, ADMIN_PORT= optional)
	@$(RUN) python -m threadline_native.scaffold new "$(NAME)" --kind "$(KIND)" $(if $(PORT),--port $(PORT)) $(if $(ADMIN_PORT),--admin-port $(ADMIN_PORT))

.PHONY: remove-service
remove-service: setup ## Undo `make new-service` for NAME: its files and every registration, byte for byte
	@$(RUN) python -m threadline_native.scaffold remove "$(NAME)"

.PHONY: proto
proto: ## Regenerate libs/contracts from every services/*/proto (grpcio-tools + mypy-protobuf, locked)
	@$(RUN) python libs/contracts/generate.py

.PHONY: bench-order
bench-order: setup ## Order service: RPC throughput/p99 vs bare grpc.aio, relay events/s, commit-to-consumed p99; docs/benchmarks/order.md
	@$(RUN) python -m threadline_benchmarks order $(BENCH_ARGS)

.PHONY: migrate
migrate: setup ## Apply every service's database migrations (PostgreSQL must answer: `make up`)
	@$(RUN) user-service migrate
	@$(RUN) order-service migrate

.PHONY: bench-user
bench-user: setup bench-tools ## User service: GET by id (cache hit/miss) and token p50/p99 vs a bare route; docs/benchmarks/user.md
	@$(RUN) python -m threadline_benchmarks user $(BENCH_ARGS)

.PHONY: bench-tools
bench-tools: ## Install the HTTP/2 and HTTP/1 load generators the benchmarks use (wrk, h2load) when missing
	@command -v wrk >/dev/null && command -v h2load >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq wrk nghttp2-client; }

.PHONY: bench-observability
bench-observability: setup bench-tools ## Overhead of libs/observability on a trivial FastAPI route and grpc.aio method; docs/benchmarks/observability.md
	@$(RUN) python -m threadline_benchmarks observability $(BENCH_ARGS)

.PHONY: bench-toxiproxy
bench-toxiproxy: setup ## Toxiproxy's pass-through cost at make load's load, proxied vs direct (stack up); docs/benchmarks/toxiproxy.md
	@$(RUN) python -m threadline_benchmarks toxiproxy $(BENCH_ARGS)

.PHONY: bench-stack
bench-stack: setup ## Time a warm native start and measure each component's RAM (docs/benchmarks/stack.json)
	@$(RUN) python -m threadline_benchmarks stack $(BENCH_ARGS)
