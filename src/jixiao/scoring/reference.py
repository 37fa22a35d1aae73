"""The slow oracle: the same computation as the engine, written plainly, one entity at a time.

No NumPy arrays in the logic, only loops, dicts and lists, so that each step can be checked by
reading it against docs/scoring.md. The property tests hold ``engine.compute`` equal to this
(within 1e-9). Grading lives in ``reference_grading.py``. Parsing the scheme is shared (it only
validates); every computation is written again here.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from jixiao.scoring import rules as R
from jixiao.scoring.errors import FactsError
from jixiao.scoring.scheme import Category, Scheme
from jixiao.scoring.types import CycleInput

Row = dict[str, Any]


@dataclass
class RefEntity:
    """One entity's reference result."""

    id: str
    kind: str
    category: str
    layer: str | None = None
    unit: str | None = None
    raw: dict[str, float] = field(default_factory=dict)
    components: dict[str, float] = field(default_factory=dict)
    total: float = 0.0
    rank: int = 0
    size: int = 0
    grade: str | None = None
    decided_by: str = ""
    denied: str | None = None  # the grade a binding constraint kept from it
    flags: set[str] = field(default_factory=set)


@dataclass
class RefResults:
    """Entities by id and leaf rates by (entity, leaf)."""

    entities: dict[str, RefEntity]
    rates: dict[tuple[str, str], float]
    veto: set[str]


def _rows(frame: Any) -> list[Row]:
    rows: list[Row] = frame.to_dicts()
    for row in rows:
        for k, v in list(row.items()):
            if isinstance(v, float) and math.isnan(v):
                row[k] = None
    return rows


def _rate(p: R.RuleParams, row: Row, group: list[Row], where: str) -> tuple[float, bool]:
    """Return (rate, veto) of one result row; ``group`` holds every row of the same leaf."""
    value = row.get("value")
    if isinstance(p, R.GradeMap):
        label = row.get("label")
        if label is None:
            return 0.0, False
        if label not in p.rates:
            raise FactsError(where, f"grade label {label!r} unknown")
        return p.rates[label], False
    if value is None:
        return 0.0, False
    target = row.get("target")
    if isinstance(p, R.Completion | R.Steps):
        target = target if target is not None else p.target
    if isinstance(p, R.Completion) or (isinstance(p, R.Steps) and p.on == "ratio"):
        if target is None or target <= 0:
            raise FactsError(where, "bad target")
        lower = isinstance(p, R.Completion) and p.lower_is_better
        ratio = (math.inf if value <= 0 else target / value) if lower else value / target
        if isinstance(p, R.Completion):
            return (0.0 if ratio < p.floor else min(ratio, p.cap)), False
        return _step(ratio, p.steps, p.below), False
    if isinstance(p, R.Steps):
        return _step(value, p.steps, p.below), False
    if isinstance(p, R.ThresholdDeduction):
        threshold = p.threshold if p.threshold is not None else target
        if threshold is None:
            raise FactsError(where, "no threshold")
        short = value - threshold if p.lower_is_better else threshold - value
        return max(p.min_rate, 1.0 - p.per_unit * max(short, 0.0)), False
    if isinstance(p, R.BonusDeduction):
        change = p.per_unit * value
        if p.cap is not None:
            change = min(max(change, -p.cap), p.cap)
        rate = max(p.base + change, p.min_rate)
        return (rate if p.max_rate is None else min(rate, p.max_rate)), False
    present = [r["value"] for r in group if r.get("value") is not None]
    if isinstance(p, R.RankPoints):
        better = sum(1 for v in present if (v < value if p.lower_is_better else v > value))
        rank = better + 1
        points = p.points[rank - 1] if rank <= len(p.points) else p.floor
        return points / p.full, False
    if isinstance(p, R.BestProportion):
        if p.lower_is_better:
            best = min(present)
            rate = 1.0 if value <= best else best / value
        else:
            best = max(present)
            rate = value / best if best > 0 else 0.0
        return min(rate, p.cap), False
    if isinstance(p, R.YoyImprovement):
        last = row.get("last_year")
        if last is None:
            return 0.0, False
        if last == 0:
            growth = 0.0 if value == 0 else (math.inf if value > 0 else -math.inf)
        else:
            growth = 100.0 * (value - last) / abs(last)
        if p.lower_is_better:
            growth = -growth
        raw = growth if math.isinf(growth) else p.base + p.per_point * growth
        return min(max(raw, p.min_rate), p.max_rate), False
    if isinstance(p, R.VsAverage):
        avg = float(np.mean(present))
        if avg == 0:
            ratio = 1.0
        elif p.lower_is_better:
            ratio = math.inf if value <= 0 else avg / value
        else:
            ratio = value / avg
        return _step(ratio, p.tiers, p.below), False
    assert isinstance(p, R.Veto)
    return (p.triggered_rate, True) if value != 0 else (1.0, False)


