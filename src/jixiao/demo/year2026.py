"""Step ``year2026``: the demo prefecture's year in progress — a 2026 cycle in the 过程跟踪 stage.

What it writes (tiny and prefecture scales; the province has :mod:`jixiao.demo.province_tracking`):

- the 2024 and 2025 cycles move to the 年度评价 stage (their annual results stay as they are);
- cycle 2026, open, stage 过程跟踪, with the rater groups and one scheme per category copied
  from 2025 (``copied_from``): components, grading policies and the office's common trees
  (自身建设, 平时实绩 …) whole, and the 年度实绩 tree as the **framework** — its levels 1–2 only;
- four review stages (Golmud's 四级联审): 业务部门 → 考核办 → 分管领导 → 领导小组;
- every unit's 目标申报 with 5–12 declared level-3 targets under framework nodes of 年度实绩
  (names of the sources' level-3 items, a unit of measure, a target drawn from the unit's 2025
  result, a rule of the catalogue with validated parameters, weights summing to 100 per framework
  node, the node's lead department, quarterly milestones); at most 9 of them core (the burden cap);
- versions and decisions: most approved at v1 by all four stages, about one in six sent back once
  by 考核办 with per-indicator comments and approved at v2, a few targets below last year's actual
  flagged ``low_ambition`` and approved with a reason; all published on 31 March; one unit
  (市财政局) has an open change request at 考核办 (status 变更中);
- one 动态任务 assigned on 10 June to the counties, which becomes a dynamic declared target of each
  from 15 June.

Monthly reports, evidence files, lights and weekly logs follow in :mod:`jixiao.demo.year2026_tracking`.
Rows are bulk-inserted with primary keys allocated up front, like every generator step; timestamps
that Django fills itself (``auto_now_add``) are set afterwards to their demo dates.
"""

from __future__ import annotations

import itertools
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import models

from jixiao.accounts.models import User
from jixiao.declarations.models import (
    ChangeRequest,
    ChangeRequestStatus,
    Declaration,
    DeclarationStatus,
    DeclarationVersion,
    DeclaredIndicator,
    DynamicTask,
    IndicatorComment,
    Milestone,
    ReviewDecision,
    ReviewerRole,
    ReviewOutcome,
    ReviewStage,
)
from jixiao.demo import catalog
from jixiao.demo.pipeline import Context
from jixiao.demo.schemes import rule_params, shares
from jixiao.facts.models import IndicatorResult
from jixiao.organisation.models import FunctionZone, Unit
from jixiao.schemes.models import (
    Component,
    Cycle,
    CycleStage,
    CycleStagePlan,
    CycleStatus,
    GradeLevel,
    GradingPolicy,
    GradingRule,
    IndicatorKind,
    IndicatorNode,
    RaterGroup,
    Scheme,
    ZoneWeight,
)
from jixiao.schemes.rule_types import validate_rule_params

YEAR = 2026
SOURCE_YEAR = 2025
#: The demo's "today": reports run January–October, lights are as of this date.
DEMO_TODAY = date(2026, 10, 29)
TZ = ZoneInfo("Asia/Shanghai")
FRAMEWORK_COMPONENT = "annual"  # the component whose tree is the framework units declare under
DECLARED_PER_UNIT = (5, 12)
CORE_CAP = 9  # the burden cap's default (seed 004): the rest are declared as non-core
RETURN_SHARE = 1 / 6
LOW_AMBITION_SHARE = 0.05
PUBLISHED_AT = datetime(2026, 3, 31, 10, 0, tzinfo=TZ)
CHANGE_UNIT_SUFFIX = "市财政局"

#: (order, name, role, demo account that decides) — 四级联审.
REVIEW_STAGES: tuple[tuple[int, str, str, str], ...] = (
    (1, "业务部门审核", ReviewerRole.LEAD_DEPT, "tongji"),
    (2, "考核办审核", ReviewerRole.OFFICE, "kaohe"),
    (3, "分管领导审核", ReviewerRole.LEADER, "lingdao"),
    (4, "领导小组审定", ReviewerRole.OFFICE, "kaohe"),
)
RETURNING_STAGE = 2  # 考核办 sends weak proposals back

# Quarterly schedules (expected % by 3/31, 6/30, 9/30, 12/31): even, front-loaded, back-loaded.
# The quarter ends and a node at the end of October (the demo's current month, so that a target
# short of it shows yellow on 29 October: "within 3 days of a milestone not yet reached").
QUARTER_ENDS = (
    date(YEAR, 3, 31),
    date(YEAR, 6, 30),
    date(YEAR, 9, 30),
    date(YEAR, 10, 31),
    date(YEAR, 12, 31),
)
SCHEDULES = ((25, 50, 75, 83, 100), (30, 55, 80, 87, 100), (15, 40, 70, 80, 100), (20, 45, 75, 83, 100))
QUARTER_NOTES = ("一季度", "二季度", "三季度", "10月底", "全年")


