"""``{{ n|grouped }}``: a count with thousands separators ("10,507,978"), in every language.

Django's ``intcomma`` follows the active locale's format, and zh-Hans has no thousands separator
(10507978); the project writes counts grouped by thousands in Chinese too, as ``f"{n:,}"`` does.
"""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def grouped(value: Any) -> str:
    """``value`` as an integer with thousands separators ("" for None), or unchanged when it is
    not a number."""
    if value is None:
        return ""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)
