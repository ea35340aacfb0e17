# atrest: the two commands of the README, and their parts.
#   make test   every test (formatting, lints, unit, fixture and CLI tests)
# The run command is a plain `cargo run` (see README.md).

CARGO ?= cargo

.PHONY: test lint unit tools

test: tools lint unit

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
