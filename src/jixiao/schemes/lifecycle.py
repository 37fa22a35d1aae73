"""A cycle's life: 筹备 (draft) → 进行中 (open) → 已结束 (closed), the lock a closed cycle holds,
and the stages of an open cycle's year (制定框架 → 单位申报 → 目标审核 → 公布目标 → 过程跟踪 → 年度评价).

Every write that changes a cycle's data (its schemes, components, grading policies, indicators,
rater groups, facts, adjustments, imports, scoring runs, evaluation and survey results) calls
:func:`assert_cycle_editable` first, in the service, so the pages, the Excel imports and the
console commands are refused alike. Only the office moves a cycle between states; closing and
reopening (which needs a reason) are audited. A draft cycle that nothing depends on can be deleted.

Opening a cycle puts it in 制定框架; the office moves it one stage forward, or one back with a
reason, each move audited (:func:`cycle_stage_advance`, :func:`cycle_stage_back`), and plans the
stages' dates (:func:`cycle_stage_plan_save`). Stage-restricted actions call :func:`assert_stage`;
the framework (level-1/2 indicators, components, weights, zone weights) calls
:func:`assert_framework_editable`, refused once targets are published unless the cycle is moved
back before 公布目标.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import ForeignObjectRel
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, User
from jixiao.schemes.models import (
    STAGE_ORDER,
    Component,
    Cycle,
    CycleStage,
    CycleStagePlan,
    CycleStatus,
    GradeLevel,
    GradingPolicy,
    GradingRule,
    IndicatorNode,
    RaterGroup,
    Scheme,
)

# A cycle's own content, deleted with it; every other relation to a cycle is a dependant.
_OWNED_RELATIONS = frozenset({"schemes", "rater_groups", "stage_plans"})


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


# While the cycle is in one of these stages the framework may change even after publication
# (the office moved the cycle back to correct it); from 公布目标 on, published targets freeze it.
FRAMEWORK_OPEN_STAGES: tuple[str, ...] = (CycleStage.FRAMEWORK, CycleStage.DECLARATION, CycleStage.REVIEW)

# What each stage allows, shown on the cycle page (docs/architecture.md states the same rules).
STAGE_ALLOWS: dict[str, object] = {
    CycleStage.FRAMEWORK: gettext_lazy(
        "考核办编制各类别的方案框架：考核构成、一二级指标、权重和功能区权重，设置审核环节"
    ),
    CycleStage.DECLARATION: gettext_lazy(
        "各单位绩效员在框架指标下填报本单位的三四级目标并提交；框架仍可调整"
    ),
    CycleStage.REVIEW: gettext_lazy("各审核环节依次审核申报目标：通过、逐项提出意见或退回修改"),
    CycleStage.PUBLICATION: gettext_lazy(
        "考核办公布审核通过的目标；目标公布后框架指标和权重锁定，目标变更须提交变更申请"
    ),
    CycleStage.TRACKING: gettext_lazy("各单位按月报送进展和佐证材料，牵头部门评定；月度排名、季度通报和赛马"),
    CycleStage.EVALUATION: gettext_lazy("录入年度实绩与测评结果，计分、定等次、公示"),
}


def published_targets_exist(cycle: Cycle | int) -> bool:
    """True when any unit's targets of ``cycle`` have been published."""
    pk = cycle if isinstance(cycle, int) else cycle.pk
    # By label: declarations depends on schemes, never the reverse.
    declaration = apps.get_model("declarations", "Declaration")
    return bool(declaration._default_manager.filter(cycle_id=pk, published_version__isnull=False).exists())


def assert_framework_editable(cycle: Cycle | int) -> None:
    """Raise :class:`CycleLocked` for a closed cycle, :class:`StageClosed` when targets have been
    published and the cycle is at 公布目标 or later; return None otherwise."""
    pk = cycle if isinstance(cycle, int) else cycle.pk
    assert_cycle_editable(pk)
    fresh = Cycle.objects.only("year", "stage").filter(pk=pk).first()
    if fresh is None or fresh.stage in FRAMEWORK_OPEN_STAGES or not published_targets_exist(pk):
        return
    raise StageClosed(
        _(
            "%(year)s 年度的目标已公布，框架指标、考核构成和权重不能再修改；"
            "如确需调整，请考核办先将周期退回到“%(stage)s”阶段"
        )
        % {"year": fresh.year, "stage": CycleStage.REVIEW.label},
        code="framework_locked",
    )


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
    """Start a draft cycle (筹备 → 进行中) in its first stage 制定框架, audited; return it."""
    locked = _move(actor=actor, cycle=cycle, source=CycleStatus.DRAFT, target=CycleStatus.OPEN)
    if locked.stage != CycleStage.FRAMEWORK:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=locked,
            changes={"stage": [locked.stage, CycleStage.FRAMEWORK.value]},
        )
        locked.stage = CycleStage.FRAMEWORK
        locked.save(update_fields=["stage"])
    cycle.stage = locked.stage
    return locked


