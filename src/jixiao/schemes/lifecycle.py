"""A cycle's life: 筹备 (draft) → 进行中 (open) → 已结束 (closed), and the lock a closed cycle holds.

Every write that changes a cycle's data (its schemes, components, grading policies, indicators,
rater groups, facts, adjustments, imports, scoring runs, evaluation and survey results) calls
:func:`assert_cycle_editable` first, in the service, so the pages, the Excel imports and the
console commands are refused alike. Only the office moves a cycle between states; closing and
reopening (which needs a reason) are audited. A draft cycle that nothing depends on can be deleted.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import ForeignObjectRel
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, User
from jixiao.schemes.models import (
    Component,
    Cycle,
    CycleStage,
    CycleStatus,
    GradeLevel,
    GradingPolicy,
    GradingRule,
    IndicatorNode,
    RaterGroup,
    Scheme,
)

# A cycle's own content, deleted with it; every other relation to a cycle is a dependant.
_OWNED_RELATIONS = frozenset({"schemes", "rater_groups"})


class CycleLocked(ValidationError):
    """A write into a closed cycle. A ValidationError, so every form and import shows the message."""


def _locked_message(cycle: Cycle) -> str:
    return _("%(year)s 年度考核已结束，数据只读；如需修改请由考核办重新开启") % {"year": cycle.year}


def assert_cycle_editable(cycle: Cycle | int) -> None:
    """Raise :class:`CycleLocked` when the cycle is closed; return None otherwise.

    Reads the status from the database: the instance a caller holds (say ``indicator.scheme.cycle``
    loaded before someone closed the cycle) may be stale."""
    pk = cycle if isinstance(cycle, int) else cycle.pk
    fresh = Cycle.objects.only("year", "status").filter(pk=pk).first()
    if fresh is not None and fresh.status == CycleStatus.CLOSED:
        raise CycleLocked(_locked_message(fresh), code="cycle_locked")


class StageClosed(ValidationError):
    """Raised when the cycle's stage does not allow an action (申报 outside 单位申报 …)."""


def assert_stage(cycle: Cycle | int, allowed: Iterable[str], action: str) -> Cycle:
    """Return the fresh cycle when it is editable and in one of the ``allowed`` stages; raise
    :class:`CycleLocked` when it is closed, :class:`StageClosed` (Chinese message naming the
    action, the current stage and the stages that allow it) otherwise."""
    pk = cycle if isinstance(cycle, int) else cycle.pk
    assert_cycle_editable(pk)
    fresh = Cycle.objects.get(pk=pk)
    allowed = tuple(allowed)
    if fresh.stage not in allowed:
        names = "、".join(str(CycleStage(s).label) for s in allowed)
        raise StageClosed(
            _("%(year)s 年度现处于“%(stage)s”阶段，不能%(action)s（仅在%(allowed)s阶段可以）")
            % {"year": fresh.year, "stage": fresh.get_stage_display(), "action": action, "allowed": names},
            code="stage_closed",
        )
    return fresh


def assert_cycles_editable(cycle_ids: Iterable[int]) -> None:
    """:func:`assert_cycle_editable` for several cycles with one query (closing many events)."""
    closed = Cycle.objects.filter(pk__in=set(cycle_ids), status=CycleStatus.CLOSED).order_by("year").first()
    if closed is not None:
        raise CycleLocked(_locked_message(closed), code="cycle_locked")


def cycle_of(instance: models.Model) -> int | None:
    """The id of the cycle a scheme-side row belongs to (a cycle, scheme, component, grading
    policy, grade level, grading rule, indicator or rater group), or None for anything else."""
    if isinstance(instance, Cycle):
        return instance.pk
    if isinstance(instance, Scheme | RaterGroup):
        return instance.cycle_id
    if isinstance(instance, Component | GradingPolicy | IndicatorNode):
        return Scheme.objects.filter(pk=instance.scheme_id).values_list("cycle_id", flat=True).first()
    if isinstance(instance, GradeLevel | GradingRule):
        return (
            GradingPolicy.objects.filter(pk=instance.policy_id)
            .values_list("scheme__cycle_id", flat=True)
            .first()
        )
    return None


