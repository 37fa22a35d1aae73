"""The scoring core is pure: no Django, no app, no I/O modules (import-linter also checks this)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
FORBIDDEN = ("django", "jixiao.accounts", "jixiao.organisation", "jixiao.schemes", "jixiao.results",
             "jixiao.web", "jixiao.config", "psycopg", "sqlite3", "os", "pathlib", "io", "socket")  # fmt: skip


def test_no_module_of_the_scoring_core_imports_django_an_app_or_io() -> None:
    offenders = []
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}" for n in names if any(n == f or n.startswith(f + ".") for f in FORBIDDEN)
            ]
    assert offenders == []


def test_no_module_of_the_scoring_core_opens_files() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "open"]
        assert calls == [], path.name
