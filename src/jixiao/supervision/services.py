"""Writes of 督查督办: assign, sign, report, extend, rate. Every write is audited, atomic, refused
on a closed cycle, and tells the people who must act next (once, through the inbox).

Who may do what: the office (督查办) and leaders assign tasks; the lead unit's liaison signs,
reports (with evidence), asks for an extension and reports the task done; a co-unit's liaison
reports its part; the office decides extensions and rates tasks. A rating's deduction is written
as an :class:`Adjustment` of the lead unit whose source is the task's number, so the annual run
deducts it and the breakdown names the task."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jixiao.accounts.audit import audit_record, snapshot
from jixiao.accounts.models import AuditAction, Role, User
from jixiao.accounts.permissions import can_edit_unit
from jixiao.facts.models import AdjustmentKind
from jixiao.facts.services import adjustment_create, adjustment_delete
from jixiao.hygiene import NOTE_MAX_LENGTH, clean_text
from jixiao.notifications.services import notify
from jixiao.organisation.models import Unit
from jixiao.schemes.lifecycle import assert_cycle_editable
from jixiao.schemes.models import Cycle
from jixiao.supervision.models import (
    OPEN_STATUSES,
    TITLE_MAX_LENGTH,
    ExtensionRequest,
    ExtensionStatus,
    Priority,
    RatingLevel,
    SupervisionTask,
    TaskReport,
    TaskSource,
    TaskStatus,
)
from jixiao.tracking.evidence import evidence_store, files_kept_only_on_success
from jixiao.tracking.models import Evidence

# The levels a cycle starts with (the office edits them): outcome, points deducted.
DEFAULT_LEVELS: tuple[tuple[Any, Decimal], ...] = (
    (gettext_lazy("按时办结"), Decimal(0)),
    (gettext_lazy("逾期办结"), Decimal(1)),
    (gettext_lazy("未办结"), Decimal(3)),
)


def may_assign(user: User) -> bool:
    """The office (督查办) and the leaders assign supervision tasks."""
    return user.can_write and (user.is_office or user.role == Role.LEADER)


def _office(actor: User) -> None:
    if not (actor.is_office and actor.can_write):
        raise PermissionDenied


def _liaisons(units: Iterable[Unit | int]) -> list[User]:
    ids = [u if isinstance(u, int) else u.pk for u in units]
    return list(User.objects.filter(role=Role.LIAISON, unit_id__in=ids, is_active=True))


def _office_users() -> list[User]:
    return list(User.objects.filter(role=Role.OFFICE, is_active=True))


def _link(task: SupervisionTask) -> str:
    return reverse("supervision:task_detail", args=[task.pk])


def _tell(users: Iterable[User], task: SupervisionTask, cause: str, title: str, body: str = "") -> None:
    notify(recipients=users, cause=f"supervision:{cause}:{task.pk}", title=title, body=body, link=_link(task))


@transaction.atomic
def rating_levels_ensure(*, cycle: Cycle) -> list[RatingLevel]:
    """The cycle's rating levels, creating the defaults the first time (an office edits them)."""
    levels = list(RatingLevel.objects.filter(cycle=cycle))
    if levels:
        return levels
    return [
        RatingLevel.objects.create(cycle=cycle, label=str(label), deduction=points, order=i)
        for i, (label, points) in enumerate(DEFAULT_LEVELS, start=1)
    ]


@transaction.atomic
def rating_level_save(
    *, actor: User, level: RatingLevel, before: dict[str, Any] | None = None
) -> RatingLevel:
    """Create or change one rating level of a cycle (the office), audited."""
    _office(actor)
    assert_cycle_editable(level.cycle_id)
    level.full_clean()
    level.save()
    changes = (
        snapshot(level)
        if before is None
        else {k: [before.get(k), v] for k, v in snapshot(level).items() if before.get(k) != v}
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if before is None else AuditAction.UPDATE,
        obj=level,
        changes=changes,
    )
    return level


