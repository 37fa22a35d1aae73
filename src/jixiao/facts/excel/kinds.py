"""Per-kind checks against the database, and the set-based writes that follow them.

Each ``check_*`` resolves a parsed sheet's codes through dict lookups (:mod:`lookups`), appends
every problem to ``errors`` and returns a plan: the rows ready to write. ``write_*`` runs inside
the importer's transaction and returns (created, updated).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from jixiao.accounts.models import User
from jixiao.facts.excel.cells import ParsedSheet
from jixiao.facts.excel.lookups import (
    IndicatorIndex,
    IndicatorMiss,
    OfficialRef,
    UnitRef,
    officials_by_code,
    rater_groups,
    units_by_code,
)
from jixiao.facts.excel.specs import EntityType
from jixiao.facts.models import Adjustment, AdjustmentKind, EvaluationScore, IndicatorResult, VoteCount
from jixiao.organisation.excel import persist
from jixiao.organisation.excel.validate import RowError
from jixiao.schemes.models import Cycle

Row = tuple[Any, ...]
BATCH_SIZE = 1_000


@dataclass
class Plan:
    """Rows to write; ``existing`` flags rows that update a stored one (upserts only);
    ``audit`` adds to the import's audit entry (what a kind records beyond the counts)."""

    rows: list[Row] = field(default_factory=list)
    existing: list[bool] = field(default_factory=list)
    audit: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    """Who imports into which cycle; ``lead_unit_id`` limits a lead department's indicators."""

    cycle: Cycle
    actor: User | None
    lead_unit_id: int | None


def _text(values: list[Any]) -> list[str]:
    """Blank optional text is stored as '' (the columns are NOT NULL)."""
    return ["" if v is None else v for v in values]


def report_duplicates(sheet: ParsedSheet, keys: list[Any], column: str, errors: list[RowError]) -> None:
    first: dict[Any, int] = {}
    for i, key in enumerate(keys):
        if key is None:
            continue
        seen = first.setdefault(key, i)
        if seen != i:
            errors.append(sheet.error(i, column, _("与第 %(row)s 行重复") % {"row": sheet.row_numbers[seen]}))


def resolve_units(
    sheet: ParsedSheet, key: str, units: dict[str, UnitRef], errors: list[RowError]
) -> list[UnitRef | None]:
    out = [None if c is None else units.get(c) for c in sheet.values[key]]
    errors.extend(
        sheet.error(i, key, _("单位代码“%(code)s”不存在") % {"code": code})
        for i, (code, ref) in enumerate(zip(sheet.values[key], out, strict=True))
        if code is not None and ref is None
    )
    return out


def _resolve_officials(
    sheet: ParsedSheet, key: str, officials: dict[str, OfficialRef], errors: list[RowError]
) -> list[OfficialRef | None]:
    out = [None if c is None else officials.get(c) for c in sheet.values[key]]
    errors.extend(
        sheet.error(i, key, _("干部工号“%(code)s”不存在") % {"code": code})
        for i, (code, ref) in enumerate(zip(sheet.values[key], out, strict=True))
        if code is not None and ref is None
    )
    return out


@dataclass(frozen=True)
class Entities:
    """The unit and official ids per row (one of them set where the row resolved) and the
    category whose scheme applies to the entity."""

    unit_ids: list[int | None]
    official_ids: list[int | None]
    category_ids: list[int | None]


def _resolve_entities(sheet: ParsedSheet, errors: list[RowError]) -> Entities:
    types, codes = sheet.values["entity_type"], sheet.values["entity"]
    units = units_by_code()
    officials = officials_by_code(
        c for t, c in zip(types, codes, strict=True) if t == EntityType.OFFICIAL and c is not None
    )
    category_of_unit = {u.pk: u.category_id for u in units.values()}
    unit_ids: list[int | None] = []
    official_ids: list[int | None] = []
    category_ids: list[int | None] = []
    unit_missing = _("单位代码“%(code)s”不存在")
    official_missing = _("干部工号“%(code)s”不存在")
    for i, (kind, code) in enumerate(zip(types, codes, strict=True)):
        unit_id = official_id = category_id = None
        if code is not None and kind == EntityType.UNIT:
            unit = units.get(code)
            if unit is None:
                errors.append(sheet.error(i, "entity", unit_missing % {"code": code}))
            else:
                unit_id, category_id = unit.pk, unit.category_id
        elif code is not None and kind == EntityType.OFFICIAL:
            official = officials.get(code)
            if official is None:
                errors.append(sheet.error(i, "entity", official_missing % {"code": code}))
            else:
                official_id, category_id = official.pk, category_of_unit.get(official.unit_id)
        unit_ids.append(unit_id)
        official_ids.append(official_id)
        category_ids.append(category_id)
    return Entities(unit_ids, official_ids, category_ids)


