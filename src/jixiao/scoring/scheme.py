"""The scheme (考核方案) as typed, validated data: categories, components, indicator trees, rater
groups, adjustment and grading policies.

``parse_scheme`` takes the JSON-able dict of a cycle bundle's ``"scheme"`` and returns a frozen
:class:`Scheme`, or raises :class:`SchemeError` naming the category / indicator / key at fault.
Nothing here is a constant of the engine: every weight, quota, threshold and label is scheme data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from jixiao.scoring import params as P
from jixiao.scoring.errors import SchemeError
from jixiao.scoring.rules import RuleParams, parse_rule

SUBJECTS = ("unit", "official")
LAYERS = ("head", "member", "other")  # 班子正职 / 班子成员 / 其他干部
SOURCES = ("indicators", "ratings", "team", "routine")
MAX_TREE_DEPTH = 4  # the four-level indicator tree of M3
WEIGHT_TOTAL = 100.0
ROUNDINGS = ("floor", "round_half_up", "ceil")
HARD_RULES = ("bottom_share", "target_below", "vote_share", "last_place_twice", "top_twice", "low_ambition")
EFFECTS = ("ceiling", "forced", "no_grade")


@dataclass(frozen=True)
class RaterGroup:
    """A rater group (评价主体) of "1+5+N": trimming and the minimum ballots to be shown."""

    code: str
    trim_share: Fraction  # drop this share of ratings at each end…
    trim_min_count: int  # …only when there are more than this many ratings
    min_ballots: int  # fewer ballots than this: the group is withheld (not zero)


@dataclass(frozen=True)
class Component:
    """A score component (平时实绩, 年度实绩, 社会公认度…) of a category, on the 0–100 scale."""

    code: str
    source: str  # indicators | ratings | team | routine
    weights: Mapping[str, float]  # layer → weight; units use the key "unit"
    groups: Mapping[str, float]  # ratings: rater group → weight
    items: Mapping[str, float]  # ratings: item → weight; empty = every item weighs 1
    team_component: str | None  # team: the team's component to take (None = the team's total)
    grade_points: Mapping[str, float] = field(default_factory=dict)  # routine: grade label → points


@dataclass(frozen=True)
class Node:
    """A node of the four-level indicator tree; leaves carry a component and a rule."""

    code: str
    parent: str | None
    weight: float
    depth: int
    component: str | None
    rule_type: str | None
    rule: RuleParams | None
    raw_params: Mapping[str, Any]


@dataclass(frozen=True)
class AdjustmentPolicy:
    """How adjustments change scores. ``None`` component = the total."""

    deduction_component: str | None
    deduction_cap: float | None
    bonus_component: str | None
    bonus_cap: float | None
    debt_enabled: bool
    debt_rate_per_point: float  # share of the total lost per percentage point over the limit
    falsification_enabled: bool


@dataclass(frozen=True)
class GradeLevel:
    """A grade (等次) and its quota; exactly one level of a policy has ``ratio is None`` (the fill)."""

    label: str
    ratio: Fraction | None
    by_rank: bool  # False: the ratio only caps how many may be *forced* into it


@dataclass(frozen=True)
class HardRule:
    """A hard grading rule; see docs/scoring.md for each type."""

    type: str
    grade: str | None
    share: Fraction  # bottom_share: share of the category; vote_share: the "more than" share
    component: str | None  # bottom_share: rank by this component instead of the total
    threshold: float  # target_below: rate threshold
    rule_types: tuple[str, ...]  # target_below: which leaves count as quantitative targets
    labels: tuple[str, ...]  # vote_share: vote labels counted
    min_count: int = 1  # low_ambition: flagged declared leaves needed for the ceiling


@dataclass(frozen=True)
class Sanction:
    """A sanction level (诫勉, 警告, 追责…) and its effect on the grade."""

    level: str
    effect: str  # ceiling | forced | no_grade
    grade: str | None


@dataclass(frozen=True)
class TeamCap:
    """What a team's grade does to its officials: excellent share and the head's ceiling."""

    member_share: Fraction | None
    head_ceiling: str | None


@dataclass(frozen=True)
class GradingPolicy:
    """Quotas, rounding, hard rules, sanctions and team caps of one category."""

    levels: tuple[GradeLevel, ...]
    rounding: str
    hard_rules: tuple[HardRule, ...]
    sanctions: tuple[Sanction, ...]  # ordered from the lightest to the heaviest
    veto_ceiling: str | None  # best grade allowed under a veto of excellence
    falsification_grade: str | None
    team_caps: Mapping[str, TeamCap]  # team grade label → cap

    def index(self, label: str) -> int:
        """Return the position of ``label`` (0 = best)."""
        return [level.label for level in self.levels].index(label)


@dataclass(frozen=True)
class Category:
    """A category (考核类别) ranked and graded on its own, with its components and tree."""

    code: str
    subject: str
    components: tuple[Component, ...]
    nodes: tuple[Node, ...]  # sorted by code
    missing_indicator: str  # zero | exclude
    tie_break: tuple[str, ...]
    adjustments: AdjustmentPolicy
    grading: GradingPolicy
    zone_weights: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # zone → node → weight

    def component_codes(self) -> tuple[str, ...]:
        """Return the component codes in scheme order."""
        return tuple(c.code for c in self.components)


@dataclass(frozen=True)
class Scheme:
    """A cycle's whole scheme."""

    score_decimals: int
    rater_groups: tuple[RaterGroup, ...]
    categories: tuple[Category, ...]

    def zones(self) -> tuple[str, ...]:
        """Return the zone codes that some category weighs differently, sorted."""
        return tuple(sorted({z for c in self.categories for z in c.zone_weights}))

    def category(self, code: str) -> Category:
        """Return the category ``code``."""
        for category in self.categories:
            if category.code == code:
                return category
        raise KeyError(code)


