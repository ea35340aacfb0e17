# atrest: the two commands of the README, and their parts.
#   make test   every test (formatting, lints, unit, fixture, CLI, browser and end-to-end tests on moto)
# The run command is a plain `cargo run` (see README.md).

CARGO ?= cargo
PYTHON ?= python3
# The AWS wire-protocol peer of the end-to-end tests.
MOTO_VERSION := 5.2.5
VENV := .venv

.PHONY: test lint unit tools venv browser

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
