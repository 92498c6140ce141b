# Strand's build entry points. `make test` is the whole suite CI runs.
#
# RocksDB is compiled from C++ by librocksdb-sys (about 9 minutes on a 2-core
# machine). Point CARGO_TARGET_DIR at one warm directory to build it once:
# .ci/run does, so clean clones on the same machine reuse the build.

CARGO ?= cargo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps browser-deps build test run fmt-check clippy unit browser bench bench-append fuzz-corpus clean

# Where cargo puts binaries (the browser tests run the built `strand`).
TARGET_DIR := $(abspath $(or $(CARGO_TARGET_DIR),target))

# Every target builds with the same features, so RocksDB's C++ is compiled
# once: the OTLP exporter's proc-macros change the features bindgen (a
# build dependency of librocksdb-sys) is built with. `otlp` is off for a
# plain `cargo build`; its test (tests/otlp.rs) needs it on.
FEATURES ?= --features strand/otlp

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

## What the browser tests need: Chromium, Node.js and playwright-core.
browser-deps:
	@command -v chromium >/dev/null || { echo "installing chromium (the dashboard's browser tests)"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }
	@{ command -v node >/dev/null && command -v npm >/dev/null; } || { echo "installing nodejs and npm"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq nodejs npm; }
	@[ -d tests/browser/node_modules/playwright-core ] || npm ci --prefix tests/browser --no-audit --no-fund

build: deps
	$(CARGO) build --workspace --all-targets $(FEATURES)

fmt-check: deps
	$(CARGO) fmt --all -- --check

clippy: deps
	$(CARGO) clippy --workspace --all-targets $(FEATURES) -- -D warnings

## Unit, integration, property and doc tests of every crate.
unit: deps
	$(CARGO) test --workspace $(FEATURES)

## The dashboard in a real browser: Chromium headless, driven by
## playwright-core, against a real `strand serve`. Screenshots of each page
## are written to target/dashboard/.
browser: deps browser-deps
	$(CARGO) build --bin strand $(FEATURES)
	cd tests/browser && STRAND_BIN=$(TARGET_DIR)/debug/strand SCREENSHOTS=$(CURDIR)/target/dashboard \
		node --test dashboard.test.mjs

## The whole suite: formatting, lints with warnings denied, every test
## (the browser tests too).
test: fmt-check clippy unit browser

## Build and run the example workflow on ./strand-data (run it again after
## killing it: it resumes).
run: deps
	$(CARGO) run $(FEATURES) -- run examples/etl.toml

## The long-running figures (release build, about 25 minutes): a 10-minute
## soak at 50 runs/s with retention (memory level once the retained window
## has filled, some six retention windows: 3 minutes), and a history of
## 1,000,000 bead completions with and without retention (memory, disk,
## start after kill -9).
bench: deps
	$(CARGO) run --release $(FEATURES) -- -o json bench soak --retention 30s --warmup-seconds 180
	$(CARGO) run --release $(FEATURES) -- -o json bench history

bench-append: deps
	$(CARGO) run --release $(FEATURES) -- bench append -o json

## Regenerate the fuzz seed corpus (checked in; see fuzz/).
fuzz-corpus:
	python3 fuzz/make_seed_corpus.py

clean:
	$(CARGO) clean
