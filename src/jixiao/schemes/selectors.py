"""Reads of schemes and indicator trees, including the weight check at every level."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from django.apps import apps
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from jixiao.organisation.models import FunctionZone, Layer
from jixiao.schemes.models import (
    FRAMEWORK_MAX_LEVEL,
    STAGE_ORDER,
    WEIGHT_TOTAL,
    Component,
    Cycle,
    CycleStage,
    CycleStagePlan,
    CycleStatus,
    IndicatorNode,
    Scheme,
    Subject,
    ZoneWeight,
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


# A tree with more nodes than this is shown one level-1 subtree at a time (?node=<level-1 id>).
TREE_PAGE_ABOVE = 80


@dataclass(frozen=True)
class Level1:
    """A level-1 node in the tree's jump list."""

    pk: int
    code: str
    name: str
    size: int  # the node and all its descendants


def _size(item: TreeNode) -> int:
    return 1 + sum(_size(c) for c in item.children)


def tree_paging(forest: list[ComponentTree], *, open_root: int | None) -> dict[str, object]:
    """How a tree is paged: ``paged`` (a large tree shows one level-1 subtree at a time),
    ``open_root`` (the level-1 node shown, if any) and ``level1`` (the jump list)."""
    level1 = [Level1(r.node.pk, r.node.code, r.node.name, _size(r)) for tree in forest for r in tree.roots]
    paged = sum(item.size for item in level1) > TREE_PAGE_ABOVE
    known = {item.pk for item in level1}
    return {
        "paged": paged,
        "open_root": open_root if open_root in known else None,
        "level1": level1 if paged else [],
    }


def _walk(items: list[TreeNode]) -> list[tuple[TreeNode, TreeNode]]:
    """(level-1 ancestor, node) for every node under ``items``."""
    out: list[tuple[TreeNode, TreeNode]] = []
    for root in items:
        stack = [root]
        while stack:
            item = stack.pop()
            out.append((root, item))
            stack.extend(item.children)
    return out


def find_tree_node(forest: list[ComponentTree], pk: int) -> TreeNode | None:
    """The tree node ``pk`` with its subtree, or None."""
    return next((item for tree in forest for _root, item in _walk(tree.roots) if item.node.pk == pk), None)


def level1_of(forest: list[ComponentTree], pk: int) -> int | None:
    """The level-1 ancestor of node ``pk`` (itself for a level-1 node), or None."""
    return next(
        (root.node.pk for tree in forest for root, item in _walk(tree.roots) if item.node.pk == pk), None
    )


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


@dataclass(frozen=True)
class WeightCheck:
    """One level of component weights: where (naming the scheme, for lists of problems), a
    label for the scheme's own page, its total, and whether that is 100."""

    where: str
    label: str
    total: Decimal

    @property
    def ok(self) -> bool:
        return self.total == WEIGHT_TOTAL


def component_weight_checks(*, scheme: Scheme) -> list[WeightCheck]:
    """Every level of component weights, each checked on its own: the team's top components, the
    officials' top components per layer (a component's layer weight, else its weight) — team and
    official components are two separate totals of 100, never one of 200 — and each parent's
    sub-components. Reads ``scheme.components.all()`` (prefetch it for many schemes)."""
    comps = list(scheme.components.all())
    checks: list[WeightCheck] = []
    top = [c for c in comps if c.parent_id is None and c.subject == Subject.TEAM]
    if top:
        total = sum((c.weight for c in top), Decimal("0"))
        checks.append(WeightCheck(str(scheme), str(_("领导班子构成")), total))
    officials = [c for c in comps if c.parent_id is None and c.subject == Subject.OFFICIAL]
    for layer, name in Layer.choices if officials else []:
        total = sum((Decimal(str(c.layer_weights.get(layer, c.weight))) for c in officials), Decimal("0"))
        label = str(_("领导干部构成（%(layer)s）") % {"layer": name})
        checks.append(WeightCheck(f"{scheme} · {name}", label, total))
    for parent in comps:
        kids = [c for c in comps if c.parent_id == parent.pk]
        if kids:
            total = sum((c.weight for c in kids), Decimal("0"))
            checks.append(WeightCheck(parent.name, str(_("“%(c)s”的子构成") % {"c": parent.name}), total))
    return checks


