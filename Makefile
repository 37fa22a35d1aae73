# The two commands: `make demo` and `make test`. Everything else is a helper for them or for CI.
SHELL := /bin/bash
PORT ?= 8000
UV := $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
# Hardlinks from uv's cache: a fresh clone's .venv in 5 s instead of 20 s of copying 670 MB (uv
# copies by itself when the cache is on another file system).
export UV_LINK_MODE ?= hardlink

.PHONY: demo test test-engine lint typecheck env serve bench vendor jixiao release

# uv need not be on PATH: pip --user puts it in ~/.local/bin, which a fresh shell may not search
# (PEP 668 Debian Pythons need --break-system-packages even for --user). After `make env` every
# README command runs as .venv/bin/jixiao … (or `make jixiao ARGS="…"`), with or without uv.
env:
	@command -v uv >/dev/null 2>&1 || test -x "$(UV)" || python3 -m pip install --quiet --user uv \
		|| python3 -m pip install --quiet --user --break-system-packages uv || python3 -m pip install --quiet uv
	@$$(command -v uv || echo "$(UV)") sync --frozen --quiet
	@test -x .venv/bin/jixiao || { echo "make env: .venv/bin/jixiao is missing" >&2; exit 1; }

# `make jixiao ARGS="compute --cycle 2025"` runs any jixiao command without uv on PATH.
jixiao: env
	@.venv/bin/jixiao $(ARGS)

demo: env
	@.venv/bin/jixiao demo --port $(PORT)

test: env
	@.venv/bin/pytest -n 2 --dist loadgroup -q $(PYTEST_ARGS)

test-engine: env
	@.venv/bin/pytest -p no:django -q src/jixiao/scoring

lint: env
	@$$(command -v uv || echo "$(UV)") run ruff check src tests bench
	@$$(command -v uv || echo "$(UV)") run ruff format --check src tests bench
	@$$(command -v uv || echo "$(UV)") run lint-imports

typecheck: env
	@$$(command -v uv || echo "$(UV)") run mypy

vendor:
	bash scripts/refresh-vendor.sh

# The offline release for intranets: dist/jixiao-<version>-linux-x86_64.tar.gz with every locked
# wheel, install.sh and the service units (docs/operations.md). Needs the registries, once.
# `make release RELEASE_ARGS="--python python3.12"` builds for another target Python.
release: env
	@bash scripts/build-release.sh $(RELEASE_ARGS)
