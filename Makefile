# The two commands: `make demo` and `make test`. Everything else is a helper for them or for CI.
SHELL := /bin/bash
PORT ?= 8000
UV := $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
export UV_LINK_MODE := copy

.PHONY: demo test test-engine lint typecheck env serve bench vendor

env:
	@command -v uv >/dev/null 2>&1 || test -x "$(UV)" || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
	@$$(command -v uv || echo "$(UV)") sync --frozen --quiet

demo: env
	@$$(command -v uv || echo "$(UV)") run jixiao demo --port $(PORT)

test: env
	@$$(command -v uv || echo "$(UV)") run pytest -n 2 --dist loadgroup -q $(PYTEST_ARGS)

test-engine: env
	@$$(command -v uv || echo "$(UV)") run pytest -p no:django -q src/jixiao/scoring

lint: env
	@$$(command -v uv || echo "$(UV)") run ruff check src tests bench
	@$$(command -v uv || echo "$(UV)") run ruff format --check src tests bench
	@$$(command -v uv || echo "$(UV)") run lint-imports

typecheck: env
	@$$(command -v uv || echo "$(UV)") run mypy

vendor:
	bash scripts/refresh-vendor.sh