def _label(where: str, policy: Mapping[str, Any], key: str, labels: list[str], optional: bool) -> str | None:
    value = policy.get(key)
    if value is None and optional:
        return None
    if value not in labels:
        raise SchemeError(where, f"{key!r} must be one of the grade labels {labels}, got {value!r}")
    return str(value)


def _count(where: str, raw: Mapping[str, Any], key: str, default: int) -> int:
    value = P.non_negative(where, raw, key, float(default))
    if value != int(value) or value < 1:
        raise SchemeError(where, f"parameter {key!r} must be an integer ≥ 1", param=key, problem="count")
    return int(value)


def _grading(where: str, raw: Mapping[str, Any], components: tuple[str, ...]) -> GradingPolicy:
    P.known_keys(where, raw, ["levels", "rounding", "hard_rules", "sanctions", "veto_ceiling",
                              "falsification_grade", "team_caps"])  # fmt: skip
    levels: list[GradeLevel] = []
    for i, level in enumerate(P.sequence(where, raw, "levels")):
        lw = f"{where}.levels[{i}]"
        if not isinstance(level, Mapping):
            raise SchemeError(lw, "must be an object")
        P.known_keys(lw, level, ["label", "ratio", "by_rank"])
        ratio = None if level.get("ratio") is None else P.share(lw, level, "ratio")
        levels.append(GradeLevel(P.text(lw, level, "label"), ratio, P.flag(lw, level, "by_rank", True)))
    labels = [lv.label for lv in levels]
    if len(levels) < 2 or len(set(labels)) != len(labels):
        raise SchemeError(where, "grading needs at least two distinct level labels")
    if sum(1 for lv in levels if lv.ratio is None) != 1:
        raise SchemeError(where, "exactly one grade level must have ratio null (it takes the rest)")
    if sum((lv.ratio for lv in levels if lv.ratio is not None), Fraction(0)) > 1:
        raise SchemeError(where, "grade ratios add up to more than 1")
    rules: list[HardRule] = []
    for i, rule in enumerate(P.sequence(where, raw, "hard_rules")):
        rw = f"{where}.hard_rules[{i}]"
        if not isinstance(rule, Mapping):
            raise SchemeError(rw, "must be an object")
        P.known_keys(rw, rule, ["type", "enabled", "grade", "share", "component", "threshold",
                                "rule_types", "labels", "more_than", "min_count"])  # fmt: skip
        kind = P.choice(rw, rule, "type", HARD_RULES, "")
        if not P.flag(rw, rule, "enabled", True):
            continue
        optional_grade = kind in ("last_place_twice", "top_twice")
        grade = _label(rw, rule, "grade", labels, optional_grade)
        component = P.optional_text(rw, rule, "component")
        if component is not None and component not in components:
            raise SchemeError(rw, f"component {component!r} is not a component of the category")
        share_key = "more_than" if kind == "vote_share" else "share"
        needs_share = kind in ("bottom_share", "vote_share")
        rules.append(HardRule(
            type=kind, grade=grade,
            share=P.share(rw, rule, share_key) if needs_share else Fraction(0),
            component=component,
            threshold=P.non_negative(rw, rule, "threshold", 0.6),
            rule_types=tuple(str(t) for t in P.sequence(rw, rule, "rule_types"))
            or ("completion", "threshold_deduction"),
            labels=tuple(str(t) for t in P.sequence(rw, rule, "labels")),
            min_count=_count(rw, rule, "min_count", 1),
        ))  # fmt: skip
        if kind == "vote_share" and not rules[-1].labels:
            raise SchemeError(rw, "vote_share needs the vote 'labels' it counts")
    sanctions: list[Sanction] = []
    for i, sanction in enumerate(P.sequence(where, raw, "sanctions")):
        sw = f"{where}.sanctions[{i}]"
        if not isinstance(sanction, Mapping):
            raise SchemeError(sw, "must be an object")
        P.known_keys(sw, sanction, ["level", "effect", "grade"])
        effect = P.choice(sw, sanction, "effect", EFFECTS, "")
        grade = None if effect == "no_grade" else _label(sw, sanction, "grade", labels, False)
        sanctions.append(Sanction(P.text(sw, sanction, "level"), effect, grade))
    if len({s.level for s in sanctions}) != len(sanctions):
        raise SchemeError(where, "sanction levels must be distinct")
    caps: dict[str, TeamCap] = {}
    for team_grade, cap in sorted(P.mapping(where, raw, "team_caps").items()):
        cw = f"{where}.team_caps[{team_grade}]"
        if not isinstance(cap, Mapping):
            raise SchemeError(cw, "must be an object")
        P.known_keys(cw, cap, ["member_share", "head_ceiling"])
        caps[str(team_grade)] = TeamCap(
            None if cap.get("member_share") is None else P.share(cw, cap, "member_share"),
            _label(cw, cap, "head_ceiling", labels, True),
        )
    veto = raw.get("veto_ceiling", labels[1])
    return GradingPolicy(
        levels=tuple(levels), rounding=P.choice(where, raw, "rounding", ROUNDINGS, "floor"),
        hard_rules=tuple(rules), sanctions=tuple(sanctions),
        veto_ceiling=_label(where, {"veto_ceiling": veto}, "veto_ceiling", labels, True),
        falsification_grade=_label(where, raw, "falsification_grade", labels, True), team_caps=caps,
    )  # fmt: skip


