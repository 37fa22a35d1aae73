"""Reads for the dashboard."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from jixiao.accounts.models import User
from jixiao.accounts.permissions import scope_to_units
from jixiao.organisation.models import Official, Unit, UnitCategory
from jixiao.schemes.models import Cycle


def dashboard_summary(*, user: User) -> dict[str, Any]:
    """Return the counts and per-category breakdown the home page shows, scoped to ``user``."""
    units = scope_to_units(user, Unit.objects.all(), unit_path="")
    officials = scope_to_units(user, Official.objects.all())
    categories = list(
        UnitCategory.objects.filter(units__in=units)
        .annotate(unit_count=Count("units", distinct=True), official_count=Count("units__officials"))
        .order_by("order")
    )
    return {
        "unit_count": units.count(),
        "official_count": officials.count(),
        "categories": categories,
        "cycles": list(Cycle.objects.all()[:5]),
        "chart": {
            "labels": [c.name for c in categories],
            "units": [c.unit_count for c in categories],
            "officials": [c.official_count for c in categories],
        },
    }
