"""Step ``schemes``: cycles 2024 and 2025 with their rater groups ("1+5+N"), one scheme per category
per cycle, with team and official components, grading policies and four-level indicator trees.

The schemes are computable: ``results.engine_io.scheme_dict`` turns them into a scheme the engine
accepts (team components 平时实绩/年度实绩/自身建设 from indicators and 社会公认度 from ratings;
officials' duty from the team's 年度实绩, portfolio and 德能勤绩廉 from ratings).

Weights are Decimal with two places; each sibling group sums to exactly 100 because the last
sibling takes what rounding left. Every leaf's rule parameters pass the engine's validation before
they are written.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from jixiao.demo import catalog
from jixiao.demo.pipeline import Context
from jixiao.schemes.lifecycle import cycle_close
from jixiao.schemes.models import (
    WEIGHT_TOTAL,
    Component,
    ComponentSource,
    Cycle,
    CycleStatus,
    GradeLevel,
    GradingPolicy,
    GradingRule,
    IndicatorKind,
    IndicatorNode,
    RaterGroup,
    Scheme,
    Subject,
)
from jixiao.schemes.rule_types import INDICATOR_RULES, validate_rule_params

CYCLES = ((2024, CycleStatus.CLOSED), (2025, CycleStatus.OPEN))
CENT = Decimal("0.01")
COMPONENT_LETTER = {"routine": "P", "annual": "A", "self": "S", "public": "G"}
LEAVES_PER_LEVEL3 = (1, 3)
LEVEL3_PER_LEVEL2 = (1, 3)


def shares(rng: random.Random, count: int, total: Decimal = WEIGHT_TOTAL) -> list[Decimal]:
    """Return ``count`` positive two-place weights summing exactly to ``total``."""
    raw = [rng.randint(2, 6) for _ in range(count)]
    out = [(total * r / sum(raw)).quantize(CENT) for r in raw[:-1]]
    return [*out, total - sum(out, Decimal("0"))]


@dataclass
class _Node:
    name: str
    level: int
    weight: Decimal = Decimal("0")
    rule_type: str = ""
    lead: str = ""
    dynamic: bool = False
    long_term: bool = False
    library: str = ""
    lower_is_better: bool = False
    children: list[_Node] = field(default_factory=list)


def _leaf_types(rng: random.Random, component: str, count: int) -> list[str]:
    weights = catalog.RULE_WEIGHTS.get(component, catalog.RULE_WEIGHTS["annual"])
    pool = dict(weights)
    out: list[str] = []
    for _ in range(min(count, len(pool))):
        kinds = sorted(pool)
        kind = rng.choices(kinds, [pool[k] for k in kinds])[0]
        out.append(kind)
        del pool[kind]
    return out


def _tree(rng: random.Random, key: str, category: str, component: str) -> list[_Node]:
    roots: list[_Node] = []
    for name, weight, level2 in catalog.TREES[key]:
        root = _Node(name, 1, Decimal(weight))
        entries = level2 or tuple(
            {"name": aspect, "lead": "", "level3": ()} for aspect in catalog.FUNCTION_WORK.get(category, ())
        )
        for entry in entries:
            node2 = _Node(
                entry["name"],
                2,
                lead=entry.get("lead", ""),
                dynamic=entry.get("dynamic", False),
                long_term=entry.get("long_term", False),
                library=catalog.LIBRARY_LINKS.get(entry["name"], ""),
            )
            level3 = list(entry["level3"]) or [
                entry["name"] + suffix
                for suffix in rng.sample(catalog.GENERIC_LEVEL3, rng.randint(*LEVEL3_PER_LEVEL2))
            ]
            for n3, name3 in enumerate(level3):
                node3 = _Node(name3, 3)
                lower = any(word in name3 for word in catalog.LOWER_IS_BETTER_WORDS)
                for kind in _leaf_types(rng, component, rng.randint(*LEAVES_PER_LEVEL3)):
                    node3.children.append(_Node("", 4, rule_type=kind, lower_is_better=lower))
                if entry.get("veto") and n3 == 0:
                    node3.children.append(_Node("", 4, rule_type="veto"))
                node2.children.append(node3)
            root.children.append(node2)
        roots.append(root)
    return roots


def _leaves(roots: list[_Node]) -> list[tuple[_Node, _Node]]:
    """Return (level-3 parent, leaf) pairs in tree order."""
    return [(n3, n4) for r in roots for n2 in r.children for n3 in n2.children for n4 in n3.children]


def _cover_all_rules(rng: random.Random, roots: list[_Node]) -> None:
    """Make sure every engine rule type appears in the tree (the demo shows them all)."""
    pairs = _leaves(roots)
    present = {leaf.rule_type for _, leaf in pairs}
    for kind in sorted(set(INDICATOR_RULES) - present - {"veto"}):
        candidates = [
            (parent, leaf)
            for parent, leaf in pairs
            if leaf.rule_type not in ("veto", "completion")
            and kind not in {c.rule_type for c in parent.children}
        ]
        if not candidates:
            continue
        _, leaf = rng.choice(candidates)
        leaf.rule_type = kind


def rule_params(rng: random.Random, kind: str, lower_is_better: bool) -> tuple[dict[str, Any], str]:
    """Return parameters for a leaf scored by ``kind`` and the target text that explains them."""
    lib: dict[str, Any] = {"lower_is_better": True} if lower_is_better else {}
    if kind == "completion":
        floor, cap = rng.choice((0.5, 0.6, 0.7)), rng.choice((1.0, 1.1, 1.2))
        return {
            "floor": floor,
            "cap": cap,
            **lib,
        }, f"完成年度目标；完成率低于{floor:.0%}不得分，超额完成按{cap:.0%}封顶"
    if kind == "steps":
        top = rng.choice((90, 95, 100))
        steps = [[top, 1.0], [top - 10, 0.8], [top - 20, 0.6]]
        return {
            "steps": steps,
            "on": "value",
            "below": 0.0,
        }, f"达到{top}得满分，{top - 10}得80%，{top - 20}得60%，以下不得分"
    if kind == "threshold_deduction":
        per_unit = rng.choice((0.02, 0.05, 0.1))
        return {
            "per_unit": per_unit,
            "min_rate": 0.0,
            **lib,
        }, f"达到目标值得满分，每差1个单位扣减{per_unit:.0%}，扣完为止"
    if kind == "bonus_deduction":
        if rng.random() < 0.5:
            return {"base": 1.0, "per_unit": -0.1, "min_rate": 0.0}, "每发生1起问题扣减10%，扣完为止"
        return {
            "base": 0.8,
            "per_unit": 0.05,
            "max_rate": 1.0,
        }, "基础得分80%，每项创新成果或上级表彰加5%，加满为止"
    if kind == "grade_map":
        grades = {"好": 1.0, "较好": 0.85, "一般": 0.7, "较差": 0.5}
        return {"map": grades}, "由牵头单位按好、较好、一般、较差评定等次，分别得100%、85%、70%、50%"
    if kind == "rank_points":
        return {
            "points": [60, 57, 54, 51, 48],
            "floor": 45,
            **lib,
        }, "按同类单位排名计分：第1–5名分别得60、57、54、51、48分，其余45分"
    if kind == "best_proportion":
        return {"cap": 1.0, **lib}, "按与同类单位最优值之比计分"
    if kind == "yoy_improvement":
        base, per_point = rng.choice((0.6, 0.7)), rng.choice((0.03, 0.04, 0.05))
        return (
            {"base": base, "per_point": per_point, "min_rate": 0.0, "max_rate": 1.0, **lib},
            f"与上年持平得{base:.0%}，每提高1个百分点加{per_point:.0%}，退步相应扣减",
        )
    if kind == "vs_average":
        tiers = [[1.1, 1.0], [1.0, 0.9], [0.9, 0.75]]
        return {
            "tiers": tiers,
            "below": 0.6,
            **lib,
        }, "高于平均值10%以上得满分，达到平均值得90%，达到平均值90%得75%，其余得60%"
    if kind == "veto":
        return {"triggered_rate": 0.0}, "发生较大及以上事故或重大问题的，该单位不得评为一等"
    raise ValueError(f"unknown rule type {kind!r}")


def close_finished_cycles() -> list[Cycle]:
    """Close (audited, as the console) the open demo cycles that :data:`CYCLES` lists as closed;
    return them. Called once the demo has scored them."""
    years = [year for year, status in CYCLES if status == CycleStatus.CLOSED]
    cycles = list(Cycle.objects.filter(year__in=years, status=CycleStatus.OPEN))
    return [cycle_close(actor=None, cycle=cycle) for cycle in cycles]


def run(ctx: Context) -> None:
    cycle_pks = ctx.allocate(Cycle, len(CYCLES))
    cycle_ids = ctx.id_map("cycle")
    cycles = []
    for (year, _status), pk in zip(CYCLES, cycle_pks, strict=True):
        cycle_ids[year] = pk
        # Every cycle starts open: the demo fills it (ballots, surveys, scoring runs) through the
        # real services, which a closed cycle refuses; close_finished_cycles() closes it after.
        cycles.append(Cycle(id=pk, year=year, name=f"{year}年度绩效考核", status=CycleStatus.OPEN))
    ctx.insert(Cycle, cycles)
    ctx.insert(
        RaterGroup,
        [
            RaterGroup(
                id=pk,
                cycle_id=cycle_ids[year],
                code=code,
                name=name,
                trim_percent=Decimal(trim),
                trim_min_count=trim_min,
                min_ballots=min_ballots,
                order=order,
            )
            for (year, (code, name, trim, trim_min, min_ballots, order)), pk in zip(
                [(year, g) for year, _ in CYCLES for g in catalog.RATER_GROUPS],
                ctx.allocate(RaterGroup, len(CYCLES) * len(catalog.RATER_GROUPS)),
                strict=True,
            )
        ],
    )

    scheme_ids = ctx.id_map("scheme")
    schemes: list[Scheme] = []
    for year, _ in CYCLES:
        for code, name, _description in catalog.CATEGORIES:
            pk = ctx.allocate(Scheme, 1)[0]
            scheme_ids[(year, code)] = pk
            schemes.append(
                Scheme(
                    id=pk,
                    cycle_id=cycle_ids[year],
                    category_id=ctx.id_map("category")[code],
                    name=f"{year}年度{name}绩效考核方案",
                    notes="演示数据：按湘西州绩效考核办法的结构生成。",
                    copied_from_id=scheme_ids.get((year - 1, code)),
                    options=catalog.SCHEME_OPTIONS,
                )
            )
    ctx.insert(Scheme, schemes)

    components: list[Component] = []
    policies: list[GradingPolicy] = []
    levels: list[GradeLevel] = []
    rules: list[GradingRule] = []
    nodes: list[IndicatorNode] = []
    for (year, code), scheme_pk in scheme_ids.items():
        rng = ctx.rng(f"schemes:{year}:{code}")
        shape = catalog.SCHEME_SHAPES[catalog.SHAPE_BY_CATEGORY.get(code, catalog.DEFAULT_SHAPE)]
        for order, (comp_code, comp_name, weight, subs, tree_key) in enumerate(shape, start=1):
            comp_pk = ctx.allocate(Component, 1)[0]
            groups, items = catalog.COMPONENT_RATINGS.get(comp_code, ({}, {}))
            components.append(
                Component(
                    id=comp_pk,
                    scheme_id=scheme_pk,
                    code=comp_code,
                    name=comp_name,
                    weight=Decimal(weight),
                    order=order,
                    source=ComponentSource.RATINGS if groups else ComponentSource.INDICATORS,
                    group_weights=dict(groups),
                    item_weights=dict(items),
                )
            )
            for sub_order, (sub_code, sub_name, sub_weight) in enumerate(subs, start=1):
                components.append(
                    Component(
                        id=ctx.allocate(Component, 1)[0],
                        scheme_id=scheme_pk,
                        parent_id=comp_pk,
                        code=f"{comp_code}-{sub_code}",
                        name=sub_name,
                        weight=Decimal(sub_weight),
                        order=sub_order,
                    )
                )
            if tree_key:
                roots = _tree(rng, tree_key, code, comp_code)
                _cover_all_rules(rng, roots)
                nodes += _indicator_rows(
                    ctx, rng, roots, scheme_pk, comp_pk, COMPONENT_LETTER.get(comp_code, "X")
                )
        components += _official_components(ctx, scheme_pk, order=len(shape))
        for subject, level_defs in (
            (Subject.TEAM, catalog.TEAM_LEVELS),
            (Subject.OFFICIAL, catalog.OFFICIAL_LEVELS),
        ):
            policy_pk = ctx.allocate(GradingPolicy, 1)[0]
            policies.append(
                GradingPolicy(
                    id=policy_pk,
                    scheme_id=scheme_pk,
                    subject=subject,
                    options=catalog.POLICY_OPTIONS[subject],
                )
            )
            for order, (level_code, label, quota) in enumerate(level_defs, start=1):
                levels.append(
                    GradeLevel(
                        policy_id=policy_pk,
                        code=level_code,
                        label=label,
                        quota_percent=None if quota is None else Decimal(quota),
                        order=order,
                    )
                )
            for rule_type, enabled, params in catalog.GRADING_RULES[subject]:
                rules.append(
                    GradingRule(policy_id=policy_pk, rule_type=rule_type, enabled=enabled, params=params)
                )
    ctx.insert(Component, components)
    ctx.insert(GradingPolicy, policies)
    ctx.insert(GradeLevel, levels)
    ctx.insert(GradingRule, rules)
    ctx.insert(IndicatorNode, nodes)


def _official_components(ctx: Context, scheme_pk: int, order: int) -> list[Component]:
    """The officials' components: duty (the team's 年度实绩), portfolio and 德能勤绩廉, by layer."""
    rows: list[Component] = []
    for n, (code, name, source, layers, groups, items, team_component) in enumerate(
        catalog.OFFICIAL_COMPONENTS, start=order + 1
    ):
        rows.append(
            Component(
                id=ctx.allocate(Component, 1)[0],
                scheme_id=scheme_pk,
                code=code,
                name=name,
                weight=Decimal(layers["member"]),
                order=n,
                subject=Subject.OFFICIAL,
                source=source,
                layer_weights=dict(layers),
                group_weights=dict(groups),
                item_weights=dict(items),
                team_component=team_component,
            )
        )
    return rows


def _indicator_rows(
    ctx: Context, rng: random.Random, roots: list[_Node], scheme_pk: int, comp_pk: int, letter: str
) -> list[IndicatorNode]:
    lead_ids = ctx.id_map("lead")
    library_ids = ctx.id_map("library")
    rows: list[IndicatorNode] = []

    def emit(node: _Node, parent: int | None, path: tuple[int, ...], inherited: _Node | None) -> None:
        scope = inherited or (node if node.level == 2 else None)
        pk = ctx.allocate(IndicatorNode, 1)[0]
        params: dict[str, Any] = {}
        target = ""
        if node.rule_type:
            raw, target = rule_params(rng, node.rule_type, node.lower_is_better)
            params = validate_rule_params(node.rule_type, raw, indicator=node.name)
            if node.rule_type != "grade_map":  # a grade label has no unit
                target += f"（计量单位：{catalog.measure_for(node.name, node.rule_type).unit}）"
        rows.append(
            IndicatorNode(
                id=pk,
                scheme_id=scheme_pk,
                parent_id=parent,
                component_id=comp_pk,
                level=node.level,
                code=f"{letter}{'.'.join(str(p) for p in path)}"[:32],
                name=node.name[:200],
                weight=node.weight,
                order=path[-1],
                kind=IndicatorKind.DYNAMIC if scope and scope.dynamic else IndicatorKind.BASE,
                is_long_term=bool(scope and scope.long_term),
                target_text=target,
                rule_type=node.rule_type,
                rule_params=params,
                lead_unit_id=lead_ids.get(scope.lead) if scope and scope.lead else None,
                library_entry_id=library_ids.get(scope.library)
                if scope and scope.library and node.level == 4
                else None,
            )
        )
        _weigh(rng, node)
        for i, child in enumerate(node.children, start=1):
            if child.level == 4 and not child.name:
                suffixes = catalog.RULE_SUFFIX[child.rule_type]
                child.name = node.name + rng.choice(suffixes)
            emit(child, pk, (*path, i), scope)

    for i, root in enumerate(roots, start=1):
        emit(root, None, (i,), None)
    return rows


def _weigh(rng: random.Random, node: _Node) -> None:
    """Give ``node``'s children weights summing to 100; a veto leaf scores nothing and weighs 0."""
    scored = [c for c in node.children if c.rule_type != "veto"]
    if not scored:
        return
    for child, weight in zip(scored, shares(rng, len(scored)), strict=True):
        child.weight = weight