def _adjustments(where: str, raw: Mapping[str, Any], components: tuple[str, ...]) -> AdjustmentPolicy:
    P.known_keys(where, raw, ["deduction_component", "deduction_cap", "bonus_component", "bonus_cap",
                              "debt_enabled", "debt_rate_per_point", "falsification_enabled"])  # fmt: skip
    for key in ("deduction_component", "bonus_component"):
        code = P.optional_text(where, raw, key)
        if code is not None and code not in components:
            raise SchemeError(where, f"{key} {code!r} is not a component of the category")
    cap_d, cap_b = raw.get("deduction_cap"), raw.get("bonus_cap")
    return AdjustmentPolicy(
        deduction_component=P.optional_text(where, raw, "deduction_component"),
        deduction_cap=None if cap_d is None else P.non_negative(where, raw, "deduction_cap"),
        bonus_component=P.optional_text(where, raw, "bonus_component"),
        bonus_cap=None if cap_b is None else P.non_negative(where, raw, "bonus_cap"),
        debt_enabled=P.flag(where, raw, "debt_enabled", True),
        debt_rate_per_point=P.non_negative(where, raw, "debt_rate_per_point", 0.02),
        falsification_enabled=P.flag(where, raw, "falsification_enabled", True),
    )


def _components(where: str, subject: str, raw: Any, groups: set[str]) -> tuple[Component, ...]:
    if not isinstance(raw, list) or not raw:
        raise SchemeError(where, "'components' must be a non-empty list")
    layers = LAYERS if subject == "official" else ("unit",)
    out: list[Component] = []
    for i, comp in enumerate(raw):
        cw = f"{where}.components[{i}]"
        if not isinstance(comp, Mapping):
            raise SchemeError(cw, "must be an object")
        P.known_keys(
            cw, comp,
            ["code", "source", "weight", "layer_weights", "groups", "items", "team_component", "grade_points"],
        )  # fmt: skip
        code = P.text(cw, comp, "code")
        cw = f"{where}.component {code}"
        allowed = SOURCES if subject == "official" else ("indicators", "ratings", "routine")
        source = P.choice(cw, comp, "source", allowed, "indicators")
        weight = P.non_negative(cw, comp, "weight")
        by_layer = (
            P.weight_map(cw, comp, "layer_weights", positive_total=False) if subject == "official" else {}
        )
        if set(by_layer) - set(LAYERS):
            raise SchemeError(cw, f"layer_weights keys must be among {list(LAYERS)}")
        weights = {layer: by_layer.get(layer, weight) for layer in layers}
        rater_weights = P.weight_map(cw, comp, "groups") if source == "ratings" else {}
        if source == "ratings" and not rater_weights:
            raise SchemeError(cw, "a ratings component needs rater 'groups' with weights")
        if set(rater_weights) - groups:
            raise SchemeError(cw, f"unknown rater group(s) {sorted(set(rater_weights) - groups)}")
        items = P.weight_map(cw, comp, "items") if source == "ratings" else {}
        team_component = P.optional_text(cw, comp, "team_component") if source == "team" else None
        points = P.grade_points(cw, comp.get("grade_points")) if source == "routine" else {}
        out.append(Component(code, source, weights, rater_weights, items, team_component, points))
    codes = [c.code for c in out]
    if len(set(codes)) != len(codes):
        raise SchemeError(where, "component codes must be distinct")
    for layer in layers:
        total = sum(c.weights[layer] for c in out)
        if not math.isclose(total, WEIGHT_TOTAL, rel_tol=0, abs_tol=1e-9):
            suffix = f" for layer {layer!r}" if subject == "official" else ""
            raise SchemeError(where, f"component weights must total {WEIGHT_TOTAL:g}{suffix}, got {total:g}")
    return tuple(out)


