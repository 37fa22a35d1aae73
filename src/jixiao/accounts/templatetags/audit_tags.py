"""``{% audit_rows page as rows %}``: audit entries for people (see ``accounts.audit_display``)."""

from __future__ import annotations

from collections.abc import Iterable

from django import template

from jixiao.accounts import audit_display
from jixiao.accounts.models import AuditLog

register = template.Library()


@register.simple_tag
def audit_rows(entries: Iterable[AuditLog]) -> list[audit_display.AuditRow]:
    return audit_display.audit_rows(entries)