# --------------------------------------------------------------------------------------------
# 指标完成情况: upsert on (indicator, unit).

_RESULT_VALUES = ("value", "grade", "target", "last_year", "evidence")
_RESULT_FIELDS = [
    "cycle_id",
    "value",
    "grade",
    "target",
    "last_year",
    "evidence",
    "entered_by_id",
    "updated_at",
]


def check_results(sheet: ParsedSheet, ctx: Context, errors: list[RowError]) -> Plan:
    v = sheet.values
    index = IndicatorIndex.load(ctx.cycle)
    units = resolve_units(sheet, "unit", units_by_code(), errors)
    not_led = _("您的单位不是指标“%(code)s”的牵头单位，不能导入")
    empty = _("未填写任何完成情况（实际值、等次/是否、目标值、上年值、佐证说明均为空）")
    keys: list[tuple[int, int] | None] = []
    for i, (code, unit) in enumerate(zip(v["indicator"], units, strict=True)):
        keys.append(None)
        if all(v[k][i] is None and (i, k) not in sheet.bad for k in _RESULT_VALUES):
            errors.append(sheet.error(i, "value", empty))
        if code is None:
            continue
        # Without a unit the scheme is unknown: check the code against the whole cycle.
        entity = _("单位“%(code)s”") % {"code": v["unit"][i]}
        found = index.resolve(code, unit.category_id, entity) if unit is not None else None
        if isinstance(found, IndicatorMiss):
            errors.append(sheet.error(i, "unit" if found.category else "indicator", found.message))
        elif found is not None:
            if ctx.lead_unit_id is not None and found.lead_unit_id != ctx.lead_unit_id:
                errors.append(sheet.error(i, "indicator", not_led % {"code": code}))
            elif unit is not None:
                keys[i] = (found.pk, unit.pk)
    report_duplicates(sheet, keys, "indicator", errors)
    if errors:
        return Plan()
    existing_keys = set(
        IndicatorResult.objects.filter(cycle=ctx.cycle, unit__isnull=False).values_list(
            "indicator_id", "unit_id"
        )
    )
    actor_id = ctx.actor.pk if ctx.actor is not None else None
    # persist's fast path writes raw SQL: hand it the value the backend stores for a datetime.
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    plan = Plan()
    for i, key in enumerate(keys):
        assert key is not None
        plan.rows.append(
            (
                *key,
                ctx.cycle.pk,
                v["value"][i],
                v["grade"][i] or "",
                v["target"][i],
                v["last_year"][i],
                v["evidence"][i] or "",
                actor_id,
                now,
            )
        )
        plan.existing.append(key in existing_keys)
    return plan


def write_results(plan: Plan) -> tuple[int, int]:
    persist.upsert(
        IndicatorResult,
        unique=["indicator_id", "unit_id"],
        fields=_RESULT_FIELDS,
        rows=plan.rows,
        existing=plan.existing,
    )
    updated = sum(plan.existing)
    return len(plan.rows) - updated, updated


# --------------------------------------------------------------------------------------------
# 测评得分: insert.

_SCORE_COLUMNS = ["cycle_id", "unit_id", "official_id", "rater_group", "item", "score", "ballots", "source"]


def check_scores(sheet: ParsedSheet, ctx: Context, errors: list[RowError]) -> Plan:
    v = sheet.values
    entities = _resolve_entities(sheet, errors)
    groups = rater_groups(ctx.cycle)
    known = "、".join(sorted(set(groups.values()))) or _("（本周期尚未设置评价主体）")
    group_codes = [None if g is None else groups.get(g) for g in v["rater_group"]]
    message = _("评价主体“%(code)s”不存在，本周期的评价主体为：%(known)s")
    errors.extend(
        sheet.error(i, "rater_group", message % {"code": raw, "known": known})
        for i, (raw, code) in enumerate(zip(v["rater_group"], group_codes, strict=True))
        if raw is not None and code is None
    )
    if errors:
        return Plan()
    cycle_id = ctx.cycle.pk
    rows = list(
        zip(
            [cycle_id] * len(sheet),
            entities.unit_ids,
            entities.official_ids,
            group_codes,
            v["item"],
            v["score"],
            v["ballots"],
            _text(v["source"]),
            strict=True,
        )
    )
    return Plan(rows=rows)


def write_scores(plan: Plan) -> tuple[int, int]:
    persist.insert_rows(EvaluationScore, _SCORE_COLUMNS, plan.rows)
    return len(plan.rows), 0


# --------------------------------------------------------------------------------------------
# 测评票数: upsert on (cycle, official).

_VOTE_FIELDS = ["excellent", "competent", "basic", "incompetent", "source"]


def check_votes(sheet: ParsedSheet, ctx: Context, errors: list[RowError]) -> Plan:
    v = sheet.values
    officials = _resolve_officials(
        sheet, "official", officials_by_code(c for c in v["official"] if c is not None), errors
    )
    report_duplicates(sheet, v["official"], "official", errors)
    if errors:
        return Plan()
    existing = set(VoteCount.objects.filter(cycle=ctx.cycle).values_list("official_id", flat=True))
    plan = Plan()
    for i, official in enumerate(officials):
        assert official is not None
        plan.rows.append(
            (
                ctx.cycle.pk,
                official.pk,
                v["excellent"][i],
                v["competent"][i],
                v["basic"][i],
                v["incompetent"][i],
                v["source"][i] or "",
            )
        )
        plan.existing.append(official.pk in existing)
    return plan


def write_votes(plan: Plan) -> tuple[int, int]:
    persist.upsert(
        VoteCount,
        unique=["cycle_id", "official_id"],
        fields=_VOTE_FIELDS,
        rows=plan.rows,
        existing=plan.existing,
    )
    updated = sum(plan.existing)
    return len(plan.rows) - updated, updated


# --------------------------------------------------------------------------------------------
# 加减分与否决: insert, with the rules of services.adjustment_create.

_NEEDS_POINTS = {AdjustmentKind.DEDUCTION, AdjustmentKind.BONUS, AdjustmentKind.DEBT_OVER_LIMIT}


def check_adjustments(sheet: ParsedSheet, ctx: Context, errors: list[RowError]) -> Plan:
    v = sheet.values
    entities = _resolve_entities(sheet, errors)
    index = IndicatorIndex.load(ctx.cycle)
    indicator_ids: list[int | None] = []
    for i, (kind, code, category) in enumerate(
        zip(v["kind"], v["indicator"], entities.category_ids, strict=True)
    ):
        indicator_ids.append(None)
        # A points cell that is present but not a number is already reported by the parser.
        if kind in _NEEDS_POINTS and v["points"][i] is None and (i, "points") not in sheet.bad:
            errors.append(sheet.error(i, "points", _("扣分、加分和债务率超限须填写分值")))
        if kind == AdjustmentKind.SANCTION and v["sanction"][i] is None:
            errors.append(sheet.error(i, "sanction", _("类型为处分/问责时须填写处分类型")))
        if kind == AdjustmentKind.FALSIFICATION and code is None:
            errors.append(sheet.error(i, "indicator", _("弄虚作假须指明涉及的指标")))
        if code is None or category is None:
            continue
        found = index.resolve(code, category, _("“%(code)s”") % {"code": v["entity"][i]})
        if isinstance(found, IndicatorMiss):
            errors.append(sheet.error(i, "indicator", found.message))
        else:
            indicator_ids[i] = found.pk
    if errors:
        return Plan()
    actor_id = ctx.actor.pk if ctx.actor is not None else None
    rows = list(
        zip(
            entities.unit_ids,
            entities.official_ids,
            v["kind"],
            v["points"],
            _text(v["sanction"]),
            indicator_ids,
            _text(v["component"]),
            v["source"],
            v["reason"],
            strict=True,
        )
    )
    return Plan(rows=[(*row, ctx.cycle.pk, actor_id) for row in rows])


_ADJUSTMENT_NAMES = [
    "unit_id",
    "official_id",
    "kind",
    "points",
    "sanction",
    "indicator_id",
    "component",
    "source",
    "reason",
    "cycle_id",
    "entered_by_id",
]


def write_adjustments(plan: Plan) -> tuple[int, int]:
    # Through the ORM (not persist's raw fast path) so created_at gets its auto_now_add value;
    # adjustments number in the hundreds, not the hundreds of thousands.
    Adjustment.objects.bulk_create(
        [Adjustment(**dict(zip(_ADJUSTMENT_NAMES, row, strict=True))) for row in plan.rows],
        batch_size=BATCH_SIZE,
    )
    return len(plan.rows), 0


Checker = Callable[[ParsedSheet, Context, list[RowError]], Plan]
Writer = Callable[[Plan], tuple[int, int]]
