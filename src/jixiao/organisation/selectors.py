"""Reads of the registry, always scoped to what the requesting user may see."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from jixiao.accounts.models import User
from jixiao.accounts.permissions import scope_to_units
from jixiao.organisation.models import (
    FunctionZone,
    Official,
    Position,
    Region,
    Tenure,
    Unit,
    UnitCategory,
)


@dataclass(frozen=True)
class RegistryFilters:
    """What the list pages filter by; empty strings mean "any"."""

    query: str = ""
    category: str = ""
    region: str = ""
    zone: str = ""
    layer: str = ""


def _pk(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def unit_list(*, user: User, filters: RegistryFilters) -> QuerySet[Unit]:
    """Return the units ``user`` may see, filtered, with category, region and zone joined."""
    units = scope_to_units(user, Unit.objects.all(), unit_path="").select_related(
        "category", "region", "function_zone"
    )
    if filters.query:
        units = units.filter(
            Q(name__icontains=filters.query)
            | Q(code__icontains=filters.query)
            | Q(short_name__icontains=filters.query)
        )
    if (category := _pk(filters.category)) is not None:
        units = units.filter(category_id=category)
    if (region := _pk(filters.region)) is not None:
        units = units.filter(region_id=region)
    if (zone := _pk(filters.zone)) is not None:
        units = units.filter(function_zone_id=zone)
    # An aggregate drops Meta.ordering; pages must be stable, so order explicitly.
    return units.annotate(official_count=Count("officials", distinct=True)).order_by(
        "category__order", "code"
    )


def official_list(*, user: User, filters: RegistryFilters) -> QuerySet[Official]:
    """Return the officials ``user`` may see, filtered, with unit and category joined."""
    officials = scope_to_units(user, Official.objects.all()).select_related("unit", "unit__category")
    if filters.query:
        officials = officials.filter(Q(name__icontains=filters.query) | Q(code__icontains=filters.query))
    if (category := _pk(filters.category)) is not None:
        officials = officials.filter(unit__category_id=category)
    if (region := _pk(filters.region)) is not None:
        officials = officials.filter(unit__region_id=region)
    if filters.layer:
        officials = officials.filter(layer=filters.layer)
    return officials


def unit_get(*, user: User, pk: int) -> Unit:
    """Return the unit if ``user`` may see it; raise Http404 otherwise (no existence leak)."""
    units = scope_to_units(user, Unit.objects.all(), unit_path="")
    return get_object_or_404(units.select_related("category", "region", "function_zone"), pk=pk)


def official_get(*, user: User, pk: int) -> Official:
    """Return the official if ``user`` may see their unit; raise Http404 otherwise."""
    officials = scope_to_units(user, Official.objects.all()).select_related("unit")
    return get_object_or_404(officials, pk=pk)


def position_get(*, user: User, pk: int) -> Position:
    """Return the position if ``user`` may see its unit; raise Http404 otherwise."""
    return get_object_or_404(scope_to_units(user, Position.objects.select_related("unit")), pk=pk)


def tenure_get(*, user: User, pk: int) -> Tenure:
    """Return the tenure if ``user`` may see its unit; raise Http404 otherwise."""
    tenures = scope_to_units(user, Tenure.objects.all(), unit_path="position__unit")
    return get_object_or_404(tenures.select_related("position", "position__unit", "official"), pk=pk)


def unit_positions(*, unit: Unit) -> list[Position]:
    """Return the unit's posts, each with its tenures (holders and predecessors) newest first."""
    tenures = Tenure.objects.select_related("official").order_by("-start", "-id")
    return list(unit.positions.prefetch_related(Prefetch("tenures", queryset=tenures)))


def unit_officials(*, unit: Unit) -> list[Official]:
    return list(unit.officials.all())


def official_tenures(*, official: Official) -> list[Tenure]:
    """Return the official's tenures, newest first, with post and unit joined."""
    return list(official.tenures.select_related("position", "position__unit").order_by("-start", "-id"))


@dataclass(frozen=True)
class RegistryOverview:
    regions: list[Region]
    categories: list[UnitCategory]
    zones: list[FunctionZone]


def registry_overview() -> RegistryOverview:
    """Return regions, categories and function zones, each annotated with ``unit_count``."""
    return RegistryOverview(
        regions=list(Region.objects.select_related("parent").annotate(unit_count=Count("units"))),
        categories=list(UnitCategory.objects.annotate(unit_count=Count("units"))),
        zones=list(FunctionZone.objects.annotate(unit_count=Count("units"))),
    )


def filter_choices() -> dict[str, list[tuple[int, str]]]:
    """Return the (pk, name) options for the list filters."""
    return {
        "categories": list(UnitCategory.objects.values_list("pk", "name")),
        "regions": list(Region.objects.values_list("pk", "name")),
        "zones": list(FunctionZone.objects.values_list("pk", "name")),
    }