def zone_weights_of(*, scheme: Scheme, nodes: list[IndicatorNode]) -> dict[int, dict[int, ZoneWeight]]:
    """The scheme's function-zone weights: node id → zone id → row (with its zone). Reads the
    nodes' prefetched ``zone_weights`` when every node has them (prefetch
    ``zone_weights__zone``), else one query."""
    out: dict[int, dict[int, ZoneWeight]] = {}
    if nodes and all("zone_weights" in getattr(n, "_prefetched_objects_cache", {}) for n in nodes):
        rows: list[ZoneWeight] = [zw for n in nodes for zw in n.zone_weights.all()]
    else:
        rows = list(ZoneWeight.objects.filter(node__scheme=scheme).select_related("zone"))
    for zw in rows:
        out.setdefault(zw.node_id, {})[zw.zone_id] = zw
    return out


def _zone_problems(
    where: str, siblings: list[TreeNode], zones: dict[int, dict[int, ZoneWeight]]
) -> list[WeightProblem]:
    """For each function zone some of ``siblings`` weigh on their own: the siblings' weights in
    that zone (a node's zone weight, else its weight) must sum to 100."""
    zone_names: dict[int, str] = {}
    for item in siblings:
        for zone_id, zw in zones.get(item.node.pk, {}).items():
            zone_names[zone_id] = zw.zone.name
    problems = []
    for zone_id, name in sorted(zone_names.items(), key=lambda kv: kv[1]):
        total = sum(
            (
                zones[i.node.pk][zone_id].weight if zone_id in zones.get(i.node.pk, {}) else i.node.weight
                for i in siblings
            ),
            Decimal("0"),
        )
        if total != WEIGHT_TOTAL:
            problems.append(WeightProblem(_("%(where)s（%(zone)s）") % {"where": where, "zone": name}, total))
    return problems


def zone_weight_problems(*, scheme: Scheme, forest: list[ComponentTree] | None = None) -> list[WeightProblem]:
    """The sibling levels whose weights in some function zone do not sum to 100 (a node's zone
    weight where it has one, else its own weight), named "level（zone）"."""
    forest = indicator_forest(scheme=scheme) if forest is None else forest
    framework = [
        item.node
        for tree in forest
        for _root, item in _walk(tree.roots)
        if item.node.level <= FRAMEWORK_MAX_LEVEL
    ]
    zones = zone_weights_of(scheme=scheme, nodes=framework) if framework else {}
    if not zones:
        return []
    problems: list[WeightProblem] = []

    def walk(items: list[TreeNode]) -> None:
        for item in items:
            if item.children:
                problems.extend(_zone_problems(item.node.name, item.children, zones))
            walk(item.children)

    for tree in forest:
        if tree.roots:
            problems.extend(_zone_problems(tree.component.name, tree.roots, zones))
        walk(tree.roots)
    return problems


def weight_problems(*, scheme: Scheme) -> list[WeightProblem]:
    """Return every level whose weights do not sum to 100: the component levels of
    :func:`component_weight_checks`, each component's level-1 indicators, and each node's
    children — then :func:`zone_weight_problems` (the same levels in each function zone that
    has weights of its own there)."""
    problems = [WeightProblem(c.where, c.total) for c in component_weight_checks(scheme=scheme) if not c.ok]
    forest = indicator_forest(scheme=scheme)

    def walk(items: list[TreeNode]) -> None:
        for item in items:
            if not item.children_ok:
                problems.append(WeightProblem(item.node.name, item.children_weight))
            walk(item.children)

    for tree in forest:
        if not tree.roots_ok:
            problems.append(WeightProblem(tree.component.name, tree.roots_weight))
        walk(tree.roots)
    return problems + zone_weight_problems(scheme=scheme, forest=forest)