def is_locked(cycle: Cycle | None) -> bool:
    """True when ``cycle`` is closed (pages hide their edit buttons)."""
    return cycle is not None and cycle.status == CycleStatus.CLOSED


def _require_office(actor: User | None) -> None:
    # actor=None is the console, trusted like the office (as in the facts import).
    if actor is not None and not (actor.is_office and actor.can_write):
        raise PermissionDenied


def _move(
    *, actor: User | None, cycle: Cycle, source: CycleStatus, target: CycleStatus, reason: str = ""
) -> Cycle:
    _require_office(actor)
    locked = Cycle.objects.select_for_update().get(pk=cycle.pk)
    if locked.status != source:
        raise ValidationError(
            _("%(cycle)s当前为“%(now)s”，只有“%(need)s”的周期可以这样操作")
            % {
                "cycle": locked.name,
                "now": locked.get_status_display(),
                "need": CycleStatus(source).label,
            }
        )
    locked.status = target
    locked.save(update_fields=["status"])
    changes: dict[str, object] = {"status": [source.value, target.value]}
    if reason:
        changes["reason"] = reason
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=locked, changes=changes)
    cycle.status = target
    return locked


@transaction.atomic
def cycle_open(*, actor: User | None, cycle: Cycle) -> Cycle:
    """Start a draft cycle (筹备 → 进行中), audited; return it."""
    return _move(actor=actor, cycle=cycle, source=CycleStatus.DRAFT, target=CycleStatus.OPEN)


@transaction.atomic
def cycle_close(*, actor: User | None, cycle: Cycle) -> Cycle:
    """End an open cycle (进行中 → 已结束), audited; from then on its data is read-only. Return it."""
    return _move(actor=actor, cycle=cycle, source=CycleStatus.OPEN, target=CycleStatus.CLOSED)


@transaction.atomic
def cycle_reopen(*, actor: User | None, cycle: Cycle, reason: str) -> Cycle:
    """Reopen a closed cycle (已结束 → 进行中) for the stated ``reason``, audited; return it."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("重新开启已结束的考核周期须填写原因"))
    return _move(actor=actor, cycle=cycle, source=CycleStatus.CLOSED, target=CycleStatus.OPEN, reason=reason)


def cycle_dependants(cycle: Cycle) -> list[tuple[str, int]]:
    """What stops ``cycle`` from being deleted: (the dependant's Chinese name, how many rows) for
    every model pointing at the cycle that is not its own content (schemes, rater groups).

    Walks the model relations, so a dependant added by a later app is counted without a change here."""
    found: list[tuple[str, int]] = []
    for relation in Cycle._meta.get_fields(include_hidden=True):
        if not isinstance(relation, ForeignObjectRel) or not relation.one_to_many:
            continue
        if relation.related_name in _OWNED_RELATIONS:
            continue
        model = relation.related_model
        if not isinstance(model, type) or not issubclass(model, models.Model):
            continue
        field_name = relation.field.name
        count = model._default_manager.filter(**{field_name: cycle}).count()
        if count:
            found.append((str(model._meta.verbose_name_plural), count))
    return found


@transaction.atomic
def cycle_delete(*, actor: User | None, cycle: Cycle) -> None:
    """Delete a draft cycle with its schemes, audited. Raises ValidationError (nothing deleted) for
    an open or closed cycle or when runs, facts, evaluations or surveys depend on it."""
    _require_office(actor)
    locked = Cycle.objects.select_for_update().get(pk=cycle.pk)
    if locked.status != CycleStatus.DRAFT:
        raise ValidationError(
            _("只能删除“筹备”中的考核周期，%(cycle)s当前为“%(now)s”")
            % {"cycle": locked.name, "now": locked.get_status_display()}
        )
    dependants = cycle_dependants(locked)
    if dependants:
        listed = "、".join(_("%(what)s %(n)s 条") % {"what": what, "n": n} for what, n in dependants)
        raise ValidationError(
            _("%(cycle)s已有%(listed)s，不能删除") % {"cycle": locked.name, "listed": listed}
        )
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=locked,
        changes={
            "year": locked.year,
            "name": locked.name,
            "schemes": locked.schemes.count(),
            "rater_groups": locked.rater_groups.count(),
        },
    )
    locked.delete()