def _nodes(where: str, raw: Any, components: tuple[Component, ...], seen: set[str]) -> tuple[Node, ...]:
    if not isinstance(raw, list):
        raise SchemeError(where, "'indicators' must be a list")
    indicator_components = {c.code for c in components if c.source == "indicators"}
    parents: dict[str, str | None] = {}
    rows: dict[str, Mapping[str, Any]] = {}
    for i, node in enumerate(raw):
        if not isinstance(node, Mapping):
            raise SchemeError(f"{where}.indicators[{i}]", "must be an object")
        code = P.text(f"{where}.indicators[{i}]", node, "code")
        nw = f"indicator {code}"
        P.known_keys(nw, node, ["code", "parent", "weight", "component", "rule", "name"])
        if code in seen:
            raise SchemeError(nw, "indicator codes must be unique across the scheme")
        seen.add(code)
        parents[code] = P.optional_text(nw, node, "parent")
        rows[code] = node
    children = {p for p in parents.values() if p is not None}
    out: list[Node] = []
    for code in sorted(rows):
        node, nw = rows[code], f"indicator {code}"
        depth, cursor = 1, parents[code]
        while cursor is not None:
            if cursor not in parents:
                raise SchemeError(nw, f"parent {cursor!r} is not an indicator of the category")
            depth += 1
            if depth > MAX_TREE_DEPTH:
                raise SchemeError(
                    nw, f"the indicator tree is deeper than {MAX_TREE_DEPTH} levels (or has a cycle)"
                )
            cursor = parents[cursor]
        weight = P.non_negative(nw, node, "weight")
        if code in children or (node.get("rule") is None and node.get("component") is None):
            # An inner node, or a framework slot that the entities fill with their declared leaves.
            if node.get("rule") is not None or node.get("component") is not None:
                raise SchemeError(nw, "only leaves carry a rule and a component")
            out.append(Node(code, parents[code], weight, depth, None, None, None, {}))
            continue
        component = P.text(nw, node, "component")
        if component not in indicator_components:
            raise SchemeError(nw, f"component {component!r} is not an indicators component of the category")
        kind, rule = parse_rule(code, node.get("rule"))
        raw_params = node["rule"].get("params", {})
        out.append(Node(code, parents[code], weight, depth, component, kind, rule, dict(raw_params)))
    return tuple(out)


