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


def _recorded_keys() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
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
                            found.append((key.value, f"{path.relative_to(SRC)}:{node.lineno}"))
    return found


def _fields(app: str) -> set[str]:
    """Field names (and attnames) of the app's models: a service records changes of its own app's
    objects, and the page names a key by the recorded object's field."""
    labels = {c.label for c in apps.get_app_configs()}
    models = apps.get_app_config(app).get_models() if app in labels else apps.get_models()
    return {n for model in models for f in model._meta.get_fields()
            for n in (f.name, getattr(f, "attname", f.name))}  # fmt: skip


def test_every_recorded_audit_key_has_a_chinese_label() -> None:
    missing = [
        (key, where)
        for key, where in _recorded_keys()
        if key not in KEYS and key not in _fields(where.split("/")[0])
    ]
    assert not missing, missing
