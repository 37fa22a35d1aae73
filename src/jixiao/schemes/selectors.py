"""Reads of schemes and indicator trees, including the weight check at every level."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from django.apps import apps
from django.db.models import Exists, OuterRef, Q, QuerySet

from jixiao.organisation.models import Layer
from jixiao.schemes.models import (
    WEIGHT_TOTAL,
    Component,
    Cycle,
    CycleStatus,
    IndicatorNode,
    Scheme,
    Subject,
)

PageContent = Literal[
    "results", "facts", "indicators", "adjustments", "scores", "votes", "evaluations", "surveys", "any"
]

# What a page about one cycle shows: (model label, lookup from that model to its cycle). Labels,
# not imports: results, facts, evaluations and surveys all import this app.
_CONTENT: dict[str, tuple[tuple[str, str], ...]] = {
    "results": (("results.ScoringRun", "cycle"),),
    "indicators": (("schemes.IndicatorNode", "scheme__cycle"),),
    "adjustments": (("facts.Adjustment", "cycle"),),
    "scores": (("facts.EvaluationScore", "cycle"),),
    "votes": (("facts.VoteCount", "cycle"),),
    "facts": (
        ("facts.IndicatorResult", "cycle"),
        ("facts.EvaluationScore", "cycle"),
        ("facts.VoteCount", "cycle"),
        ("facts.Adjustment", "cycle"),
    ),
    "evaluations": (("evaluations.EvaluationEvent", "cycle"),),
    "surveys": (("surveys.Survey", "cycle"),),
    "any": (("schemes.Scheme", "cycle"),),
}


@dataclass
class TreeNode:
    node: IndicatorNode
    children: list[TreeNode] = field(default_factory=list)

    @property
    def children_weight(self) -> Decimal:
        return sum((c.node.weight for c in self.children), Decimal("0"))

    @property
    def children_ok(self) -> bool:
        return not self.children or self.children_weight == WEIGHT_TOTAL


@dataclass
class ComponentTree:
    component: Component
    roots: list[TreeNode]

    @property
    def roots_weight(self) -> Decimal:
        return sum((r.node.weight for r in self.roots), Decimal("0"))

    @property
    def roots_ok(self) -> bool:
        return not self.roots or self.roots_weight == WEIGHT_TOTAL


@dataclass(frozen=True)
class WeightProblem:
    where: str
    total: Decimal


def indicator_forest(*, scheme: Scheme) -> list[ComponentTree]:
    """Return the scheme's indicator tree grouped by component. Reads ``scheme.components.all()``
    and ``scheme.indicators.all()`` once each, so a caller that prefetched them (a page showing
    many schemes) pays no query per scheme."""
    all_components = {c.pk: c for c in scheme.components.all()}
    components = sorted(
        (c for c in all_components.values() if c.parent_id is None), key=lambda c: (c.order, c.pk)
    )
    prefetched = "indicators" in getattr(scheme, "_prefetched_objects_cache", {})
    indicators = scheme.indicators.all() if prefetched else scheme.indicators.select_related("lead_unit")
    nodes = sorted(indicators, key=lambda n: (n.level, n.order, n.pk))
    by_id = {n.pk: TreeNode(n) for n in nodes}
    roots: dict[int, list[TreeNode]] = {}
    for n in nodes:
        tree_node = by_id[n.pk]
        if n.parent_id is None:
            roots.setdefault(n.component_id, []).append(tree_node)
        else:
            by_id[n.parent_id].children.append(tree_node)
    forest = [ComponentTree(c, roots.pop(c.pk, [])) for c in components]
    # Level-1 indicators may hang off sub-components; show those too.
    for comp_id, comp_roots in roots.items():
        forest.append(ComponentTree(all_components[comp_id], comp_roots))
    return forest


def weight_problems(*, scheme: Scheme) -> list[WeightProblem]:
    """Return every level whose weights do not sum to 100: the team's components, the officials'
    components for each layer (a component's layer weight, else its weight), sub-components,
    each component's level-1 indicators, and each node's children."""
    problems: list[WeightProblem] = []
    comps = list(scheme.components.all())
    top = [c for c in comps if c.parent_id is None and c.subject == Subject.TEAM]
    if top and sum((c.weight for c in top), Decimal("0")) != WEIGHT_TOTAL:
        problems.append(WeightProblem(str(scheme), sum((c.weight for c in top), Decimal("0"))))
    officials = [c for c in comps if c.parent_id is None and c.subject == Subject.OFFICIAL]
    for layer, label in Layer.choices if officials else []:
        total = sum((Decimal(str(c.layer_weights.get(layer, c.weight))) for c in officials), Decimal("0"))
        if total != WEIGHT_TOTAL:
            problems.append(WeightProblem(f"{scheme} · {label}", total))
    for parent in comps:
        kids = [c for c in comps if c.parent_id == parent.pk]
        if kids and sum((c.weight for c in kids), Decimal("0")) != WEIGHT_TOTAL:
            problems.append(WeightProblem(parent.name, sum((c.weight for c in kids), Decimal("0"))))

    def walk(items: list[TreeNode]) -> None:
        for item in items:
            if not item.children_ok:
                problems.append(WeightProblem(item.node.name, item.children_weight))
            walk(item.children)

    for tree in indicator_forest(scheme=scheme):
        if not tree.roots_ok:
            problems.append(WeightProblem(tree.component.name, tree.roots_weight))
        walk(tree.roots)
    return problems


def cycles_having(has: PageContent) -> QuerySet[Cycle]:
    """Cycles that have what a page of kind ``has`` shows (a scoring run for "results", facts for
    "facts" …); for "any", every cycle but an empty draft. Latest first."""
    condition = Q()
    for label, lookup in _CONTENT[has]:
        related = apps.get_model(label)._default_manager.filter(**{lookup: OuterRef("pk")})
        condition |= Q(Exists(related))
    if has == "any":
        condition |= ~Q(status=CycleStatus.DRAFT)
    return Cycle.objects.filter(condition).order_by("-year")


def cycle_for_page(year: str | None, *, has: PageContent = "any") -> Cycle | None:
    """The cycle a page about one cycle shows: the one of ``year`` (``?year=``; None when there
    is no such cycle), else the latest cycle that has what the page shows (for results, the
    latest with a scoring run), so a new empty draft never hides last year's data. When no
    cycle has it: the latest cycle that is not an empty draft, else the latest cycle, else None."""
    if year and year.strip().isdigit():
        return Cycle.objects.filter(year=int(year)).first()
    return (
        cycles_having(has).first()
        or (cycles_having("any").first() if has != "any" else None)
        or Cycle.objects.order_by("-year").first()
    )


def switcher_cycles() -> list[Cycle]:
    """Every cycle for the cycle switcher, latest first."""
    return list(Cycle.objects.order_by("-year").only("year", "name", "status"))
