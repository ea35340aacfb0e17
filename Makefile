# atrest: the two commands of the README, and their parts.
#   make test      every test (formatting, lints, unit, fixture, CLI, browser and end-to-end tests on moto,
#                  the Lambda packages of both architectures, the CDK app, cdk-nag and cfn-lint)
#   make package   the Lambda packages: target/lambda/<arch>/<rule-id>/bootstrap.zip (ARCH=arm64|x86_64)
# The run command is a plain `cargo run` (see README.md).

CARGO ?= cargo
PYTHON ?= python3
# The AWS wire-protocol peer of the end-to-end tests.
MOTO_VERSION := 5.2.5
CFN_LINT_VERSION := 1.58.0
# The independent oracle of the key-policy rules (rules/tests/oracle.rs).
POLICYUNIVERSE_VERSION := 1.5.1.20231109
VENV := .venv
# Lambda architecture of `make package` and of the CDK app: arm64 (Graviton) or x86_64.
ARCH ?= arm64
NPM ?= npm

.PHONY: test lint unit tools venv browser fuzz package package-check packages deploy-check bench ci-cold

test: tools venv browser lint unit packages deploy-check

# Headless Chromium renders the HTML evidence report in the CLI tests.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# A virtual environment with moto's server, cfn-lint and policyuniverse,
# created when missing or when a version here changes.
VENV_STAMP := $(VENV)/.atrest-$(MOTO_VERSION)-$(CFN_LINT_VERSION)-$(POLICYUNIVERSE_VERSION)
venv: $(VENV_STAMP)

$(VENV_STAMP):
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check 'moto[server,s3,ssm,awslambda]==$(MOTO_VERSION)' \
	  'cfn-lint==$(CFN_LINT_VERSION)' 'policyuniverse==$(POLICYUNIVERSE_VERSION)'
	touch $@

# The toolchains: Rust (rustup's default profile) and Node.js; binutils for the package check.
tools:
	@command -v $(CARGO) >/dev/null || { echo "atrest: cargo not found: install Rust (https://rustup.rs)"; exit 1; }
	@$(CARGO) fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@$(CARGO) clippy --version >/dev/null 2>&1 || rustup component add clippy
	@command -v $(NPM) >/dev/null || { echo "atrest: npm not found: install Node.js 20 or later (the CDK app)"; exit 1; }
	@command -v objdump >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq binutils >/dev/null; }

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

unit:
	$(CARGO) test --workspace

# The Lambda packages for provided.al2023 (glibc 2.34), built with ARCH's gcc and
# linked by mold (both installed when missing: gcc-aarch64-linux-gnu for arm64),
# then checked: one executable bootstrap per zip, the ELF machine of ARCH, no
# GLIBC_ symbol newer than 2.34.
package:
	$(PYTHON) scripts/package.py build --arch $(ARCH)
	$(PYTHON) scripts/package.py check --arch $(ARCH)

package-check:
	$(PYTHON) scripts/package.py check --arch $(ARCH)

# Both architectures: the CDK tests synthesise each.
packages:
	$(MAKE) package ARCH=arm64
	$(MAKE) package ARCH=x86_64

# The CDK app: its tests (node's runner), a synthesis of the default app and of
# an organization conformance pack with the customer-managed key and of the
# StackSet-ready functions (both then deployed on moto: tests/deploy_on_moto.py), and cfn-lint on
# every template (the synthesised ones and `atrest pack`'s): no error allowed (its one
# warning, W3005, is the DependsOn CDK's Function puts on its role). Offline, no credentials.
CDK_ENV := CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=true
# The debug CLI that `make unit` built (cdk/test/pack.test.ts runs it too).
export ATREST_BIN ?= $(abspath $(or $(CARGO_TARGET_DIR),target))/debug/atrest
deploy-check: venv
	cd cdk && $(NPM) ci --no-audit --no-fund --loglevel=error
	cd cdk && $(NPM) test
	cd cdk && $(CDK_ENV) npx cdk synth --quiet --no-notices -o cdk.out -c atrest:alerts=on
	cd cdk && $(CDK_ENV) npx cdk synth --quiet --no-notices -o cdk.out.org \
	  -c atrest:deployAs=organization-conformance-pack -c atrest:encryptionKey=true \
	  -c atrest:organizationAccounts=test/data/organization-accounts.json -c atrest:excludedAccounts=123456789012 \
	  -c atrest:remediation=manual
	cd cdk && $(CDK_ENV) npx cdk synth --quiet --no-notices -o cdk.out.stackset \
	  -c atrest:deployAs=functions -c atrest:stackSetAssets=acme-atrest-assets
	$(VENV)/bin/python tests/deploy_on_moto.py --assembly cdk/cdk.out.org --stackset-assembly cdk/cdk.out.stackset \
	  --bin-dir $(dir $(ATREST_BIN)) --venv $(VENV)
	$(ATREST_BIN) pack --function-arn-prefix 'arn:$${AWS::Partition}:lambda:$${AWS::Region}:$${AWS::AccountId}:function:atrest-' \
	  --param kms-key-tags-aligned.tagKeys=CostCenter,Application --output target/atrest-pack.yaml \
	  --remediation --remediation-key-arn 'arn:$${AWS::Partition}:kms:$${AWS::Region}:$${AWS::AccountId}:key/0f1e2d3c-4b5a-4697-8887-a6b5c4d3e2f1'
	$(VENV)/bin/cfn-lint --non-zero-exit-code error cdk/cdk.out/*.template.json cdk/cdk.out.org/*.template.json \
	  cdk/cdk.out.stackset/*.template.json target/atrest-pack.yaml
	@echo "deploy-check: cdk tests, 3 syntheses, both organization patterns on moto, cdk-nag and cfn-lint clean"

# Fuzzing of the event decoder (a separate command, not part of `make test`).
# Only a stable toolchain exists here: RUSTC_BOOTSTRAP lets cargo-fuzz pass
# its -Z flags; no sanitizer (-s none), which stable cannot build.
FUZZ_SECONDS ?= 60
fuzz:
	@command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	mkdir -p fuzz/corpus/event && cp common/tests/data/*.json fuzz/corpus/event/
	cd fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run -s none event -- -max_total_time=$(FUZZ_SECONDS)

# The benchmarks (not part of `make test`): writes bench/RESULTS.md and
# bench/results.json; creates bench/.venv (rdklib, boto3, moto) when missing.
bench: venv
	$(MAKE) package ARCH=arm64
	$(PYTHON) bench/run.py

# The cold CI run, timed (not part of `make test`): `.ci/run` on a fresh clone
# of this repository's HEAD with no build cache; writes bench/ci-cold.json,
# which `make bench` reports.
ci-cold:
	$(PYTHON) scripts/ci_cold.py
