# Jot: the two commands a new user needs are `make demo` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
BIN := target/debug
TOOLS := jot jot-build jot-config jot-invoke jot-serve jot-push jot-deploy jot-ls jot-rm jot-logs
SHELLS := bash zsh fish

.PHONY: all build demo test test-julia leak-check unit setup docker julia-image ministack sdk-clients runtime-layer runtime-test bench completions lint clean-containers

all: build

build:
	$(CARGO) build

## The main job: build examples/increment_vector.jl and invoke it locally.
demo: build
	bash scripts/demo.sh

## Bring up what the tests need: Docker engine, offline Julia image, MiniStack.
setup: docker julia-image ministack sdk-clients

docker:
	bash scripts/ensure-docker.sh

julia-image: docker
	bash scripts/ensure-julia-image.sh

ministack:
	bash scripts/ensure-ministack.sh

## boto3 and the AWS CLI (PyPI), which the jot-serve tests drive.
sdk-clients:
	bash scripts/ensure-sdk-clients.sh

## The whole test suite, end to end against the real engine, Julia and MiniStack.
test: setup build runtime-test runtime-layer
	$(CARGO) test --workspace --no-fail-fast

## Two test runs in a row, with the engine's and MiniStack's counts before,
## between and after (nothing may be left behind).
leak-check:
	bash scripts/leak-check.sh $(MAKE) test

## Build the jot runtime layer (with its system image) on the test base image
## once, before tests build in parallel.
runtime-layer: build julia-image
	JOT_BASE_IMAGE=$${JOT_TEST_BASE_IMAGE:-jot/julia:1.5.3-bullseye} $(BIN)/jot-build examples/increment_vector.jl --arg-type 'Vector{Int}' >/dev/null

## The Julia runtime's own tests (runtime-template/JotRuntime/test), inside the
## offline Julia image: host networking (the tests serve on 127.0.0.1), a writable
## depot in the container's /tmp. Fails if any test fails.
runtime-test: julia-image
	$(call runtime_tests_in,$${JOT_TEST_BASE_IMAGE:-jot/julia:1.5.3-bullseye})

runtime_tests_in = docker run --rm --network host -e JULIA_DEPOT_PATH=/tmp/depot \
	  -v $(CURDIR)/runtime-template:/runtime:ro $(1) \
	  julia --startup-file=no /runtime/JotRuntime/test/runtests.jl

## The Julia-dependent tests against one base image the engine has (docs/julia.md):
##   docker pull julia:1.10 && make test-julia IMAGE=julia:1.10
## the runtime's own tests in it, then the Rust tests that build and run images on it.
JULIA_TESTS := compile runtime_stage coldstart
test-julia: build
	@[ -n "$(IMAGE)" ] || { echo "usage: make test-julia IMAGE=julia:1.10 (an image the engine has)"; exit 2; }
	@docker image inspect $(IMAGE) >/dev/null 2>&1 || { echo "no image $(IMAGE) in the engine (docker pull it first)"; exit 2; }
	$(call runtime_tests_in,$(IMAGE))
	JOT_TEST_BASE_IMAGE=$(IMAGE) $(CARGO) test --no-fail-fast $(addprefix --test ,$(JULIA_TESTS))

## Unit tests only (no Docker needed).
unit:
	$(CARGO) test --workspace --lib --bins

## Benchmarks: cold start, warm latency and rebuild, each beside its floor.
bench: setup
	$(CARGO) build --release -p jot-build -p jot-invoke -p jot-push -p jot-deploy -p jot-ls -p jot-rm -p jot-serve
	bash scripts/bench.sh
	bash scripts/bench-coldstart.sh
	bash scripts/bench-serve.sh
	@if [ -f scripts/bench-aws.sh ]; then bash scripts/bench-aws.sh; fi
	bash scripts/bench-ls.sh

## Regenerate shell-completions/ (completions and man pages TOOL.1) from the clap definitions.
completions: build
	@mkdir -p shell-completions
	@for tool in $(TOOLS); do \
	  [ -x $(BIN)/$$tool ] || continue; \
	  $(BIN)/$$tool --generate-completions bash > shell-completions/$$tool.bash; \
	  $(BIN)/$$tool --generate-completions zsh > shell-completions/_$$tool; \
	  $(BIN)/$$tool --generate-completions fish > shell-completions/$$tool.fish; \
	  $(BIN)/$$tool --generate-man > shell-completions/$$tool.1; \
	done
	@echo "shell-completions/ regenerated (completions and man pages)"

lint:
	python3 scripts/module-cycles.py
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

## Remove sandboxes left by an interrupted run.
clean-containers:
	-docker ps -aq --filter label=dev.jot.emulator | xargs -r docker rm -f