def _zone_weights(where: str, raw: Mapping[str, Any], nodes: tuple[Node, ...]) -> dict[str, dict[str, float]]:
    """Return ``{zone: {framework node: weight}}``: the node weights for entities of that zone."""
    codes = {n.code for n in nodes}
    out: dict[str, dict[str, float]] = {}
    for zone, weights in sorted(raw.items()):
        if not isinstance(zone, str) or not zone:
            raise SchemeError(where, f"zone codes must be non-empty strings, got {zone!r}")
        table = P.weight_map(where, {zone: weights}, zone, positive_total=False)
        unknown = sorted(set(table) - codes)
        if unknown:
            raise SchemeError(f"{where}[{zone}]", f"unknown indicator node(s) {unknown[:5]} of the category")
        out[zone] = table
    return out


def parse_scheme(raw: Mapping[str, Any]) -> Scheme:
    """Validate a scheme dict and return the typed :class:`Scheme`."""
    where = "scheme"
    if not isinstance(raw, Mapping):
        raise SchemeError(where, "must be an object")
    P.known_keys(where, raw, ["score_decimals", "rater_groups", "categories", "name"])
    decimals = raw.get("score_decimals", 2)
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 9:
        raise SchemeError(where, f"'score_decimals' must be an integer in 0..9, got {decimals!r}")
    groups: list[RaterGroup] = []
    for i, group in enumerate(P.sequence(where, raw, "rater_groups")):
        gw = f"scheme.rater_groups[{i}]"
        if not isinstance(group, Mapping):
            raise SchemeError(gw, "must be an object")
        P.known_keys(gw, group, ["code", "trim_share", "trim_min_count", "min_ballots", "name"])
        code = P.text(gw, group, "code")
        gw = f"rater group {code}"
        counts = [P.non_negative(gw, group, key, default) for key, default in
                  (("trim_min_count", 0.0), ("min_ballots", 1.0))]  # fmt: skip
        if any(c != int(c) for c in counts):
            raise SchemeError(gw, "'trim_min_count' and 'min_ballots' must be integers")
        share = P.share(gw, group, "trim_share", 0.0)
        if share >= Fraction(1, 2):
            raise SchemeError(gw, "'trim_share' must be below 1/2")
        groups.append(RaterGroup(code, share, int(counts[0]), max(int(counts[1]), 1)))
    group_codes = {g.code for g in groups}
    if len(group_codes) != len(groups):
        raise SchemeError(where, "rater group codes must be distinct")
    categories: list[Category] = []
    seen: set[str] = set()
    for i, cat in enumerate(P.sequence(where, raw, "categories")):
        if not isinstance(cat, Mapping):
            raise SchemeError(f"scheme.categories[{i}]", "must be an object")
        code = P.text(f"scheme.categories[{i}]", cat, "code")
        cw = f"category {code}"
        P.known_keys(cw, cat, ["code", "name", "subject", "components", "indicators", "missing_indicator",
                               "tie_break", "adjustments", "grading", "zone_weights"])  # fmt: skip
        subject = P.choice(cw, cat, "subject", SUBJECTS, "unit")
        components = _components(cw, subject, cat.get("components"), group_codes)
        codes = tuple(c.code for c in components)
        tie_break = tuple(str(t) for t in P.sequence(cw, cat, "tie_break"))
        if set(tie_break) - set(codes):
            raise SchemeError(
                cw, f"tie_break names unknown component(s) {sorted(set(tie_break) - set(codes))}"
            )
        grading = P.mapping(cw, cat, "grading")
        nodes = _nodes(cw, cat.get("indicators", []), components, seen)
        categories.append(Category(
            code=code, subject=subject, components=components,
            nodes=nodes,
            missing_indicator=P.choice(cw, cat, "missing_indicator", ["zero", "exclude"], "zero"),
            tie_break=tie_break,
            adjustments=_adjustments(f"{cw}.adjustments", P.mapping(cw, cat, "adjustments"), codes),
            grading=_grading(f"{cw}.grading", grading, codes),
            zone_weights=_zone_weights(f"{cw}.zone_weights", P.mapping(cw, cat, "zone_weights"), nodes),
        ))  # fmt: skip
    category_codes = [c.code for c in categories]
    if not categories or len(set(category_codes)) != len(category_codes):
        raise SchemeError(where, "categories must be a non-empty list with distinct codes")
    unit_components = {code for c in categories if c.subject == "unit" for code in c.component_codes()}
    for category in categories:
        for comp in category.components:
            # The team's own category is only known per team; here: it must exist in some unit category.
            if comp.team_component is not None and comp.team_component not in unit_components:
                raise SchemeError(
                    f"category {category.code}.component {comp.code}",
                    f"team_component {comp.team_component!r} is in no unit category",
                )
    return Scheme(decimals, tuple(groups), tuple(categories))
