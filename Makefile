# Two commands do all set-up on a fresh machine (Python 3.11, pip and a compiler):
#   make demo   builds the environment, fetches the default model, runs the main job
#   make test   builds the environment, fetches the default model, runs lint + the whole test suite
# llama-cpp-python builds from source the first time (~5 min on 2 cores); pip's wheel cache keeps it.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export APPLIANCE_HOME ?= $(CURDIR)/var

.PHONY: venv model lint test demo bench grammars sbom clean node mutation mutation-ci

# llama-cpp-python comes from deploy/build-llama-cpp.sh, the same script Dockerfile.gpu runs with --cuda.
# ./dev is the dev world (dev tenant, fakes, benchmark harnesses): installed here, never in the image.
$(VENV)/.installed: pyproject.toml dev/pyproject.toml deploy/build-llama-cpp.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	bash deploy/build-llama-cpp.sh --python $(BIN)/python
	$(BIN)/python -m pip install -e '.[dev]'
	$(BIN)/python -m pip install -e ./dev
	touch $@

venv: $(VENV)/.installed

model: venv
	$(BIN)/appliance models fetch

grammars: venv
	$(BIN)/appliance grammar build

lint: venv
	$(BIN)/ruff check appliance dev tests
	$(BIN)/lint-imports
	$(BIN)/mypy

# The MCP Inspector test (tests/integration/mcp/test_inspector.py) installs its pinned npm packages into
# .mcp-inspector/ at test set-up; it needs npm. A fresh machine without it gets Debian's nodejs + npm.
node:
	@command -v npm >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nodejs npm; } \
		|| echo "warning: npm could not be installed; the MCP Inspector test will be skipped"

test: model lint node
	$(BIN)/pytest

demo: model
	$(BIN)/appliance demo

# Mutation testing of the guards ([tool.mutmut] in pyproject.toml; results in docs/TESTING.md). Each
# mutant runs only the fast unit tests that reach the function it changed. About 20-40 min on 2 cores.
mutation: venv
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2
	$(BIN)/python -m tests.mutation.report --write docs/TESTING.md

# The bounded CI subset: the guard modules changed against the merge base with main (else a fixed small set).
mutation-ci: venv
	BIN=$(BIN) bash tests/mutation/ci.sh

bench: model
	$(BIN)/appliance bench --json --out docs/bench.json

# CycloneDX SBOM (JSON) of the installed environment, with the appliance as the root component.
SBOM ?= dist/sbom.cdx.json
sbom: venv
	@mkdir -p $(dir $(SBOM))
	$(BIN)/cyclonedx-py environment $(BIN)/python --pyproject pyproject.toml --mc-type application --of JSON -o $(SBOM)
	@echo "wrote $(SBOM)"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .mcp-inspector mutants mutants.log
