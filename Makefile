# Strand's build entry points. `make test` is the whole suite CI runs.
#
# RocksDB is compiled from C++ by librocksdb-sys (about 9 minutes on a 2-core
# machine). Point CARGO_TARGET_DIR at one warm directory to build it once:
# .ci/run does, so clean clones on the same machine reuse the build.

CARGO ?= cargo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build test run fmt-check clippy unit bench-append fuzz-corpus clean

all: build

## Install what a fresh Debian machine lacks (only what is missing).
deps:
	@if ! ls /usr/lib/llvm-*/lib/libclang.so >/dev/null 2>&1 && ! ldconfig -p 2>/dev/null | grep -q 'libclang\.so'; then \
		echo "installing libclang-dev (librocksdb-sys needs it for bindgen)"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq libclang-dev; \
	fi
	@command -v c++ >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq g++; }
	@$(CARGO) fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@$(CARGO) clippy --version >/dev/null 2>&1 || rustup component add clippy

build: deps
	$(CARGO) build --workspace --all-targets

fmt-check: deps
	$(CARGO) fmt --all -- --check

clippy: deps
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## Unit, integration, property and doc tests of every crate.
unit: deps
	$(CARGO) test --workspace

## The whole suite: formatting, lints with warnings denied, every test.
test: fmt-check clippy unit

## Build and run the example workflow on ./strand-data (run it again after
## killing it: it resumes).
run: deps
	$(CARGO) run -- run examples/etl.toml

bench-append: deps
	$(CARGO) run --release -- bench append -o json

## Regenerate the fuzz seed corpus (checked in; see fuzz/).
fuzz-corpus:
	python3 fuzz/make_seed_corpus.py

clean:
	$(CARGO) clean
