"""Audited writes shared by every app: create, update and delete a model instance.

Form-backed CRUD in the registry and schemes goes through these so that every change is in the
audit log with who, when and what changed, inside one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from django.db import models, transaction

from jixiao.accounts.audit import audit_record, diff, snapshot
from jixiao.accounts.models import AuditAction, Role, User

M = TypeVar("M", bound=models.Model)


@transaction.atomic
def instance_create(*, actor: User, instance: M) -> M:
    """Validate, save and audit a new instance; return it."""
    instance.full_clean()
    instance.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=instance, changes=snapshot(instance))
    return instance


@transaction.atomic
def instance_update(*, actor: User, instance: M, before: Mapping[str, Any]) -> M:
    """Validate, save and audit ``instance``; ``before`` is its :func:`snapshot` before editing."""
    instance.full_clean()
    instance.save()
    changes = diff(before, snapshot(instance))
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=instance, changes=changes)
    return instance


@transaction.atomic
def instance_delete(*, actor: User, instance: models.Model) -> None:
    """Audit and delete ``instance`` (the audit row keeps what it was)."""
    audit_record(actor=actor, action=AuditAction.DELETE, obj=instance, changes=snapshot(instance))
    instance.delete()


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str = "",
    unit_id: int | None = None,
    actor: User | None = None,
    is_superuser: bool = False,
) -> User:
    """Create an account with a role and unit scope, audited."""
    user = User(username=username, role=role, display_name=display_name, unit_id=unit_id)
    user.is_superuser = is_superuser
    user.is_staff = is_superuser
    user.set_password(password)
    user.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=user, changes={"role": role, "unit_id": unit_id})
    return user