def next_stage(stage: str) -> str | None:
    """The stage after ``stage``, or None after 年度评价."""
    index = STAGE_ORDER.index(stage)
    return STAGE_ORDER[index + 1] if index + 1 < len(STAGE_ORDER) else None


def previous_stage(stage: str) -> str | None:
    """The stage before ``stage``, or None for 制定框架."""
    index = STAGE_ORDER.index(stage)
    return STAGE_ORDER[index - 1] if index > 0 else None


def _stage_move(*, actor: User | None, cycle: Cycle, forward: bool, reason: str) -> Cycle:
    _require_office(actor)
    locked = Cycle.objects.select_for_update().get(pk=cycle.pk)
    if locked.status != CycleStatus.OPEN:
        raise ValidationError(
            _("%(cycle)s当前为“%(now)s”，只有进行中的周期可以调整阶段")
            % {"cycle": locked.name, "now": locked.get_status_display()}
        )
    target = next_stage(locked.stage) if forward else previous_stage(locked.stage)
    if target is None:
        message = _("已是最后一个阶段“%(stage)s”") if forward else _("已是第一个阶段“%(stage)s”")
        raise ValidationError(message % {"stage": locked.get_stage_display()})
    changes: dict[str, object] = {"stage": [locked.stage, target]}
    if reason:
        changes["reason"] = reason
    locked.stage = target
    locked.save(update_fields=["stage"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=locked, changes=changes)
    cycle.stage = target
    return locked


@transaction.atomic
def cycle_stage_advance(*, actor: User | None, cycle: Cycle) -> Cycle:
    """Move an open cycle to its next stage (制定框架 → 单位申报 → …), audited; return it."""
    return _stage_move(actor=actor, cycle=cycle, forward=True, reason="")


@transaction.atomic
def cycle_stage_back(*, actor: User | None, cycle: Cycle, reason: str) -> Cycle:
    """Move an open cycle back one stage for the stated ``reason`` (kept in the audit log);
    return it."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("退回上一阶段须填写原因"))
    return _stage_move(actor=actor, cycle=cycle, forward=False, reason=reason)


@transaction.atomic
def cycle_stage_plan_save(
    *, actor: User | None, cycle: Cycle, dates: Mapping[str, tuple[date | None, date | None]]
) -> list[CycleStagePlan]:
    """Set the planned dates of the cycle's stages (``dates``: stage → (opens_on, closes_on),
    either may be None), audited; return the plans in stage order. Raises ValidationError
    (nothing saved) when a stage ends before it starts or starts before the previous stage."""
    _require_office(actor)
    assert_cycle_editable(cycle)
    problems: list[str] = []
    last_start: tuple[str, date] | None = None
    for stage in STAGE_ORDER:
        opens, closes = dates.get(stage, (None, None))
        label = CycleStage(stage).label
        if opens and closes and closes < opens:
            problems.append(_("“%(stage)s”的结束日期早于开始日期") % {"stage": label})
        if opens and last_start and opens < last_start[1]:
            problems.append(
                _("“%(stage)s”的开始日期早于上一阶段“%(previous)s”的开始日期")
                % {"stage": label, "previous": CycleStage(last_start[0]).label}
            )
        if opens:
            last_start = (stage, opens)
    if problems:
        raise ValidationError(problems)
    existing = {p.stage: p for p in CycleStagePlan.objects.select_for_update().filter(cycle=cycle)}
    changes: dict[str, object] = {}
    plans: list[CycleStagePlan] = []
    for stage in STAGE_ORDER:
        opens, closes = dates.get(stage, (None, None))
        plan = existing.get(stage) or CycleStagePlan(cycle=cycle, stage=stage)
        before = [_iso(plan.opens_on), _iso(plan.closes_on)] if plan.pk else [None, None]
        after = [_iso(opens), _iso(closes)]
        if before != after:
            changes[stage] = [before, after]
            plan.opens_on, plan.closes_on = opens, closes
            plan.save()
        if plan.pk:
            plans.append(plan)
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=cycle, changes={"stage_plan": changes})
    return plans


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


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