def _round(x: float, decimals: int) -> float:
    """Snap to 9 decimals, then round half-even to ``decimals`` (as published; see ranking.py)."""
    return float(np.round(np.round(x, 9), decimals))


def _step(x: float, steps: tuple[tuple[float, float], ...], below: float) -> float:
    for minimum, rate in steps:  # sorted by minimum, highest first
        if x >= minimum:
            return rate
    return below


@dataclass(frozen=True)
class RefNode:
    """A node of one entity's own tree (framework or declared); leaves have a rule."""

    code: str
    parent: str | None
    weight: float
    component: str | None
    rule: R.RuleParams | None
    rule_type: str | None = None


def _own_tree(cat: Category, zone: str | None, declared: list[Row]) -> list[RefNode]:
    """The entity's tree: the category's framework (zone weights applied) and its declared nodes."""
    overrides = cat.zone_weights.get(zone, {}) if zone is not None else {}
    nodes = [RefNode(n.code, n.parent, overrides.get(n.code, n.weight), n.component, n.rule, n.rule_type)
             for n in cat.nodes]  # fmt: skip
    parents = {d["parent"] for d in declared}
    for d in declared:
        if d["code"] in parents:  # an inner declared node: its rule is ignored
            nodes.append(RefNode(d["code"], d["parent"], float(d["weight"]), None, None))
            continue
        kind, rule = R.parse_rule(d["code"], {"type": d["rule"], "params": json.loads(d["params"] or "{}")})
        nodes.append(RefNode(d["code"], d["parent"], float(d["weight"]), d["component"], rule, kind))
    return nodes


def _roll(cat: Category, comp: str, rates: dict[str, float], tree: list[RefNode]) -> tuple[float, bool]:
    """Return (score of ``comp`` on 0–100, some leaf reported) for one entity's ``tree``."""
    children: dict[str | None, list[RefNode]] = defaultdict(list)
    for node in tree:
        children[node.parent].append(node)
    exclude = cat.missing_indicator == "exclude"

    def holds(node: RefNode) -> bool:
        if node.rule is not None:
            return node.component == comp
        return any(holds(c) for c in children[node.code])

    def score(node: RefNode) -> tuple[float, bool]:
        if node.rule is not None:
            return (100.0 * rates[node.code], True) if node.code in rates else (0.0, False)
        return mean_of(children[node.code])

    def mean_of(nodes: list[RefNode]) -> tuple[float, bool]:
        num = den = 0.0
        present = False
        for child in nodes:
            if not holds(child):
                continue
            s, here = score(child)
            present = present or here
            if here or not exclude:
                num += child.weight * s
                den += child.weight
        return (num / den if den > 0 else 0.0), present

    return mean_of(children[None])