def _next_serial(cycle: Cycle) -> int:
    # Numbers are per cycle (DB2026-0001 …); the cycle row is locked so two clerks never get the
    # same one (the unique constraint would refuse the second anyway).
    Cycle.objects.select_for_update().filter(pk=cycle.pk).first()
    last = SupervisionTask.objects.filter(cycle=cycle).aggregate(n=Max("serial"))["n"]
    return (last or 0) + 1


def task_number(year: int, serial: int) -> str:
    return f"DB{year}-{serial:04d}"


@transaction.atomic
def task_create(
    *,
    actor: User,
    cycle: Cycle,
    title: str,
    lead_unit: Unit,
    deadline: date,
    source: str = TaskSource.OTHER,
    source_detail: str = "",
    content: str = "",
    co_units: Sequence[Unit] = (),
    priority: str = Priority.NORMAL,
    leader: User | None = None,
    parent: SupervisionTask | None = None,
    assigned_on: date | None = None,
) -> SupervisionTask:
    """Put a task on the cycle's list and tell the lead and co-units' liaisons."""
    if not may_assign(actor):
        raise PermissionDenied
    assert_cycle_editable(cycle)
    assigned_on = assigned_on or timezone.localdate()
    if deadline < assigned_on:
        raise ValidationError({"deadline": _("办结时限不能早于交办日期")})
    if lead_unit in co_units:
        raise ValidationError({"co_units": _("牵头单位不必再列为配合单位")})
    if parent is not None and parent.cycle_id != cycle.pk:
        raise ValidationError({"parent": _("上级交办事项须属于同一周期")})
    task = SupervisionTask(
        cycle=cycle,
        serial=(serial := _next_serial(cycle)),
        number=task_number(cycle.year, serial),
        title=clean_text(title, max_length=TITLE_MAX_LENGTH, label=str(_("督查事项"))),
        content=clean_text(content, max_length=NOTE_MAX_LENGTH, label=str(_("工作要求"))),
        source=source,
        source_detail=clean_text(source_detail, max_length=TITLE_MAX_LENGTH, label=str(_("来源说明"))),
        leader=leader if leader is not None else (actor if actor.role == Role.LEADER else None),
        lead_unit=lead_unit,
        parent=parent,
        priority=priority,
        assigned_on=assigned_on,
        deadline=deadline,
        created_by=actor,
    )
    task.full_clean()
    task.save()
    task.co_units.set(co_units)
    rating_levels_ensure(cycle=cycle)  # the office rates it later with the cycle's levels
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=task,
        changes={**snapshot(task), "co_units": sorted(u.pk for u in co_units)},
    )
    _tell(
        _liaisons([lead_unit]),
        task,
        "assigned",
        _("督查交办：%(title)s（%(deadline)s 前办结）")
        % {"title": task.title, "deadline": f"{deadline:%Y-%m-%d}"},
        _("请签收并按时报送进展。"),
    )
    if co_units:
        _tell(
            _liaisons(co_units),
            task,
            "co_assigned",
            _("督查交办（配合）：%(title)s") % {"title": task.title},
            _("牵头单位：%(unit)s") % {"unit": lead_unit.name},
        )
    return task


def _locked(task: SupervisionTask) -> SupervisionTask:
    locked = SupervisionTask.objects.select_for_update().select_related("cycle", "lead_unit").get(pk=task.pk)
    assert_cycle_editable(locked.cycle_id)
    return locked


def _lead_liaison(actor: User, task: SupervisionTask) -> None:
    if actor.is_office or not can_edit_unit(actor, task.lead_unit_id):
        raise PermissionDenied


