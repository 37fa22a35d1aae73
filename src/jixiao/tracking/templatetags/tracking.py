"""Display filters of the tracking pages (no business logic: names and rounding only)."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.translation import gettext as _

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


@register.filter
def plain(value: Decimal | None) -> str:
    """A stored decimal without trailing zeros and never in exponent form (100, 12.5)."""
    if value is None:
        return ""
    return plain_decimal(value)


def plain_decimal(value: Decimal) -> str:
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# Four decimals of a degree are about 11 m: enough to tell the site of a photo, and no number on
# a page shows more digits than a person reads.
PLACE_DECIMALS = 4


@register.filter
def place(evidence: object) -> str:
    """Return where a photo was taken as 北纬/南纬 … 东经/西经 …, or "" without a location."""
    lat = getattr(evidence, "latitude", None)
    lon = getattr(evidence, "longitude", None)
    if lat is None or lon is None:
        return ""
    ns = _("北纬") if lat >= 0 else _("南纬")
    ew = _("东经") if lon >= 0 else _("西经")
    return f"{ns} {abs(lat):.{PLACE_DECIMALS}f}°，{ew} {abs(lon):.{PLACE_DECIMALS}f}°"