@dataclass(frozen=True)
class ZoneGridRow:
    """One framework node in the zone-weight grid: its own weight and, per zone, its zone weight."""

    node: IndicatorNode
    depth: int
    cells: list[tuple[FunctionZone, Decimal | None]]


def zone_weight_grid(*, scheme: Scheme) -> tuple[list[FunctionZone], list[ZoneGridRow]]:
    """The function zones and, in tree order, the scheme's framework nodes (levels 1–2) with
    their zone weights (None where a zone uses the node's own weight)."""
    zones = list(FunctionZone.objects.order_by("code"))
    forest = indicator_forest(scheme=scheme)
    nodes: list[tuple[IndicatorNode, int]] = []

    def walk(items: list[TreeNode], depth: int) -> None:
        for item in items:
            if item.node.level <= FRAMEWORK_MAX_LEVEL:
                nodes.append((item.node, depth))
                walk(item.children, depth + 1)

    for tree in forest:
        walk(tree.roots, 0)
    weights = zone_weights_of(scheme=scheme, nodes=[]) if nodes else {}
    rows = [
        ZoneGridRow(
            node,
            depth,
            [(z, weights[node.pk][z.pk].weight if z.pk in weights.get(node.pk, {}) else None) for z in zones],
        )
        for node, depth in nodes
    ]
    return zones, rows


@dataclass(frozen=True)
class StageStep:
    """One stage of a cycle's timeline: its label, what it allows, its planned dates and whether
    it is done, current or still to come."""

    stage: str
    label: str
    allows: str
    opens_on: object
    closes_on: object
    state: Literal["done", "current", "upcoming"]


def stage_timeline(*, cycle: Cycle, allows: dict[str, object]) -> list[StageStep]:
    """The cycle's six stages in order with their plans (one query); a draft cycle has none
    current, a closed cycle has them all done."""
    plans = {p.stage: p for p in CycleStagePlan.objects.filter(cycle=cycle)}
    current = STAGE_ORDER.index(cycle.stage) if cycle.stage in STAGE_ORDER else 0
    steps = []
    for index, stage in enumerate(STAGE_ORDER):
        state: Literal["done", "current", "upcoming"]
        if cycle.status == CycleStatus.CLOSED or (cycle.status == CycleStatus.OPEN and index < current):
            state = "done"
        elif cycle.status == CycleStatus.OPEN and index == current:
            state = "current"
        else:
            state = "upcoming"
        plan = plans.get(stage)
        steps.append(
            StageStep(
                stage,
                str(CycleStage(stage).label),
                str(allows.get(stage, "")),
                plan.opens_on if plan else None,
                plan.closes_on if plan else None,
                state,
            )
        )
    return steps


def cycles_having(has: PageContent) -> QuerySet[Cycle]:
    """Cycles that have what a page of kind ``has`` shows (a scoring run for "results", facts for
    "facts" …); for "any", every cycle but an empty draft. Latest first."""
    condition = Q()
    for label, lookup in _CONTENT[has]:
        manager = apps.get_model(label)._default_manager
        if "__" in lookup:  # through the (small) schemes table
            condition |= Q(Exists(manager.filter(**{lookup: OuterRef("pk")})))
            continue
        # "The first cycle id at or after this cycle's, in the index's order, is this one": an
        # index probe per cycle. ``EXISTS (… WHERE cycle_id = outer.id)`` was planned as a
        # sequential scan of the facts (the planner expects a match after a few rows), which for a
        # cycle without facts reads all 10 million ratings of a province before answering no.
        first = manager.filter(**{f"{lookup}__gte": OuterRef("pk")}).order_by(lookup).values(lookup)[:1]
        condition |= Q(pk=Subquery(first))
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