@transaction.atomic
def task_sign(*, actor: User, task: SupervisionTask) -> SupervisionTask:
    """The lead unit signs for the task (签收); it is then being handled."""
    task = _locked(task)
    _lead_liaison(actor, task)
    if task.status != TaskStatus.ASSIGNED:
        raise ValidationError(_("该事项已签收"))
    task.status = TaskStatus.SIGNED
    task.signed_at = timezone.now()
    task.signed_by = actor
    task.save(update_fields=["status", "signed_at", "signed_by"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=task,
        changes={"status": [TaskStatus.ASSIGNED, task.status]},
    )
    return task


def task_units(task: SupervisionTask) -> set[int]:
    """The units that report on ``task``: its lead unit and co-units."""
    return {task.lead_unit_id, *task.co_units.values_list("pk", flat=True)}


@transaction.atomic
def task_report(
    *,
    actor: User,
    task: SupervisionTask,
    text: str,
    progress: int,
    final: bool = False,
    evidence: Sequence[Evidence] = (),
    uploads: Sequence[UploadedFile[Any]] = (),
) -> TaskReport:
    """Report progress on ``task`` for the actor's unit, with evidence (files already in the
    unit's library and new uploads: all stored or none). ``final`` (lead unit only) reports the
    task done and asks the office to rate it."""
    task = _locked(task)
    unit_id = actor.unit_id
    if (
        actor.is_office
        or unit_id is None
        or unit_id not in task_units(task)
        or not can_edit_unit(actor, unit_id)
    ):
        raise PermissionDenied
    lead = unit_id == task.lead_unit_id
    if task.status not in OPEN_STATUSES:
        raise ValidationError(_("该事项已报结，不能再报送进展"))
    if lead and task.status == TaskStatus.ASSIGNED:
        raise ValidationError(_("请先签收该事项"))
    if final and not lead:
        raise ValidationError(_("只有牵头单位可以申请办结"))
    if not 0 <= progress <= 100:
        raise ValidationError({"progress": _("进度须在 0 到 100 之间")})
    if final and progress < 100:
        raise ValidationError({"progress": _("申请办结时进度应为 100%")})
    if any(e.unit_id != unit_id or e.cycle_id != task.cycle_id for e in evidence):
        raise PermissionDenied
    report = TaskReport(
        task=task,
        unit_id=unit_id,
        text=clean_text(text, max_length=NOTE_MAX_LENGTH, label=str(_("进展情况"))),
        progress=progress,
        final=final,
        reported_by=actor,
    )
    report.full_clean()
    with files_kept_only_on_success() as saved:
        unit = Unit.objects.get(pk=unit_id)
        stored = [
            evidence_store(actor=actor, cycle=task.cycle, unit=unit, upload=u, saved=saved) for u in uploads
        ]
        report.save()
        report.evidence.set([*evidence, *stored])
    changed = ["progress"] if lead else []
    if lead:
        task.progress = progress
    if final:
        task.status = TaskStatus.SUBMITTED
        task.finished_on = timezone.localdate()
        changed += ["status", "finished_on"]
    if changed:
        task.save(update_fields=changed)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=report,
        changes={
            "task": task.pk,
            "progress": progress,
            "final": final,
            "evidence": len(evidence) + len(stored),
        },
    )
    if final:
        _tell(
            _office_users(),
            task,
            "submitted",
            _("督查事项申请办结：%(title)s") % {"title": task.title},
            task.lead_unit.name,
        )
    return report


@transaction.atomic
def extension_request(
    *, actor: User, task: SupervisionTask, reason: str, new_deadline: date
) -> ExtensionRequest:
    """The lead unit asks for a later deadline (one open request at a time)."""
    task = _locked(task)
    _lead_liaison(actor, task)
    if task.status not in OPEN_STATUSES:
        raise ValidationError(_("该事项已报结，不能申请延期"))
    if new_deadline <= task.deadline:
        raise ValidationError({"new_deadline": _("申请的时限应晚于现在的办结时限")})
    if task.extensions.filter(status=ExtensionStatus.PENDING).exists():
        raise ValidationError(_("已有一份延期申请等待审批"))
    request = ExtensionRequest(
        task=task,
        reason=clean_text(reason, max_length=NOTE_MAX_LENGTH, label=str(_("延期理由"))),
        old_deadline=task.deadline,
        new_deadline=new_deadline,
        requested_by=actor,
    )
    request.full_clean()
    request.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=request, changes=snapshot(request))
    _tell(
        _office_users(),
        task,
        f"extension:{request.pk}",
        _("延期申请：%(title)s") % {"title": task.title},
        request.reason,
    )
    return request