@dataclass(frozen=True)
class _TaskSpec:
    name: str
    description: str
    source: str
    assigned: date
    effective_from: date
    milestones: tuple[tuple[date, int, str], ...]


DYNAMIC_TASK = _TaskSpec(
    name="汛期地质灾害隐患排查与灾后恢复重建",
    description="按省委省政府6月部署，全面排查汛期地质灾害隐患点，落实“一点一策”防治措施，"
    "10月底前完成受灾设施恢复重建主体工程，年底前全部完工并通过验收。",
    source="省委省政府2026年6月防汛救灾工作部署",
    assigned=date(YEAR, 6, 10),
    effective_from=date(YEAR, 6, 15),
    milestones=(
        (date(YEAR, 8, 31), 40, "完成隐患点排查建档"),
        (date(YEAR, 10, 31), 70, "恢复重建主体工程完工"),
        (date(YEAR, 12, 31), 100, "全部完工并通过验收"),
    ),
)
DYNAMIC_CATEGORY = "county"

RETURN_COMMENTS = (
    "目标值低于上年实际完成值，请调高目标或说明理由。",
    "节点安排过于后置，请按季度均衡安排进度。",
    "佐证材料要求不明确，请列明材料名称和出具单位。",
)
RETURN_DECISION = "部分指标目标偏低、节点安排不均衡，请按逐项意见修改后重新报送。"
APPROVE_COMMENTS = ("同意。", "同意，按程序报送。", "审核通过。", "同意上报。")
LOW_AMBITION_REASON = (
    "受重点企业技改停产和市场需求下行影响，经核实同意按略低于上年实绩确定目标，年终评价时予以考虑。"
)
CHANGE_REASON = "受上级财政政策调整影响，申请将地方一般公共预算收入目标调减，其他指标不变。"

EVIDENCE_BY_MEASURE = {
    "money": "统计或财政部门月度报表、项目投资台账",
    "growth": "统计部门月度、季度统计数据",
    "percent": "统计数据、抽样核查记录及说明",
    "percent_low": "主管部门统计数据及核查记录",
    "items": "工作台账、验收文件、现场照片",
    "people": "人员花名册、工作台账",
    "area": "测绘或验收数据、现场照片",
    "days": "办件系统统计截图、工作台账",
    "score": "工作方案、总结报告、相关文件和现场照片",
}