def reference_compute(inp: CycleInput) -> RefResults:
    """Compute every entity's scores, rank and grade, slowly and plainly."""
    from jixiao.scoring.reference_grading import grade_reference

    scheme: Scheme = inp.scheme
    cats = {c.code: c for c in scheme.categories}
    ents: dict[str, RefEntity] = {}
    zones = inp.units.zone.tolist() or [""] * len(inp.units.id)
    zone_of: dict[str, str | None] = {}
    for uid, cat, zone in zip(inp.units.id.tolist(), inp.units.category.tolist(), zones, strict=True):
        ents[uid] = RefEntity(uid, "unit", cat)
        zone_of[uid] = zone or None
    off = inp.officials
    for oid, unit, layer, cat in zip(off.id.tolist(), off.unit.tolist(), off.layer.tolist(), off.category.tolist(),
                                     strict=True):  # fmt: skip
        ents[oid] = RefEntity(oid, "official", cat, layer, unit)
        zone_of[oid] = zone_of[unit]  # officials follow their unit's zone
    declared: dict[str, list[Row]] = defaultdict(list)
    for d in inp.declared.to_dicts():
        declared[d["entity"]].append(d)
    trees = {e: _own_tree(cats[ent.category], zone_of[e], declared[e]) for e, ent in ents.items()}
    leaves: dict[str, RefNode] = {}
    for tree in trees.values():
        for n in tree:
            if n.rule is not None:
                leaves[n.code] = n
    adj = _rows(inp.facts.adjustments)
    falsified = {(a["entity"], a["indicator"]) for a in adj
                 if a["kind"] == "falsification" and cats[ents[a["entity"]].category].adjustments.falsification_enabled}  # fmt: skip
    by_leaf: dict[str, list[Row]] = defaultdict(list)
    for row in _rows(inp.facts.indicator_results):
        by_leaf[row["indicator"]].append(row)
    rates: dict[tuple[str, str], float] = {}
    veto: set[str] = set()
    for code, rows in by_leaf.items():
        node = leaves[code]
        assert node.rule is not None
        for row in rows:
            rate, vetoed = _rate(node.rule, row, rows, f"indicator {code}")
            if (row["entity"], code) in falsified:
                rate = 0.0
            rates[(row["entity"], code)] = rate
            if vetoed:
                veto.add(row["entity"])
    per_entity: dict[str, dict[str, float]] = defaultdict(dict)
    for (e, code), rate in rates.items():
        per_entity[e][code] = rate
    means = _rating_means(scheme, _rows(inp.facts.ratings))
    routine: dict[str, list[Row]] = defaultdict(list)
    for r in _rows(inp.facts.routine):
        if r["grade"] is not None:
            routine[r["entity"]].append(r)
    sums = _adjustment_sums(scheme, ents, adj)
    for kind in ("unit", "official"):  # officials read their team's final scores
        for ent in ents.values():
            if ent.kind != kind:
                continue
            cat = cats[ent.category]
            weight_key = ent.layer if ent.layer else "unit"
            for comp in cat.components:
                if comp.source == "indicators":
                    ent.raw[comp.code] = _roll(cat, comp.code, per_entity[ent.id], trees[ent.id])[0]
                elif comp.source == "routine":
                    graded = [(r["period"], comp.grade_points[r["grade"]]) for r in routine[ent.id]]
                    ent.raw[comp.code] = reference_routine_score(graded) or 0.0
                elif comp.source == "ratings":
                    ent.raw[comp.code] = _ratings_component(
                        scheme, comp.groups, comp.items, means.get(ent.id, {})
                    )
                else:
                    team = ents[str(ent.unit)]
                    name = comp.team_component
                    if name is not None and name not in team.components:
                        raise FactsError(
                            f"official {ent.id}", f"the team's category has no component {name!r}"
                        )
                    ent.raw[comp.code] = team.total if name is None else team.components[name]
            ded, bonus, debt = sums[ent.id]
            pol = cat.adjustments
            weighted = 0.0
            for comp in cat.components:
                value = ent.raw[comp.code]
                if comp.code == pol.deduction_component:
                    value = max(value - ded, 0.0)
                if comp.code == pol.bonus_component:
                    value = value + bonus
                ent.components[comp.code] = value
                weighted += comp.weights[weight_key] * value / 100.0
            total = weighted
            if pol.deduction_component is None:
                total -= ded
            if pol.bonus_component is None:
                total += bonus
            factor = max(1.0 - (pol.debt_rate_per_point if pol.debt_enabled else 0.0) * debt, 0.0)
            ent.total = _round(max(total, 0.0) * factor, scheme.score_decimals)
    _rank(scheme, ents)
    rule_of = {code: str(n.rule_type) for code, n in leaves.items()}
    grade_reference(scheme, ents, inp, rates, veto, adj, rule_of)
    return RefResults(ents, rates, veto)


def _rating_means(scheme: Scheme, rows: list[Row]) -> dict[str, dict[str, dict[str, tuple[int, float]]]]:
    """entity → group → item → (ratings, trimmed mean)."""
    lists: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for row in rows:
        lists[(row["entity"], row["group"], row["item"])].append(float(row["score"]))
    groups = {g.code: g for g in scheme.rater_groups}
    out: dict[str, dict[str, dict[str, tuple[int, float]]]] = defaultdict(lambda: defaultdict(dict))
    for (e, g, item), scores in lists.items():
        scores.sort()
        n = len(scores)
        spec = groups[g]
        trim = (
            (n * spec.trim_share.numerator) // spec.trim_share.denominator if n > spec.trim_min_count else 0
        )
        kept = scores[trim : n - trim]
        total = 0.0
        for s in kept:
            total += s
        out[e][g][item] = (n, total / len(kept))
    return out


