"""Writes to the engine's input tables: one audited transaction per user action."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record, snapshot
from jixiao.accounts.models import AuditAction, Role, User
from jixiao.facts.models import Adjustment, AdjustmentKind, IndicatorResult
from jixiao.hygiene import NOTE_MAX_LENGTH, clean_text
from jixiao.organisation.models import Official, Unit
from jixiao.schemes.lifecycle import assert_cycle_editable
from jixiao.schemes.models import IndicatorNode


@dataclass(frozen=True)
class ResultEntry:
    """One row of an indicator's entry grid."""

    unit_id: int
    value: float | None
    grade: str
    target: float | None
    last_year: float | None
    evidence: str


def may_enter_results(user: User, indicator: IndicatorNode) -> bool:
    """The office enters any indicator; a lead department enters the indicators it leads."""
    if not user.can_write:
        return False
    if user.is_office:
        return True
    return user.role == Role.LEAD_DEPT and user.unit_id is not None and indicator.lead_unit_id == user.unit_id


@transaction.atomic
def indicator_results_save(*, actor: User, indicator: IndicatorNode, entries: Sequence[ResultEntry]) -> int:
    """Upsert the results of ``indicator`` for the units in ``entries``; return how many changed.

    Raises PermissionDenied when ``actor`` does not own the indicator and ValidationError when a
    unit is outside the indicator's category or the indicator is not a leaf, CycleLocked when
    its cycle is closed.
    """
    if not may_enter_results(actor, indicator):
        raise PermissionDenied
    assert_cycle_editable(indicator.scheme.cycle_id)
    if indicator.children.exists():
        raise ValidationError(_("只能为末级指标录入完成情况"))
    allowed = set(Unit.objects.filter(category_id=indicator.scheme.category_id).values_list("pk", flat=True))
    existing = {r.unit_id: r for r in IndicatorResult.objects.filter(indicator=indicator, unit__isnull=False)}
    changed = 0
    for entry in entries:
        if entry.unit_id not in allowed:
            raise ValidationError(_("单位不属于该方案的类别"))
        evidence = clean_text(entry.evidence, max_length=NOTE_MAX_LENGTH, label=str(_("佐证说明")))
        row = existing.get(entry.unit_id)
        blank = entry.value is None and not entry.grade and entry.target is None and not evidence
        if row is None and blank:
            continue
        if row is None:
            row = IndicatorResult(
                cycle_id=indicator.scheme.cycle_id, indicator=indicator, unit_id=entry.unit_id
            )
            before: dict[str, object] = {}
        else:
            before = snapshot(row, ["value", "grade", "target", "last_year", "evidence"])
        row.value, row.grade, row.target = entry.value, entry.grade, entry.target
        row.last_year, row.evidence, row.entered_by = entry.last_year, evidence, actor
        after = snapshot(row, ["value", "grade", "target", "last_year", "evidence"])
        if after == before:
            continue
        row.save()
        changed += 1
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE if before else AuditAction.CREATE,
            obj=row,
            object_repr=f"{indicator.name} · {row.unit_id}",
            changes={k: [before.get(k), v] for k, v in after.items() if before.get(k) != v},
        )
    return changed


@transaction.atomic
def adjustment_create(
    *,
    actor: User,
    cycle_id: int,
    kind: AdjustmentKind,
    source: str,
    reason: str,
    unit: Unit | None = None,
    official: Official | None = None,
    points: float | None = None,
    sanction: str = "",
    indicator: IndicatorNode | None = None,
    component: str = "",
) -> Adjustment:
    """Record a deduction, bonus, veto, sanction or no-grade reason; return it. Raises
    CycleLocked when the cycle is closed."""
    if not actor.is_office or not actor.can_write:
        raise PermissionDenied
    assert_cycle_editable(cycle_id)
    reason = clean_text(reason, max_length=NOTE_MAX_LENGTH, label=str(_("事由")))
    adjustment = Adjustment(
        cycle_id=cycle_id,
        unit=unit,
        official=official,
        kind=kind,
        points=points,
        sanction=sanction,
        indicator=indicator,
        component=component,
        source=source,
        reason=reason,
        entered_by=actor,
    )
    if (unit is None) == (official is None):
        raise ValidationError(_("请选择一个单位或一名干部"))
    if (
        kind in {AdjustmentKind.DEDUCTION, AdjustmentKind.BONUS, AdjustmentKind.DEBT_OVER_LIMIT}
        and points is None
    ):
        raise ValidationError(_("扣分、加分和债务率超限须填写分值"))
    if kind == AdjustmentKind.SANCTION and not sanction:
        raise ValidationError(_("请选择处分类型"))
    if kind == AdjustmentKind.FALSIFICATION and indicator is None:
        raise ValidationError(_("弄虚作假须指明涉及的指标"))
    adjustment.full_clean()
    adjustment.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=adjustment, changes=snapshot(adjustment))
    return adjustment


@transaction.atomic
def adjustment_delete(*, actor: User, adjustment: Adjustment) -> None:
    """Withdraw an adjustment (audited with its full content). Raises CycleLocked when its cycle
    is closed."""
    if not actor.is_office or not actor.can_write:
        raise PermissionDenied
    assert_cycle_editable(adjustment.cycle_id)
    audit_record(actor=actor, action=AuditAction.DELETE, obj=adjustment, changes=snapshot(adjustment))
    adjustment.delete()
