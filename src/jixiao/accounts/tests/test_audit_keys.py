"""Every key a service records in an audit entry reads as Chinese on the audit page.

The audit page names a change by the model field's verbose name or by ``audit_display.KEYS``; a
key that is neither showed as an English identifier ("computed"). This walks every
``audit_record(..., changes={...})`` literal in the source, so a new service cannot add one."""

from __future__ import annotations

import ast
from pathlib import Path

from django.apps import apps

from jixiao.accounts.audit_display import KEYS

SRC = Path(__file__).resolve().parents[2]


def _recorded_keys() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in SRC.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            name = getattr(node, "func", None)
            if not (
                isinstance(node, ast.Call)
                and getattr(name, "id", getattr(name, "attr", "")) == "audit_record"
            ):
                continue
            for kw in node.keywords:
                if kw.arg == "changes" and isinstance(kw.value, ast.Dict):
                    for key in kw.value.keys:
                        if isinstance(key, ast.Constant) and isinstance(key.value, str):
                            found.setdefault(key.value, f"{path.relative_to(SRC)}:{node.lineno}")
    return found


def test_every_recorded_audit_key_has_a_chinese_label() -> None:
    fields = {n for model in apps.get_models() for f in model._meta.get_fields()
              for n in (f.name, getattr(f, "attname", f.name))}  # fmt: skip
    missing = {k: where for k, where in _recorded_keys().items() if k not in KEYS and k not in fields}
    assert not missing, missing
