"""Reads for the declaration pages, scoped by role and unit.

A liaison, lead department or official sees only their own unit's declaration; the office,
leaders and auditors see all. A lead department also reads the declared indicators it leads
in other units (:func:`led_indicators`), read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from jixiao.accounts.models import Role, User
from jixiao.accounts.permissions import scope_to_units
from jixiao.declarations.drafting import (
    DeclaredWeightProblem,
    declared_weight_problems,
    framework_parents,
    scheme_of,
)
from jixiao.declarations.models import (
    ChangeRequest,
    Declaration,
    DeclarationStatus,
    DeclarationVersion,
    DeclaredIndicator,
    DynamicTask,
    Milestone,
)
from jixiao.declarations.publication import PublishedUnit
from jixiao.schemes.models import WEIGHT_TOTAL, Cycle, IndicatorNode, Scheme


def declarations_visible(*, user: User, cycle: Cycle) -> QuerySet[Declaration]:
    """The cycle's declarations ``user`` may see, with unit and stage loaded."""
    qs = Declaration.objects.filter(cycle=cycle).select_related("unit__category", "stage", "cycle")
    return scope_to_units(user, qs)


def declaration_get(*, user: User, pk: int) -> Declaration:
    """One declaration ``user`` may see, or Http404 (another unit's declaration included)."""
    qs = scope_to_units(user, Declaration.objects.select_related("unit__category", "stage", "cycle"))
    found = qs.filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def indicator_get(*, user: User, pk: int) -> DeclaredIndicator:
    """One declared indicator of a declaration ``user`` may see, or Http404."""
    qs = scope_to_units(
        user,
        DeclaredIndicator.objects.select_related(
            "declaration__unit__category", "declaration__cycle", "parent"
        ),
        unit_path="declaration__unit",
    )
    found = qs.filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


@dataclass
class DeclaredItem:
    indicator: DeclaredIndicator
    children: list[DeclaredIndicator] = field(default_factory=list)

    @property
    def children_weight(self) -> Decimal:
        return sum((c.weight for c in self.children), Decimal("0"))

    @property
    def children_ok(self) -> bool:
        return not self.children or self.children_weight == WEIGHT_TOTAL


@dataclass
class FrameworkRow:
    """A framework node as the declaration page shows it, with the unit's declared indicators."""

    node: IndicatorNode
    open: bool  # units may declare under it
    items: list[DeclaredItem] = field(default_factory=list)

    @property
    def base_weight(self) -> Decimal:
        return sum((i.indicator.weight for i in self.items if i.indicator.kind != "dynamic"), Decimal("0"))

    @property
    def ok(self) -> bool:
        base = [i for i in self.items if i.indicator.kind != "dynamic"]
        return not base or self.base_weight == WEIGHT_TOTAL


@dataclass
class DeclarationPage:
    scheme: Scheme | None
    rows: list[FrameworkRow]
    problems: list[DeclaredWeightProblem]
    core_count: int
    indicator_count: int


def declaration_page(declaration: Declaration) -> DeclarationPage:
    """The framework (levels 1–2 with weights) and the declared indicators under it, the weight
    problems and the core-indicator count; a constant number of queries."""
    scheme = scheme_of(declaration)
    nodes = (
        list(
            IndicatorNode.objects.filter(scheme=scheme, level__lte=2)
            .select_related("component")
            .order_by("component__order", "component_id", "level", "order", "id")
        )
        if scheme
        else []
    )
    open_ids = set(framework_parents(scheme).values_list("pk", flat=True))
    indicators = list(
        DeclaredIndicator.objects.filter(declaration=declaration)
        .select_related("lead_department", "task", "library_entry")
        .prefetch_related(Prefetch("milestones", queryset=Milestone.objects.order_by("due")))
        .order_by("order", "id")
    )
    items: dict[int, DeclaredItem] = {i.pk: DeclaredItem(i) for i in indicators if i.under_id is None}
    for i in indicators:
        if i.under_id is not None and i.under_id in items:
            items[i.under_id].children.append(i)
    # Level-1 nodes, each followed by its level-2 nodes.
    tops = [n for n in nodes if n.level == 1]
    ordered: list[IndicatorNode] = []
    for top in tops:
        ordered.append(top)
        ordered.extend(n for n in nodes if n.parent_id == top.pk)
    rows = {n.pk: FrameworkRow(n, n.pk in open_ids) for n in ordered}
    for item in items.values():
        row = rows.get(item.indicator.parent_id)
        if row is not None:
            row.items.append(item)
    return DeclarationPage(
        scheme=scheme,
        rows=list(rows.values()),
        problems=declared_weight_problems(declaration),
        core_count=sum(1 for i in indicators if i.is_core),
        indicator_count=len(indicators),
    )