@transaction.atomic
def extension_decide(
    *, actor: User, request: ExtensionRequest, approve: bool, comment: str = ""
) -> ExtensionRequest:
    """The office approves (the task's deadline moves) or rejects an extension request."""
    _office(actor)
    request = ExtensionRequest.objects.select_for_update().get(pk=request.pk)
    task = _locked(request.task)
    if request.status != ExtensionStatus.PENDING:
        raise ValidationError(_("该延期申请已审批"))
    request.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED
    request.comment = clean_text(comment, max_length=NOTE_MAX_LENGTH, label=str(_("审批意见")))
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "comment", "decided_by", "decided_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=request,
        changes={"status": [ExtensionStatus.PENDING, request.status]},
    )
    if approve:
        task.deadline = request.new_deadline
        task.save(update_fields=["deadline"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=task,
            changes={"deadline": [str(request.old_deadline), str(task.deadline)]},
        )
    verdict = (
        _("同意延期至 %(d)s") % {"d": f"{request.new_deadline:%Y-%m-%d}"} if approve else _("未同意延期")
    )
    _tell(
        _liaisons([task.lead_unit_id]),
        task,
        f"extension_decided:{request.pk}",
        f"{task.title}：{verdict}",
        request.comment,
    )
    return request


def deduction_reason(task: SupervisionTask, level: RatingLevel) -> str:
    """The sentence kept with a task's deduction (what the breakdown and the fact list show)."""
    return _("督查事项“%(title)s”评定为%(level)s，扣 %(points)s 分") % {
        "title": task.title,
        "level": level.label,
        "points": f"{level.deduction.normalize():f}",
    }


def deduction_source(task: SupervisionTask) -> str:
    return _("督查督办 %(number)s") % {"number": task.number}


@transaction.atomic
def task_rate(
    *, actor: User, task: SupervisionTask, level: RatingLevel, comment: str = ""
) -> SupervisionTask:
    """The office rates a task (审核评定); the level's deduction becomes an adjustment of the lead
    unit with the task as its source. Rating again replaces the earlier rating and its deduction
    (both audited): nothing is counted twice."""
    _office(actor)
    task = _locked(task)
    if level.cycle_id != task.cycle_id:
        raise ValidationError({"rating": _("评定结果须属于该事项的周期")})
    before = {"status": task.status, "rating": task.rating_id}
    if task.adjustment is not None:
        adjustment_delete(actor=actor, adjustment=task.adjustment)
        task.adjustment = None
    if level.deduction > 0:
        task.adjustment = adjustment_create(
            actor=actor,
            cycle_id=task.cycle_id,
            kind=AdjustmentKind.DEDUCTION,
            unit=task.lead_unit,
            points=float(level.deduction),
            source=deduction_source(task),
            reason=deduction_reason(task, level),
        )
    task.rating = level
    task.rating_comment = clean_text(comment, max_length=NOTE_MAX_LENGTH, label=str(_("评定意见")))
    task.rated_at = timezone.now()
    task.rated_by = actor
    task.status = TaskStatus.RATED
    task.save(update_fields=["rating", "rating_comment", "rated_at", "rated_by", "status", "adjustment"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=task,
        changes={"status": [before["status"], task.status], "rating": [before["rating"], level.pk]},
    )
    _tell(
        _liaisons([task.lead_unit_id]),
        task,
        f"rated:{level.pk}",
        _("督查事项已评定：%(title)s — %(level)s") % {"title": task.title, "level": level.label},
        task.rating_comment,
    )
    return task
