# atrest: the two commands of the README, and their parts.
#   make test   every test (formatting, lints, unit, fixture, CLI, browser and end-to-end tests on moto)
# The run command is a plain `cargo run` (see README.md).

CARGO ?= cargo
PYTHON ?= python3
# The AWS wire-protocol peer of the end-to-end tests.
MOTO_VERSION := 5.2.5
VENV := .venv

.PHONY: test lint unit tools venv browser fuzz

test: tools venv browser lint unit

# Headless Chromium renders the HTML evidence report in the CLI tests.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# A virtual environment with moto's server, created when missing.
venv: $(VENV)/bin/moto_server

$(VENV)/bin/moto_server:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check 'moto[server,s3,ssm,awslambda]==$(MOTO_VERSION)'

# Everything here comes with the Rust toolchain (rustup's default profile).
tools:
	@command -v $(CARGO) >/dev/null || { echo "atrest: cargo not found: install Rust (https://rustup.rs)"; exit 1; }
	@$(CARGO) fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@$(CARGO) clippy --version >/dev/null 2>&1 || rustup component add clippy

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

unit:
	$(CARGO) test --workspace

# Fuzzing of the event decoder (a separate command, not part of `make test`).
# Only a stable toolchain exists here: RUSTC_BOOTSTRAP lets cargo-fuzz pass
# its -Z flags; no sanitizer (-s none), which stable cannot build.
FUZZ_SECONDS ?= 60
fuzz:
	@command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	mkdir -p fuzz/corpus/event && cp common/tests/data/*.json fuzz/corpus/event/
	cd fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run -s none event -- -max_total_time=$(FUZZ_SECONDS)
