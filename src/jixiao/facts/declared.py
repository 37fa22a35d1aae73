"""Annual values of the units' own declared targets (申报指标): who may enter them, which rows a
user sees, and the audited save. A declared target's value is an ``IndicatorResult`` with
``declared`` set (and no ``indicator``); the engine reads it as the result of leaf ``D<pk>``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record, snapshot
from jixiao.accounts.models import AuditAction, Role, User
from jixiao.declarations.models import Declaration, DeclaredIndicator
from jixiao.facts.models import IndicatorResult
from jixiao.facts.selectors import may_see_entry_grids
from jixiao.hygiene import NOTE_MAX_LENGTH, clean_text
from jixiao.organisation.models import Unit
from jixiao.schemes.lifecycle import assert_cycle_editable
from jixiao.schemes.models import Cycle

_FIELDS = ["value", "grade", "target", "evidence"]


def units_with_published_targets(*, user: User, cycle: Cycle) -> QuerySet[Unit]:
    """Units of ``cycle`` with published targets whose values ``user`` may see: all of them for the
    office, leaders and the auditor; for a lead department those with a target it leads."""
    units = Unit.objects.filter(
        declarations__cycle=cycle, declarations__published_version__isnull=False
    ).select_related("category")
    if not may_see_entry_grids(user):
        return units.none()
    if not (user.is_office or user.role in {Role.AUDITOR, Role.LEADER}):
        if user.unit_id is None:
            return units.none()
        units = units.filter(declarations__indicators__lead_department_id=user.unit_id)
    return units.distinct().order_by("category__order", "code")


def declared_leaves(*, user: User, cycle: Cycle, unit: Unit) -> list[DeclaredIndicator]:
    """The unit's published declared leaves (targets with no level-4 target under them) that
    ``user`` may see, in declaration order, with their framework node."""
    leaves = (
        DeclaredIndicator.objects.filter(
            declaration__cycle=cycle,
            declaration__unit=unit,
            declaration__published_version__isnull=False,
            children__isnull=True,
        )
        .select_related("parent", "lead_department")
        .order_by("parent__order", "order", "id")
    )
    if not may_see_entry_grids(user):
        return []
    if not (user.is_office or user.role in {Role.AUDITOR, Role.LEADER}):
        leaves = leaves.filter(lead_department_id=user.unit_id) if user.unit_id else leaves.none()
    return list(leaves)


def may_enter_declared(user: User, leaf: DeclaredIndicator) -> bool:
    """The office enters every declared target's value; a lead department those it leads."""
    if not user.can_write:
        return False
    if user.is_office:
        return True
    return (
        user.role == Role.LEAD_DEPT and user.unit_id is not None and leaf.lead_department_id == user.unit_id
    )


@dataclass(frozen=True)
class DeclaredEntry:
    declared_id: int
    value: float | None
    grade: str
    target: float | None
    evidence: str


@transaction.atomic
def declared_results_save(*, actor: User, cycle: Cycle, unit: Unit, entries: Sequence[DeclaredEntry]) -> int:
    """Upsert the annual values of ``unit``'s published declared targets; return how many rows
    changed. Raises PermissionDenied for a target ``actor`` may not enter, ValidationError for a
    target that is not the unit's published one, CycleLocked when the cycle is closed."""
    assert_cycle_editable(cycle)
    leaves = {
        d.pk: d
        for d in DeclaredIndicator.objects.filter(
            declaration__in=Declaration.objects.filter(
                cycle=cycle, unit=unit, published_version__isnull=False
            )
        )
    }
    existing = {r.declared_id: r for r in IndicatorResult.objects.filter(declared_id__in=leaves, unit=unit)}
    changed = 0
    for entry in entries:
        leaf = leaves.get(entry.declared_id)
        if leaf is None:
            raise ValidationError(_("该指标不是本单位已公布的申报指标"))
        if not may_enter_declared(actor, leaf):
            raise PermissionDenied
        evidence = clean_text(entry.evidence, max_length=NOTE_MAX_LENGTH, label=str(_("佐证说明")))
        row = existing.get(leaf.pk)
        blank = entry.value is None and not entry.grade and entry.target is None and not evidence
        if row is None and blank:
            continue
        before: dict[str, object] = {} if row is None else snapshot(row, _FIELDS)
        row = row or IndicatorResult(cycle=cycle, declared=leaf, unit=unit)
        row.value, row.grade, row.target, row.evidence = entry.value, entry.grade, entry.target, evidence
        row.entered_by = actor
        after = snapshot(row, _FIELDS)
        if after == before:
            continue
        row.save()
        changed += 1
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE if before else AuditAction.CREATE,
            obj=row,
            object_repr=f"{leaf.name} · {unit.pk}",
            changes={k: [before.get(k), v] for k, v in after.items() if before.get(k) != v},
        )
    return changed


def declared_results(*, unit: Unit, leaves: list[DeclaredIndicator]) -> dict[int, IndicatorResult]:
    """The stored values of ``leaves`` (declared id → result), one query."""
    rows = IndicatorResult.objects.filter(declared_id__in=[d.pk for d in leaves], unit=unit)
    return {r.declared_id: r for r in rows if r.declared_id is not None}