def aware(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """A demo timestamp (Beijing time) on ``day``."""
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


def demo_uuid(rng: random.Random) -> uuid.UUID:
    """A UUID drawn from ``rng`` (deterministic, unlike uuid4)."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def quantize(value: float, measure: catalog.Measure) -> Decimal:
    """A target or value in its measure's precision, inside its bounds."""
    low, high = measure.bounds
    clipped = min(max(value, low), high)
    step = Decimal("1") if measure.integer else Decimal("0.1") if abs(clipped) >= 10 else Decimal("0.01")
    return Decimal(str(clipped)).quantize(step, rounding=ROUND_HALF_UP)


def expected_percent(day: date, start: date, milestones: list[tuple[date, Decimal]]) -> Decimal:
    """Expected progress on ``day``: piecewise linear from 0 at ``start`` through the milestones."""
    points = [(start, Decimal(0)), *sorted(milestones)]
    if day <= start:
        return Decimal(0)
    for (d0, p0), (d1, p1) in itertools.pairwise(points):
        if day <= d1:
            span = (d1 - d0).days or 1
            return (p0 + (p1 - p0) * Decimal((day - d0).days) / Decimal(span)).quantize(Decimal("0.01"))
    return points[-1][1]


# --- the cycle and its framework ------------------------------------------------------------------


def _copy_framework(ctx: Context, source: Cycle, cycle_pk: int) -> None:
    """Copy ``source``'s rater groups and schemes into the new cycle; the framework component's
    tree keeps its levels 1–2 only (units declare below them)."""
    using = ctx.using
    groups = list(RaterGroup.objects.using(using).filter(cycle=source).order_by("order", "pk"))
    ctx.insert(
        RaterGroup,
        [
            RaterGroup(
                id=pk,
                cycle_id=cycle_pk,
                code=g.code,
                name=g.name,
                trim_percent=g.trim_percent,
                trim_min_count=g.trim_min_count,
                min_ballots=g.min_ballots,
                order=g.order,
            )
            for g, pk in zip(
                groups,
                ctx.allocate(RaterGroup, len(groups)),
                strict=True,
            )
        ],
    )
    schemes = list(Scheme.objects.using(using).filter(cycle=source).order_by("category__order", "pk"))
    scheme_map = dict(zip((s.pk for s in schemes), ctx.allocate(Scheme, len(schemes)), strict=True))
    ctx.insert(
        Scheme,
        [
            Scheme(
                id=scheme_map[s.pk],
                cycle_id=cycle_pk,
                category_id=s.category_id,
                name=s.name.replace(str(source.year), str(YEAR)),
                notes=s.notes,
                options=s.options,
                copied_from_id=s.pk,
            )
            for s in schemes
        ],
    )
    components = sorted(
        Component.objects.using(using).filter(scheme__cycle=source),
        key=lambda c: (c.parent_id is not None, c.scheme_id, c.order, c.pk),
    )
    comp_map = dict(zip((c.pk for c in components), ctx.allocate(Component, len(components)), strict=True))
    ctx.insert(
        Component,
        [
            Component(
                id=comp_map[c.pk],
                scheme_id=scheme_map[c.scheme_id],
                parent_id=comp_map[c.parent_id] if c.parent_id else None,
                code=c.code,
                name=c.name,
                weight=c.weight,
                order=c.order,
                subject=c.subject,
                source=c.source,
                layer_weights=c.layer_weights,
                group_weights=c.group_weights,
                item_weights=c.item_weights,
                team_component=c.team_component,
            )
            for c in components
        ],
    )
    policies = list(GradingPolicy.objects.using(using).filter(scheme__cycle=source).order_by("pk"))
    policy_map = dict(zip((p.pk for p in policies), ctx.allocate(GradingPolicy, len(policies)), strict=True))
    ctx.insert(
        GradingPolicy,
        [
            GradingPolicy(
                id=policy_map[p.pk], scheme_id=scheme_map[p.scheme_id], subject=p.subject, options=p.options
            )
            for p in policies
        ],
    )
    ctx.insert(
        GradeLevel,
        [
            GradeLevel(
                policy_id=policy_map[lv.policy_id],
                code=lv.code,
                label=lv.label,
                quota_percent=lv.quota_percent,
                order=lv.order,
            )
            for lv in GradeLevel.objects.using(using).filter(policy__scheme__cycle=source).order_by("pk")
        ],
    )
    ctx.insert(
        GradingRule,
        [
            GradingRule(
                policy_id=policy_map[r.policy_id], rule_type=r.rule_type, enabled=r.enabled, params=r.params
            )
            for r in GradingRule.objects.using(using).filter(policy__scheme__cycle=source).order_by("pk")
        ],
    )
    nodes = [
        n
        for n in IndicatorNode.objects.using(using)
        .filter(scheme__cycle=source)
        .select_related("component")
        .order_by("level", "pk")
        if n.level <= 2 or n.component.code != FRAMEWORK_COMPONENT
    ]
    node_map = dict(zip((n.pk for n in nodes), ctx.allocate(IndicatorNode, len(nodes)), strict=True))
    ctx.insert(
        IndicatorNode,
        [
            IndicatorNode(
                id=node_map[n.pk],
                scheme_id=scheme_map[n.scheme_id],
                parent_id=node_map[n.parent_id] if n.parent_id else None,
                component_id=comp_map[n.component_id],
                level=n.level,
                code=n.code,
                name=n.name,
                weight=n.weight,
                order=n.order,
                kind=n.kind,
                is_long_term=n.is_long_term,
                target_text=n.target_text,
                rule_type=n.rule_type,
                rule_params=n.rule_params,
                lead_unit_id=n.lead_unit_id,
                library_entry_id=n.library_entry_id,
            )
            for n in nodes
        ],
    )
    ctx.id_map("framework_node").update(node_map)  # 2025 node pk → 2026 node pk


# --- what units declare -----------------------------------------------------------------------------


@dataclass
class _Aspect:
    """A framework level-2 node of 2026 with what the 2025 tree had below it."""

    node_pk: int  # 2026 framework node
    name: str
    lead_unit_id: int | None
    long_term: bool
    level3: list[tuple[str, list[int]]]  # 2025 level-3 name and its scored leaves' pks


@dataclass
class _Declared:
    pk: int
    uid: uuid.UUID
    unit_id: int
    aspect: _Aspect
    name: str
    measure: catalog.Measure
    lower: bool
    rule_type: str
    rule_params_: dict[str, Any]
    rule_text: str
    target: Decimal
    last_actual: Decimal | None
    last_target: Decimal | None
    higher: Decimal | None
    weight: Decimal = Decimal(0)
    order: int = 0
    core: bool = True
    low_ambition: bool = False
    schedule: tuple[int, ...] = SCHEDULES[0]
    first_target: Decimal | None = None  # v1's target when the declaration was sent back
    comments: list[str] = field(default_factory=list)

    def target_text(self, target: Decimal | None = None) -> str:
        value = self.target if target is None else target
        verb = "不高于" if self.lower else "达到"
        return f"全年{verb}{value}{self.measure.unit}；{self.rule_text}"


def _aspects(ctx: Context, source: Cycle) -> dict[int, list[_Aspect]]:
    """Per 2026 scheme pk: the framework's level-2 nodes units may declare under (not dynamic)."""
    node_map = ctx.id_map("framework_node")
    scheme_of = dict(
        Scheme.objects.using(ctx.using).filter(cycle__year=YEAR).values_list("copied_from_id", "pk")
    )
    rows = list(
        IndicatorNode.objects.using(ctx.using)
        .filter(scheme__cycle=source, component__code=FRAMEWORK_COMPONENT)
        .order_by("scheme_id", "level", "order", "pk")
        .values_list("pk", "scheme_id", "parent_id", "level", "name", "kind", "is_long_term", "lead_unit_id", "rule_type")
    )  # fmt: skip
    level2: dict[int, _Aspect] = {}
    level3: dict[int, tuple[_Aspect, list[int]]] = {}
    out: dict[int, list[_Aspect]] = {}
    for pk, scheme_id, parent_id, level, name, kind, long_term, lead, rule_type in rows:
        if level == 2 and kind != IndicatorKind.DYNAMIC:
            aspect = _Aspect(node_map[pk], name, lead, long_term, [])
            level2[pk] = aspect
            out.setdefault(scheme_of[scheme_id], []).append(aspect)
        elif level == 3 and parent_id in level2:
            leaves: list[int] = []
            level2[parent_id].level3.append((name, leaves))
            level3[pk] = (level2[parent_id], leaves)
        elif level == 4 and parent_id in level3 and rule_type != "veto":
            level3[parent_id][1].append(pk)
    return {k: [a for a in v if a.level3] for k, v in out.items()}


def _last_year(source: Cycle, using: str) -> dict[tuple[int, int], tuple[float, float]]:
    """(unit, 2025 leaf) → (actual, target) for the 2025 results that have both."""
    rows = (
        IndicatorResult.objects.using(using)
        .filter(cycle=source, unit__isnull=False, value__isnull=False, target__isnull=False)
        .values_list("indicator_id", "unit_id", "value", "target")
    )
    return {
        (unit, leaf): (value, target)
        for leaf, unit, value, target in rows
        if unit is not None and value is not None and target is not None
    }


def _choose_rule(
    rng: random.Random, measure: catalog.Measure, lower: bool
) -> tuple[str, dict[str, Any], str]:
    kinds = ["completion"] * 7 + ["threshold_deduction"] * 2
    if measure.code in ("percent", "score") and not lower:
        kinds.append("steps")
    kind = rng.choice(kinds)
    raw, text = rule_params(rng, kind, lower)
    return kind, validate_rule_params(kind, raw, indicator=kind), text


def _declare(
    ctx: Context,
    rng: random.Random,
    unit_id: int,
    county: bool,
    aspects: list[_Aspect],
    last: dict[tuple[int, int], tuple[float, float]],
) -> list[_Declared]:
    count = rng.randint(*DECLARED_PER_UNIT)
    pool = list(aspects)
    rng.shuffle(pool)
    if county:  # counties always declare the statistics bureau's economic aspects (tongji grades them)
        pool.sort(key=lambda a: a.name not in ("经济总量", "固定资产投资"))
    out: list[_Declared] = []
    for aspect in pool:
        if len(out) >= count:
            break
        take = min(rng.randint(1, 3), count - len(out), len(aspect.level3))
        mine: list[_Declared] = []
        for name, leaves in rng.sample(aspect.level3, take):
            lower = any(word in name for word in catalog.LOWER_IS_BETTER_WORDS)
            measure = catalog.measure_for(name, "completion")
            if measure.code == "score" and rng.random() < 0.5:
                measure = catalog.MEASURES["items"]  # 项: "完成N项" reads better than a score
            kind, params, text = _choose_rule(rng, measure, lower)
            known = next((last[(unit_id, leaf)] for leaf in leaves if (unit_id, leaf) in last), None)
            if known is not None and measure.bounds[0] <= known[0] <= measure.bounds[1]:
                actual, previous = known
            else:
                previous = rng.uniform(*measure.typical)
                actual = previous * rng.uniform(0.9, 1.08)
            growth = rng.uniform(0.92, 0.98) if lower else rng.uniform(1.03, 1.12)
            target = quantize(actual * growth, measure)
            higher = quantize(actual * (0.97 if lower else 1.04), measure) if rng.random() < 0.3 else None
            if higher is not None and ((target < higher) if not lower else (target > higher)):
                target = higher
            mine.append(
                _Declared(
                    pk=0,
                    uid=demo_uuid(rng),
                    unit_id=unit_id,
                    aspect=aspect,
                    name=name,
                    measure=measure,
                    lower=lower,
                    rule_type=kind,
                    rule_params_=params,
                    rule_text=text,
                    target=target,
                    last_actual=quantize(actual, measure),
                    last_target=quantize(previous, measure),
                    higher=higher,
                    schedule=rng.choice(SCHEDULES),
                )
            )
        for item, weight in zip(mine, shares(rng, len(mine)), strict=True):
            item.weight = weight
        out += mine
    for order, item in enumerate(out):
        item.order = order
        item.core = order < CORE_CAP
    return out


def _snapshot(items: list[_Declared], lead_names: dict[int, str], *, first: bool) -> list[dict[str, Any]]:
    """The version's frozen content, in the format of ``declarations.snapshot``."""
    out = []
    for item in items:
        target = item.first_target if first and item.first_target is not None else item.target
        out.append(
            {
                "uid": str(item.uid),
                "under": None,
                "parent_id": item.aspect.node_pk,
                "parent_name": item.aspect.name,
                "level": 3,
                "name": item.name,
                "measure": item.measure.unit,
                "target": str(target),
                "target_text": item.target_text(target),
                "rule_type": item.rule_type,
                "rule_params": item.rule_params_,
                "weight": str(item.weight),
                "lead_department_id": item.aspect.lead_unit_id,
                "lead_department_name": lead_names.get(item.aspect.lead_unit_id or 0, ""),
                "evidence_required": EVIDENCE_BY_MEASURE.get(item.measure.code, ""),
                "kind": IndicatorKind.BASE,
                "is_long_term": item.aspect.long_term,
                "is_core": item.core,
                "library_entry_id": None,
                "last_year_actual": None if item.last_actual is None else str(item.last_actual),
                "last_year_target": None if item.last_target is None else str(item.last_target),
                "higher_target": None if item.higher is None else str(item.higher),
                "effective_from": None,
                "task_id": None,
                "order": item.order,
                "milestones": [
                    {"due": due.isoformat(), "expected_percent": f"{pct}.00", "note": f"{note}完成{pct}%"}
                    for due, pct, note in zip(QUARTER_ENDS, item.schedule, QUARTER_NOTES, strict=True)
                ],
            }
        )
    return out


@dataclass
class _Pending:
    """Rows of the review history whose demo timestamps are set after the insert."""

    versions: list[tuple[DeclarationVersion, datetime]] = field(default_factory=list)
    decisions: list[tuple[ReviewDecision, datetime]] = field(default_factory=list)


def _users(using: str) -> dict[str, User]:
    names = {account for *_, account in REVIEW_STAGES} | {"liaison1", "liaison2", "kaohe"}
    return {u.username: u for u in User.objects.using(using).filter(username__in=names)}


def _stage_reviewer(account: User | None, department: int | None) -> User | None:
    """The demo account that decided a stage for ``department`` (the 业务部门 stage: the lead
    department's account where the demo has one, else no named reviewer)."""
    if department is None or (account is not None and account.unit_id == department):
        return account
    return None


#: The year's six stages as the office planned them (the demo's today, 29 October, is in tracking).
STAGE_PLAN: tuple[tuple[str, date, date], ...] = (
    (CycleStage.FRAMEWORK, date(YEAR, 1, 5), date(YEAR, 1, 31)),
    (CycleStage.DECLARATION, date(YEAR, 2, 1), date(YEAR, 2, 28)),
    (CycleStage.REVIEW, date(YEAR, 3, 1), date(YEAR, 3, 25)),
    (CycleStage.PUBLICATION, date(YEAR, 3, 26), date(YEAR, 3, 31)),
    (CycleStage.TRACKING, date(YEAR, 4, 1), date(YEAR, 12, 31)),
    (CycleStage.EVALUATION, date(YEAR + 1, 1, 4), date(YEAR + 1, 2, 28)),
)
#: 生态保护区: the sustainability aspect weighs this much of the framework (GEP and the
#: environment), taken from economic development (seed 002's zone-specific weights).
ECOLOGICAL_ZONE = "ecological"
ECOLOGICAL_WEIGHT = Decimal("25")
ZONE_FROM, ZONE_TO = "经济发展", "可持续发展"


def _stage_plans(ctx: Context, cycle_pk: int) -> None:
    ctx.insert(
        CycleStagePlan,
        [
            CycleStagePlan(cycle_id=cycle_pk, stage=stage, opens_on=opens, closes_on=closes)
            for stage, opens, closes in STAGE_PLAN
        ],
    )


def _zone_weights(ctx: Context, cycle_pk: int) -> None:
    """In the 生态保护区, the framework's level-1 可持续发展 weighs :data:`ECOLOGICAL_WEIGHT`,
    the difference taken from 经济发展 (both siblings, so the zone's weights still sum to 100)."""
    zone = FunctionZone.objects.using(ctx.using).filter(code=ECOLOGICAL_ZONE).first()
    if zone is None:
        return
    nodes = IndicatorNode.objects.using(ctx.using).filter(
        scheme__cycle_id=cycle_pk, level=1, name__in=(ZONE_FROM, ZONE_TO)
    )
    by_parent: dict[tuple[int, int | None], dict[str, IndicatorNode]] = {}
    for node in nodes:
        by_parent.setdefault((node.scheme_id, node.component_id), {})[node.name] = node
    rows = []
    for pair in by_parent.values():
        if len(pair) != 2:
            continue
        give, take = pair[ZONE_FROM], pair[ZONE_TO]
        moved = ECOLOGICAL_WEIGHT - take.weight
        if moved <= 0 or give.weight - moved < 0:
            continue
        rows += [
            ZoneWeight(node=take, zone=zone, weight=ECOLOGICAL_WEIGHT),
            ZoneWeight(node=give, zone=zone, weight=give.weight - moved),
        ]
    ctx.insert(ZoneWeight, rows)


def run(ctx: Context) -> None:
    if ctx.scale.name == "province":
        return  # the province's tracking data: jixiao.demo.province_tracking
    using = ctx.using
    Cycle.objects.using(using).filter(year__lt=YEAR).update(stage=CycleStage.EVALUATION)
    source = Cycle.objects.using(using).get(year=SOURCE_YEAR)
    cycle_pk = ctx.allocate(Cycle, 1)[0]
    ctx.id_map("cycle")[YEAR] = cycle_pk
    ctx.insert(
        Cycle,
        [
            Cycle(
                id=cycle_pk,
                year=YEAR,
                name=f"{YEAR}年度绩效考核",
                status=CycleStatus.OPEN,
                stage=CycleStage.TRACKING,
            )
        ],
    )
    _copy_framework(ctx, source, cycle_pk)
    _stage_plans(ctx, cycle_pk)
    _zone_weights(ctx, cycle_pk)
    users = _users(using)
    stage_pks = ctx.allocate(ReviewStage, len(REVIEW_STAGES))
    ctx.insert(
        ReviewStage,
        [
            ReviewStage(id=pk, cycle_id=cycle_pk, order=order, name=name, role=role)
            for (order, name, role, _), pk in zip(REVIEW_STAGES, stage_pks, strict=True)
        ],
    )
    stage_by_order = {order: pk for (order, *_), pk in zip(REVIEW_STAGES, stage_pks, strict=True)}
    reviewer = {order: users.get(account) for order, _, _, account in REVIEW_STAGES}

    aspects = _aspects(ctx, source)
    scheme_by_category = dict(
        Scheme.objects.using(using).filter(cycle_id=cycle_pk).values_list("category_id", "pk")
    )
    units = list(
        Unit.objects.using(using)
        .filter(is_active=True)
        .select_related("category")
        .order_by("category__order", "code")
    )
    lead_names = dict(Unit.objects.using(using).values_list("pk", "name"))
    last = _last_year(source, using)
    rng = ctx.rng("year2026:declarations")

    declared: list[_Declared] = []
    per_unit: dict[int, list[_Declared]] = {}
    for unit in units:
        scheme_pk = scheme_by_category.get(unit.category_id)
        if scheme_pk is None or not aspects.get(scheme_pk):
            continue
        items = _declare(ctx, rng, unit.pk, unit.category.code == "county", aspects[scheme_pk], last)
        per_unit[unit.pk] = items
        declared += items
    for item, pk in zip(declared, ctx.allocate(DeclaredIndicator, len(declared)), strict=True):
        item.pk = pk

    # Who was sent back, who set a target too low, who asks for a change now.
    unit_ids = list(per_unit)
    returned = set(rng.sample(unit_ids, max(1, round(len(unit_ids) * RETURN_SHARE))))
    low = set(rng.sample(unit_ids, max(1, round(len(unit_ids) * LOW_AMBITION_SHARE))))
    change_unit = next(
        (u.pk for u in units if u.name.endswith(CHANGE_UNIT_SUFFIX) and u.pk in per_unit), None
    )
    if change_unit is None:
        change_unit = next((u for u in unit_ids if u not in returned), unit_ids[-1])
    returned.discard(change_unit)
    for unit_id in low:
        flagged = next((i for i in per_unit[unit_id] if not i.lower and i.last_actual), None)
        if flagged is not None and flagged.last_actual is not None:
            flagged.target = quantize(float(flagged.last_actual) * 0.96, flagged.measure)
            flagged.low_ambition = True
            flagged.higher = None
    for unit_id in returned:
        candidates = [i for i in per_unit[unit_id] if not i.low_ambition]
        for item in rng.sample(candidates, min(2, len(candidates))):
            item.comments = [rng.choice(RETURN_COMMENTS)]
            if not item.lower and item.last_actual is not None:
                item.first_target = quantize(float(item.last_actual) * 0.97, item.measure)
                item.comments = [RETURN_COMMENTS[0]]

    decl_pks = dict(zip(unit_ids, ctx.allocate(Declaration, len(unit_ids)), strict=True))
    declarations: list[Declaration] = []
    versions: list[DeclarationVersion] = []
    decisions: list[ReviewDecision] = []
    comments: list[IndicatorComment] = []
    pending = _Pending()
    change_requests: list[ChangeRequest] = []
    liaison = users.get("liaison1")
    for n, unit_id in enumerate(unit_ids):
        items = per_unit[unit_id]
        submitted = aware(date(YEAR, 2, 10) + timedelta(days=n % 12), 9 + n % 8)
        numbers = [1, 2] if unit_id in returned else [1]
        leads: list[int | None] = [
            *sorted({i.aspect.lead_unit_id for i in items if i.aspect.lead_unit_id is not None})
        ]
        day = submitted
        for number in numbers:
            version_pk = ctx.allocate(DeclarationVersion, 1)[0]
            first = number == 1 and unit_id in returned
            version = DeclarationVersion(
                id=version_pk,
                declaration_id=decl_pks[unit_id],
                number=number,
                snapshot=_snapshot(items, lead_names, first=first),
                note="按退回意见修改后重新报送" if number == 2 else "",
                submitted_by=liaison if liaison and liaison.unit_id == unit_id else None,
            )
            versions.append(version)
            pending.versions.append((version, day))
            for order in range(1, len(REVIEW_STAGES) + 1):
                day = day + timedelta(days=2, hours=3)
                send_back = first and order == RETURNING_STAGE
                # The 业务部门 stage: every lead department of the unit's targets approves its own.
                deciders = leads if order == 1 and leads else [None]
                for department in deciders:
                    decision_pk = ctx.allocate(ReviewDecision, 1)[0]
                    decision = ReviewDecision(
                        id=decision_pk,
                        version_id=version_pk,
                        stage_id=stage_by_order[order],
                        outcome=ReviewOutcome.RETURN if send_back else ReviewOutcome.APPROVE,
                        comment=RETURN_DECISION if send_back else rng.choice(APPROVE_COMMENTS),
                        reviewer=_stage_reviewer(reviewer[order], department),
                        department_id=department,
                    )
                    decisions.append(decision)
                    pending.decisions.append((decision, day))
                if send_back:
                    comments += [
                        IndicatorComment(decision_id=decision_pk, indicator_uid=item.uid, text=text)
                        for item in items
                        for text in item.comments
                    ]
                    day = day + timedelta(days=5)  # the unit revises and resubmits
                    break
        final = numbers[-1]
        approved = day
        status, stage_pk, version_no = DeclarationStatus.PUBLISHED, None, final
        if unit_id == change_unit:
            change_pk, version_no = ctx.allocate(DeclarationVersion, 1)[0], final + 1
            changed = next((i for i in items if not i.lower), items[0])
            published_target = changed.target
            changed.target = quantize(float(changed.target) * 0.95, changed.measure)
            version = DeclarationVersion(
                id=change_pk,
                declaration_id=decl_pks[unit_id],
                number=version_no,
                snapshot=_snapshot(items, lead_names, first=False),
                note=CHANGE_REASON,
                submitted_by=users.get("liaison2"),
            )
            versions.append(version)
            pending.versions.append((version, aware(date(YEAR, 10, 20), 10)))
            for department in leads or [None]:
                decision_pk = ctx.allocate(ReviewDecision, 1)[0]
                decision = ReviewDecision(
                    id=decision_pk,
                    version_id=change_pk,
                    stage_id=stage_by_order[1],
                    outcome=ReviewOutcome.APPROVE,
                    comment="变更理由属实，同意报考核办审核。",
                    reviewer=_stage_reviewer(reviewer[1], department),
                    department_id=department,
                )
                decisions.append(decision)
                pending.decisions.append((decision, aware(date(YEAR, 10, 22), 15)))
            change_requests.append(
                ChangeRequest(
                    declaration_id=decl_pks[unit_id],
                    reason=f"{CHANGE_REASON}（{changed.name}：{published_target} → {changed.target}{changed.measure.unit}）",
                    status=ChangeRequestStatus.OPEN,
                    from_version=final,
                    requested_by=users.get("liaison2"),
                )
            )
            status, stage_pk = DeclarationStatus.CHANGING, stage_by_order[2]
        declarations.append(
            Declaration(
                id=decl_pks[unit_id],
                cycle_id=cycle_pk,
                unit_id=unit_id,
                status=status,
                stage_id=stage_pk,
                version=version_no,
                published_version=final,
                submitted_at=pending.versions[-1][1],
                approved_at=approved,
                published_at=PUBLISHED_AT,
            )
        )

    ctx.insert(Declaration, declarations)
    ctx.insert(
        DeclaredIndicator,
        [
            DeclaredIndicator(
                id=item.pk,
                declaration_id=decl_pks[item.unit_id],
                uid=item.uid,
                parent_id=item.aspect.node_pk,
                name=item.name,
                measure=item.measure.unit,
                target=item.target,
                target_text=item.target_text(),
                rule_type=item.rule_type,
                rule_params=item.rule_params_,
                weight=item.weight,
                lead_department_id=item.aspect.lead_unit_id,
                evidence_required=EVIDENCE_BY_MEASURE.get(item.measure.code, ""),
                kind=IndicatorKind.BASE,
                is_long_term=item.aspect.long_term,
                is_core=item.core,
                last_year_actual=item.last_actual,
                last_year_target=item.last_target,
                higher_target=item.higher,
                low_ambition=item.low_ambition,
                ambition_reason=LOW_AMBITION_REASON if item.low_ambition else "",
                order=item.order,
            )
            for item in declared
        ],
    )
    ctx.insert(
        Milestone,
        [
            Milestone(indicator_id=item.pk, due=due, expected_percent=Decimal(pct), note=f"{note}完成{pct}%")
            for item in declared
            for due, pct, note in zip(QUARTER_ENDS, item.schedule, QUARTER_NOTES, strict=True)
        ],
    )
    ctx.insert(DeclarationVersion, versions)
    ctx.insert(ReviewDecision, decisions)
    ctx.insert(IndicatorComment, comments)
    ctx.insert(ChangeRequest, change_requests)
    _dynamic_task(ctx, rng, cycle_pk, units, decl_pks, per_unit, users.get("kaohe"))
    _backdate(ctx, pending, change_requests)


def _dynamic_task(
    ctx: Context,
    rng: random.Random,
    cycle_pk: int,
    units: list[Unit],
    decl_pks: dict[int, int],
    per_unit: dict[int, list[_Declared]],
    office: User | None,
) -> None:
    """The task assigned in June: a dynamic declared target of every county from 15 June."""
    using = ctx.using
    parent = (
        IndicatorNode.objects.using(using)
        .filter(
            scheme__cycle_id=cycle_pk,
            scheme__category__code=DYNAMIC_CATEGORY,
            level=2,
            kind=IndicatorKind.DYNAMIC,
        )
        .order_by("order", "pk")
        .first()
    )
    counties = [u for u in units if u.category.code == DYNAMIC_CATEGORY and u.pk in decl_pks]
    if parent is None or not counties:
        return
    spec = DYNAMIC_TASK
    params = validate_rule_params("completion", {"floor": 0.6, "cap": 1.0}, indicator=spec.name)
    task_pk = ctx.allocate(DynamicTask, 1)[0]
    ctx.insert(
        DynamicTask,
        [
            DynamicTask(
                id=task_pk,
                cycle_id=cycle_pk,
                name=spec.name,
                description=spec.description,
                source=spec.source,
                parent_id=parent.pk,
                weight=Decimal(100),
                rule_type="completion",
                rule_params=params,
                target=Decimal(100),
                measure="%",
                effective_from=spec.effective_from,
                due=date(YEAR, 12, 31),
                created_by=office,
            )
        ],
    )
    through = DynamicTask.units.through
    ctx.insert(through, [through(dynamictask_id=task_pk, unit_id=u.pk) for u in counties])
    indicators: list[DeclaredIndicator] = []
    milestones: list[Milestone] = []
    for unit, pk in zip(counties, ctx.allocate(DeclaredIndicator, len(counties)), strict=True):
        indicators.append(
            DeclaredIndicator(
                id=pk,
                declaration_id=decl_pks[unit.pk],
                uid=demo_uuid(rng),
                parent_id=parent.pk,
                name=spec.name,
                measure="%",
                target=Decimal(100),
                target_text="10月底前完成恢复重建主体工程，年底前全部完工并通过验收；按完成进度计分，低于60%不得分",
                rule_type="completion",
                rule_params=params,
                weight=Decimal(100),
                lead_department_id=parent.lead_unit_id,
                evidence_required="隐患点排查台账、重建项目验收文件、现场照片",
                kind=IndicatorKind.DYNAMIC,
                is_core=False,
                effective_from=spec.effective_from,
                task_id=task_pk,
                order=len(per_unit[unit.pk]),
            )
        )
        milestones += [
            Milestone(indicator_id=pk, due=due, expected_percent=Decimal(pct), note=note)
            for due, pct, note in spec.milestones
        ]
    ctx.insert(DeclaredIndicator, indicators)
    ctx.insert(Milestone, milestones)
    DynamicTask.objects.using(using).filter(pk=task_pk).update(created_at=aware(spec.assigned, 16))


def _backdate(ctx: Context, pending: _Pending, change_requests: list[ChangeRequest]) -> None:
    """Give the rows Django stamped with "now" on insert their demo dates."""
    using = ctx.using
    for version, when in pending.versions:
        version.submitted_at = when
    DeclarationVersion.objects.using(using).bulk_update(
        [v for v, _ in pending.versions], ["submitted_at"], batch_size=500
    )
    for decision, when in pending.decisions:
        decision.decided_at = when
    ReviewDecision.objects.using(using).bulk_update(
        [d for d, _ in pending.decisions], ["decided_at"], batch_size=500
    )
    ChangeRequest.objects.using(using).filter(
        declaration_id__in=[c.declaration_id for c in change_requests]
    ).update(requested_at=aware(date(YEAR, 10, 20), 10))
    Declaration.objects.using(using).filter(cycle__year=YEAR).update(updated_at=aware(date(YEAR, 10, 20), 10))


def counts(using: str = "default") -> dict[str, int]:
    """What the step wrote (for docs and tests)."""
    cycle = Cycle.objects.using(using).get(year=YEAR)
    declared: models.QuerySet[DeclaredIndicator] = DeclaredIndicator.objects.using(using).filter(
        declaration__cycle=cycle
    )
    return {
        "declarations": Declaration.objects.using(using).filter(cycle=cycle).count(),
        "declared": declared.count(),
    }
