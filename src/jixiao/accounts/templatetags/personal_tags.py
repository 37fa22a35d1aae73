"""``{% personal_value value "birth_date" %}``: a personal value as the signed-in user may see it
(see :mod:`jixiao.accounts.personal`; an anonymous page always masks)."""

from __future__ import annotations

from typing import Any

from django import template

from jixiao.accounts import personal
from jixiao.accounts.models import User

register = template.Library()


@register.simple_tag(takes_context=True)
def personal_value(context: template.Context, value: Any, field: str) -> Any:
    """``value`` of the personal ``field`` (``birth_date``, ``phone``, ``id_number``), masked
    unless the request's user may see it unmasked."""
    request = context.get("request")
    user = getattr(request, "user", None)
    kind = personal.PERSONAL_FIELDS[field]
    if not isinstance(user, User) or not user.is_authenticated:
        return "" if value in (None, "") else personal.mask(value, kind)
    return personal.shown(user, value, kind)
