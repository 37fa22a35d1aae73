"""Reads of users and the audit log."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from jixiao.accounts.models import AuditLog, User


def audit_entries(*, action: str = "", query: str = "") -> QuerySet[AuditLog]:
    """Return audit entries, newest first, filtered by action and free text."""
    qs = AuditLog.objects.all()
    if action:
        qs = qs.filter(action=action)
    if query:
        qs = qs.filter(
            Q(actor_name__icontains=query) | Q(object_repr__icontains=query) | Q(object_type__icontains=query)
        )
    return qs


def users(
    *, query: str = "", role: str = "", unit_id: int | None = None, active: bool | None = True
) -> QuerySet[User]:
    """Return accounts for the office's list, by unit then username, filtered by free text (name,
    username, unit name or code), role, unit and whether active (None: both)."""
    qs = User.objects.select_related("unit", "official").order_by("unit__code", "username")
    if query:
        qs = qs.filter(
            Q(username__icontains=query)
            | Q(display_name__icontains=query)
            | Q(unit__name__icontains=query)
            | Q(unit__code__icontains=query)
        )
    if role:
        qs = qs.filter(role=role)
    if unit_id is not None:
        qs = qs.filter(unit_id=unit_id)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs
