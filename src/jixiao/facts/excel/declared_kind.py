"""申报指标完成情况: the check, the write and the prefilled rows of the declared-values kind.

A row names a unit by its code and one of its declared targets by the code of
:mod:`declared_codes`; the value lands where the entry grid (:mod:`jixiao.facts.declared`) saves
it: an ``IndicatorResult`` with ``declared`` set, upserted on (declared, unit). The rules are the
grid's: only published leaves, the office all of them, a lead department those it leads. Unlike
the grid, a row whose value, grade and evidence are all blank is skipped rather than clearing a
stored value: a template row nobody filled in is not an instruction to erase.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from jixiao.accounts.audit import AUDIT_LIST_MAX
from jixiao.accounts.models import Role, User
from jixiao.declarations.models import DeclaredIndicator
from jixiao.facts.excel.cells import ParsedSheet
from jixiao.facts.excel.declared_codes import DeclaredTarget, declared_targets
from jixiao.facts.excel.kinds import Context, Plan, report_duplicates, resolve_units
from jixiao.facts.excel.lookups import units_by_code
from jixiao.facts.models import IndicatorResult
from jixiao.organisation.excel import persist
from jixiao.organisation.excel.validate import RowError
from jixiao.schemes.models import Cycle

# The values a row carries; a row with none of these filled in is skipped.
_FILLED = ("value", "grade", "evidence")
_STORED = ("value", "grade", "target", "evidence")
_FIELDS = ["cycle_id", "value", "grade", "target", "evidence", "entered_by_id", "updated_at"]
_IN_CHUNK = 900
# The most rows a worksheet takes below its header row.
MAX_TEMPLATE_ROWS = 1_048_575


def _stored(keys: list[tuple[int, int]]) -> dict[tuple[int, int], tuple[Any, ...]]:
    """(declared, unit) → (value, grade, target, evidence) of the stored results among ``keys``."""
    declared_ids = sorted({d for d, _u in keys})
    out: dict[tuple[int, int], tuple[Any, ...]] = {}
    for i in range(0, len(declared_ids), _IN_CHUNK):
        for declared, unit, *values in IndicatorResult.objects.filter(
            declared_id__in=declared_ids[i : i + _IN_CHUNK], unit__isnull=False
        ).values_list("declared_id", "unit_id", *_STORED):
            out[(declared, unit)] = tuple(values)
    return out


def _resolve(
    sheet: ParsedSheet, ctx: Context, errors: list[RowError]
) -> list[tuple[DeclaredTarget, int] | None]:
    """The target and unit pk of each row (``None`` where either is wrong, reported)."""
    v = sheet.values
    units = resolve_units(sheet, "unit", units_by_code(), errors)
    targets = declared_targets(cycle=ctx.cycle, unit_ids=[u.pk for u in units if u is not None])
    declaring = {unit for unit, _code in targets}
    out: list[tuple[DeclaredTarget, int] | None] = []
    for i, (code, unit) in enumerate(zip(v["code"], units, strict=True)):
        out.append(None)
        if code is None or unit is None:
            continue
        who = {"unit": v["unit"][i], "code": code}
        found = targets.get((unit.pk, code))
        if found is None:
            message = (
                _("单位“%(unit)s”的申报中没有编号为“%(code)s”的指标，请使用模板中列出的编号")
                if unit.pk in declaring
                else _("单位“%(unit)s”本周期没有申报指标")
            )
            errors.append(sheet.error(i, "unit" if unit.pk not in declaring else "code", message % who))
        elif not found.published:
            errors.append(
                sheet.error(
                    i, "code", _("单位“%(unit)s”的申报指标“%(code)s”尚未公布，公布后才能导入完成情况") % who
                )
            )
        elif not found.leaf:
            errors.append(
                sheet.error(i, "code", _("申报指标“%(code)s”下设四级指标，请填写其下的四级指标") % who)
            )
        elif ctx.lead_unit_id is not None and found.lead_department_id != ctx.lead_unit_id:
            errors.append(
                sheet.error(i, "code", _("您的单位不是申报指标“%(code)s”的牵头部门，不能导入") % who)
            )
        else:
            grade = v["grade"][i]
            if grade is not None and found.grades and grade not in found.grades:
                errors.append(
                    sheet.error(
                        i,
                        "grade",
                        _("“%(grade)s”不是该指标的等次，可选：%(grades)s")
                        % {"grade": grade, "grades": "、".join(found.grades)},
                    )
                )
            else:
                out[i] = (found, unit.pk)
    return out


def check_declared(sheet: ParsedSheet, ctx: Context, errors: list[RowError]) -> Plan:
    """Resolve every row (reporting each problem); return the changed rows to upsert."""
    v = sheet.values
    resolved = _resolve(sheet, ctx, errors)
    report_duplicates(sheet, [None if r is None else (r[0].pk, r[1]) for r in resolved], "code", errors)
    if errors:
        return Plan()
    keys = [(r[0].pk, r[1]) for r in resolved if r is not None]
    stored = _stored(keys)
    actor_id = ctx.actor.pk if ctx.actor is not None else None
    # persist's fast path writes raw SQL: hand it the value the backend stores for a datetime.
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    plan = Plan()
    blank = unchanged = 0
    changed: list[dict[str, Any]] = []
    for i, r in enumerate(resolved):
        assert r is not None
        if all(v[k][i] is None for k in _FILLED):
            blank += 1
            continue
        key = (r[0].pk, r[1])
        values = (v["value"][i], v["grade"][i] or "", v["target"][i], v["evidence"][i] or "")
        before = stored.get(key)
        if before == values:
            unchanged += 1
            continue
        plan.rows.append((*key, ctx.cycle.pk, *values, actor_id, now))
        plan.existing.append(before is not None)
        if len(changed) < AUDIT_LIST_MAX:
            old = before or (None, "", None, "")
            changed.append(
                {
                    "unit": v["unit"][i],
                    "code": r[0].code,
                    "declared": r[0].pk,
                    **{f: [o, n] for f, o, n in zip(_STORED, old, values, strict=True) if o != n},
                }
            )
    plan.audit = {"blank": blank, "unchanged": unchanged, "changed": changed}
    return plan


def write_declared(plan: Plan) -> tuple[int, int]:
    persist.upsert(
        IndicatorResult,
        unique=["declared_id", "unit_id"],
        fields=_FIELDS,
        rows=plan.rows,
        existing=plan.existing,
    )
    updated = sum(plan.existing)
    return len(plan.rows) - updated, updated


class TemplateTooLarge(Exception):
    """More rows than a worksheet holds: the caller asks for one category or unit instead."""

    def __init__(self, rows: int) -> None:
        super().__init__(rows)
        self.rows = rows


def declared_rows(
    *, user: User, cycle: Cycle, category_id: int | None = None, unit_id: int | None = None
) -> list[tuple[list[Any], tuple[str, ...]]]:
    """The template rows ``user`` may import for ``cycle`` (in the sheet's column order) with the
    grades each row's target accepts: every published declared leaf — all of them for the office,
    those it leads for a lead department, none for anyone else — of one category's or one unit's
    units when given, with the values already stored (the declared target where none is).
    Raises TemplateTooLarge beyond one worksheet."""
    leaves = DeclaredIndicator.objects.filter(
        declaration__cycle=cycle, declaration__published_version__isnull=False, children__isnull=True
    )
    if not (user.is_authenticated and user.can_write):
        return []
    if not user.is_office:
        if user.role != Role.LEAD_DEPT or user.unit_id is None:
            return []
        leaves = leaves.filter(lead_department_id=user.unit_id)
    if category_id is not None:
        leaves = leaves.filter(declaration__unit__category_id=category_id)
    if unit_id is not None:
        leaves = leaves.filter(declaration__unit_id=unit_id)
    count = leaves.count()
    if count > MAX_TEMPLATE_ROWS:
        raise TemplateTooLarge(count)
    items = list(
        leaves.order_by(
            "declaration__unit__category__order",
            "declaration__unit__code",
            "parent__order",
            "order",
            "id",
        ).values_list(
            "pk",
            "declaration__unit_id",
            "declaration__unit__code",
            "declaration__unit__name",
            "parent__name",
            "name",
            "measure",
            "target",
        )
    )
    targets = declared_targets(cycle=cycle, unit_ids={item[1] for item in items})
    by_pk = {t.pk: t for t in targets.values()}
    stored = _stored([(item[0], item[1]) for item in items])
    rows: list[tuple[list[Any], tuple[str, ...]]] = []
    for pk, unit, unit_code, unit_name, node, name, measure, target in items:
        found = by_pk[pk]
        value, grade, stored_target, evidence = stored.get((pk, unit), (None, "", None, ""))
        if (pk, unit) not in stored and target is not None:
            stored_target = float(target)
        rows.append(
            (
                [
                    unit_code,
                    unit_name,
                    found.code,
                    node,
                    name,
                    measure,
                    value,
                    grade,
                    stored_target,
                    evidence,
                ],
                found.grades,
            )
        )
    return rows