def versions_of(declaration: Declaration) -> QuerySet[DeclarationVersion]:
    """Every submitted version of ``declaration``, newest first, with who submitted it."""
    return (
        DeclarationVersion.objects.filter(declaration=declaration)
        .select_related("submitted_by")
        .defer("snapshot")
        .order_by("-number")
    )


def change_requests_of(declaration: Declaration) -> QuerySet[ChangeRequest]:
    return ChangeRequest.objects.filter(declaration=declaration).select_related("requested_by")


def led_indicators(*, user: User, cycle: Cycle) -> QuerySet[DeclaredIndicator]:
    """The declared indicators of ``cycle`` that ``user``'s unit leads (a lead department), with
    their units; empty for anyone without a unit."""
    if user.unit_id is None:
        return DeclaredIndicator.objects.none()
    return (
        DeclaredIndicator.objects.filter(declaration__cycle=cycle, lead_department_id=user.unit_id)
        .select_related("declaration__unit", "parent")
        .order_by("declaration__unit__code", "parent__order", "order", "id")
    )


def published_declarations(
    *, user: User, cycle: Cycle, category_id: int | None = None, unit_id: int | None = None
) -> QuerySet[Declaration]:
    """The cycle's declarations with published targets that ``user`` may read."""
    qs = declarations_visible(user=user, cycle=cycle).filter(published_version__isnull=False)
    if category_id:
        qs = qs.filter(unit__category_id=category_id)
    if unit_id:
        qs = qs.filter(unit_id=unit_id)
    return qs.order_by("unit__category__order", "unit__code")


def published_units(declarations: Any) -> list[PublishedUnit]:
    """Each declaration's published snapshot (one query for all the versions)."""
    rows = list(declarations)
    keys = {(d.pk, d.published_version) for d in rows}
    versions = {
        (v.declaration_id, v.number): v.snapshot
        for v in DeclarationVersion.objects.filter(
            declaration_id__in=[d.pk for d in rows], number__in={d.published_version for d in rows}
        )
        if (v.declaration_id, v.number) in keys
    }
    return [PublishedUnit(d.unit, d, list(versions.get((d.pk, d.published_version), []))) for d in rows]


def tasks_of(*, cycle: Cycle) -> QuerySet[DynamicTask]:
    return (
        DynamicTask.objects.filter(cycle=cycle)
        .select_related("parent", "created_by")
        .prefetch_related("units")
        .order_by("-effective_from", "-id")
    )


def liaison_todo(*, user: User, cycle: Cycle) -> Declaration | None:
    """The liaison's declaration when it waits on them (none yet, 填报中, 已退回, 变更中)."""
    if user.role != Role.LIAISON or user.unit_id is None:
        return None
    return (
        Declaration.objects.filter(
            cycle=cycle,
            unit_id=user.unit_id,
            status__in=[DeclarationStatus.DRAFT, DeclarationStatus.RETURNED, DeclarationStatus.CHANGING],
        )
        .only("pk", "status", "cycle_id", "unit_id")
        .first()
    )
