"""Reads of users and the audit log."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from jixiao.accounts.models import AuditLog


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
