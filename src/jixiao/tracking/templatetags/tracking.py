"""Display filters of the tracking pages (no business logic: names and rounding only)."""

from __future__ import annotations

from decimal import Decimal

from django import template

from jixiao.tracking.evidence import kind_label

register = template.Library()


@register.filter
def evidence_kind(content_type: str) -> str:
    """PDF, Word, JPEG … for a stored content type."""
    return kind_label(content_type)


@register.filter
def megabytes(size: int | None) -> str:
    """A byte count in MB with one decimal (0.1 for anything small but not empty)."""
    if not size:
        return "0"
    value = (Decimal(size) / Decimal(1024 * 1024)).quantize(Decimal("0.1"))
    return f"{max(value, Decimal('0.1')):f}"


@register.filter
def percent(value: Decimal | None) -> str:
    """A percent with at most one decimal, empty for None."""
    if value is None:
        return ""
    text = f"{Decimal(value).quantize(Decimal('0.1')):f}"
    return text[:-2] if text.endswith(".0") else text
