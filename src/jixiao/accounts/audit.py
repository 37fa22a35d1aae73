"""Writing the audit log. Every service that changes data calls :func:`audit_record`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models

from jixiao.accounts.middleware import current_request
from jixiao.accounts.models import AuditAction, AuditLog, User
from jixiao.hygiene import CONTROL_CHARACTERS

# One entry's changes stay small whatever was changed: a 100 KB note once copied itself into the
# log and made the audit page 210 MB. Long strings keep their head and their length, long lists
# their first items; the data itself is in its own table.
AUDIT_TEXT_MAX = 500
AUDIT_LIST_MAX = 50


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _bounded(value: Any) -> Any:
    """Return JSON-able ``value`` with long strings and lists cut (marked with what was cut) and
    control characters replaced (PostgreSQL's jsonb refuses NUL)."""
    if isinstance(value, str):
        if len(value) > AUDIT_TEXT_MAX:
            value = f"{value[:AUDIT_TEXT_MAX]}…（共 {len(value)} 字）"
        return CONTROL_CHARACTERS.sub("\ufffd", value)
    if isinstance(value, list):
        items = [_bounded(v) for v in value[:AUDIT_LIST_MAX]]
        if len(value) > AUDIT_LIST_MAX:
            items.append(f"…（共 {len(value)} 项）")
        return items
    if isinstance(value, dict):
        return {_bounded(str(k)): _bounded(v) for k, v in value.items()}
    return value


def _client_ip() -> str | None:
    request = current_request.get()
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """Return the concrete field values of ``instance`` as JSON-able data."""
    names = list(fields) if fields is not None else [f.attname for f in instance._meta.concrete_fields]
    return {name: _jsonable(getattr(instance, name)) for name in names}


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Return ``{field: [old, new]}`` for every field whose value changed."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def audit_record(
    *,
    actor: User | None,
    action: AuditAction | str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    changes: Mapping[str, Any] | None = None,
) -> AuditLog:
    """Insert one audit entry, append it to the ledger's hash chain and return it."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
    actor_obj = actor if actor is not None and actor.pk else None
    entry = AuditLog.objects.create(
        actor=actor_obj,
        actor_name=actor.get_username() if actor is not None else "",
        action=str(action),
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        changes=_bounded(_jsonable(dict(changes or {}))),
        ip_address=_client_ip(),
    )
    from jixiao.ledger.services import ledger_append  # the ledger sits above accounts

    ledger_append(kind="audit", object_ids=[entry.pk])
    return entry