def _ratings_component(
    scheme: Scheme, groups: Any, items: Any, means: dict[str, dict[str, tuple[int, float]]]
) -> float:
    num = den = 0.0
    for spec in scheme.rater_groups:
        group_weight = groups.get(spec.code, 0.0)
        if group_weight <= 0 or spec.code not in means:
            continue
        inum = iden = 0.0
        ballots = 0
        for item, (n, mean) in sorted(means[spec.code].items()):
            w = items.get(item, 0.0) if items else 1.0
            if w <= 0:
                continue
            inum += w * mean
            iden += w
            ballots = max(ballots, n)
        if iden == 0 or ballots < spec.min_ballots:
            continue  # withheld: not shown, not zero
        num += group_weight * (inum / iden)
        den += group_weight
    return num / den if den > 0 else 0.0


def _adjustment_sums(
    scheme: Scheme, ents: dict[str, RefEntity], adj: list[Row]
) -> dict[str, tuple[float, float, float]]:
    cats = {c.code: c for c in scheme.categories}
    by_entity: dict[str, list[Row]] = defaultdict(list)
    for a in adj:
        by_entity[a["entity"]].append(a)
    out: dict[str, tuple[float, float, float]] = {}
    for ent in ents.values():
        pol = cats[ent.category].adjustments
        rows = sorted(by_entity[ent.id], key=lambda a: (a["kind"], a["points"] or 0.0))
        ded = sum(a["points"] for a in rows if a["kind"] == "deduction")
        bonus = sum(a["points"] for a in rows if a["kind"] == "bonus")
        debt = sum(a["points"] for a in rows if a["kind"] == "debt")
        ded = ded if pol.deduction_cap is None else min(ded, pol.deduction_cap)
        bonus = bonus if pol.bonus_cap is None else min(bonus, pol.bonus_cap)
        out[ent.id] = (ded, bonus, debt)
    return out


def _rank(scheme: Scheme, ents: dict[str, RefEntity]) -> None:
    for cat in scheme.categories:
        members = [e for e in ents.values() if e.category == cat.code]

        def key(e: RefEntity, cat: Category = cat) -> tuple[Any, ...]:
            tie = [-_round(e.components[c], scheme.score_decimals) for c in cat.tie_break]
            return (-e.total, *tie, e.id)

        members.sort(key=key)
        for i, e in enumerate(members):
            e.rank, e.size = i + 1, len(members)


def reference_routine_score(reports: list[tuple[str, float]]) -> float | None:
    """Return the mean over periods of the mean points per period (None without reports)."""
    by_period: dict[str, list[float]] = defaultdict(list)
    for period, points in reports:
        by_period[period].append(points)
    if not by_period:
        return None
    means = []
    for period in sorted(by_period):
        values = sorted(by_period[period])
        total = 0.0
        for v in values:
            total += v
        means.append(total / len(values))
    total = 0.0
    for m in means:
        total += m
    return total / len(means)


def reference_period_ranking(
    units: Any, routine: Any, grade_points: Any, period: str | list[str], decimals: int = 2
) -> list[dict[str, Any]]:
    """Plain loops for ``routine.period_ranking``: rows sorted by category, then rank."""
    wanted = [period] if isinstance(period, str) else list(period)
    category_of = dict(zip(units.id.tolist(), units.category.tolist(), strict=True))
    per_category = bool(grade_points) and all(isinstance(v, dict) for v in grade_points.values())
    reports: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for row in routine.to_dicts() if routine.height else []:
        e, grade = row["entity"], row.get("grade")
        if e not in category_of or grade is None or row["period"] not in wanted:
            continue
        table = grade_points.get(category_of[e]) if per_category else grade_points
        if table is None:
            continue
        if grade not in table:
            raise FactsError("routine.grade", f"unknown grade {grade!r}")
        reports[e].append((row["period"], float(table[grade])))
    out: list[dict[str, Any]] = []
    for category in sorted(set(category_of.values())):
        scored = []
        for e in sorted(reports):
            if category_of[e] == category:
                score = reference_routine_score(reports[e])
                assert score is not None
                scored.append((_round(score, decimals), e, len(reports[e])))
        scored.sort(key=lambda t: (-t[0], t[1]))
        for i, (score, e, n) in enumerate(scored):
            out.append({"entity": e, "category": category, "score": score, "reports": n, "rank": i + 1,
                        "category_size": len(scored)})  # fmt: skip
    return out
