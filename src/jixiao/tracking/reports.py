"""Monthly progress reports (月度进展) and their grading by the lead department; the tracking policy.

A unit's liaison drafts or submits one report per tracked declared indicator and month: the value
to date, the progress in percent (computed from the value and the target when left empty), a
narrative and evidence (new uploads and files already in the unit's library, re-attached). Reports
are written only while the cycle is in the tracking stage. The indicator's lead department grades
a submitted report (按进度推进 / 进度滞后 / 已完成, with a quality comment); a graded report is
final for the unit. Each write recomputes the unit's lights and is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, User
from jixiao.accounts.permissions import can_edit_unit
from jixiao.declarations.models import DeclaredIndicator
from jixiao.hygiene import NOTE_MAX_LENGTH, OPINION_MAX_LENGTH, clean_text
from jixiao.schemes.lifecycle import assert_cycle_editable, assert_stage
from jixiao.schemes.models import Cycle, CycleStage
from jixiao.tracking.evidence import evidence_store, files_kept_only_on_success
from jixiao.tracking.lights import lights_recompute
from jixiao.tracking.models import Evidence, ProgressGrade, ProgressReport, ReportStatus, TrackingPolicy
from jixiao.tracking.selectors import TRACKED_STATUSES, may_grade

MAX_PROGRESS = Decimal("999.99")  # the column's limit; over-fulfilment beyond it is kept at it


def _cycle_of(indicator: DeclaredIndicator) -> Cycle:
    return Cycle.objects.get(pk=indicator.declaration.cycle_id)


def progress_from(value: Decimal | None, target: Decimal | None) -> Decimal | None:
    """Progress in percent of ``target`` reached by ``value`` (2 decimals, 0 … 999.99), or None
    when either is missing or the target is not positive."""
    if value is None or target is None or target <= 0:
        return None
    percent = (value / target * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return min(max(percent, Decimal(0)), MAX_PROGRESS)


def report_save(
    *,
    actor: User,
    indicator: DeclaredIndicator,
    period: date,
    value_to_date: Decimal | None,
    progress_percent: Decimal | None,
    narrative: str,
    uploads: Sequence[UploadedFile[Any]] = (),
    attach: Sequence[int] = (),
    submit: bool,
    today: date | None = None,
) -> ProgressReport:
    """Save (``submit=False``: a draft) or submit the report on ``indicator`` for the month of
    ``period``; return it. Raises PermissionDenied outside the user's unit, ValidationError (Chinese)
    outside the tracking stage, for a month outside the year or in the future, for a graded report,
    a bad file, or a submission without progress. Nothing is kept when anything fails."""
    declaration = indicator.declaration
    if not can_edit_unit(actor, declaration.unit_id):
        raise PermissionDenied
    cycle = assert_stage(declaration.cycle_id, [CycleStage.TRACKING], _("填报月度进展"))
    if declaration.status not in TRACKED_STATUSES:
        raise ValidationError(_("该单位的目标尚未审核通过，不能填报进展"))
    period = period.replace(day=1)
    today = today or timezone.localdate()
    if period.year != cycle.year:
        raise ValidationError(_("只能填报 %(year)s 年的月度进展") % {"year": cycle.year})
    if period > today.replace(day=1):
        raise ValidationError(_("不能填报尚未到来的月份"))
    narrative = clean_text(narrative, max_length=NOTE_MAX_LENGTH, label=_("进展情况"))
    if progress_percent is None:
        progress_percent = progress_from(value_to_date, indicator.target)
    if progress_percent is not None and not (Decimal(0) <= progress_percent <= MAX_PROGRESS):
        raise ValidationError(_("完成进度应在 0 到 999.99 之间"))
    if submit and progress_percent is None:
        raise ValidationError(_("报送前请填写完成进度，或填写累计完成值（有目标值时自动计算进度）"))
    attach_ids = sorted(set(attach))
    existing = list(Evidence.objects.filter(pk__in=attach_ids, unit_id=declaration.unit_id, cycle=cycle))
    if len(existing) != len(attach_ids):
        raise ValidationError(_("所选佐证材料不属于本单位"))

    with files_kept_only_on_success() as saved, transaction.atomic():
        report, created = ProgressReport.objects.select_for_update().get_or_create(
            indicator=indicator, period=period
        )
        if report.status == ReportStatus.GRADED:
            raise ValidationError(_("该月进展已由牵头部门评定，不能再修改"))
        before = _snapshot(report)
        report.value_to_date = value_to_date
        report.progress_percent = progress_percent
        report.narrative = narrative
        if submit:
            report.status = ReportStatus.SUBMITTED
            report.submitted_by = actor
            report.submitted_at = timezone.now()
        report.save()
        new = [
            evidence_store(actor=actor, cycle=cycle, unit=declaration.unit, upload=u, saved=saved)
            for u in uploads
        ]
        report.evidence.add(*existing, *new)
        after = _snapshot(report)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            obj=report,
            changes={
                **{k: [before.get(k), v] for k, v in after.items() if before.get(k) != v},
                "evidence": [e.pk for e in (*existing, *new)],
            },
        )
        lights_recompute(cycle=cycle, unit_ids=[declaration.unit_id], on=today)
    return report


def _snapshot(report: ProgressReport) -> dict[str, object]:
    return {
        "value_to_date": None if report.value_to_date is None else str(report.value_to_date),
        "progress_percent": None if report.progress_percent is None else str(report.progress_percent),
        "narrative": report.narrative,
        "status": report.status,
        "grade": report.grade,
        "quality_comment": report.quality_comment,
    }


@transaction.atomic
def report_grade(
    *, actor: User, report: ProgressReport, grade: str, quality_comment: str, today: date | None = None
) -> ProgressReport:
    """The lead department's (or the office's) grade of a submitted report; return it. A graded
    report may be graded again (corrected) while the cycle is tracking."""
    indicator = report.indicator
    if not may_grade(actor, indicator):
        raise PermissionDenied
    assert_stage(indicator.declaration.cycle_id, [CycleStage.TRACKING], _("评定月度进展"))
    report = ProgressReport.objects.select_for_update().get(pk=report.pk)
    if report.status == ReportStatus.DRAFT:
        raise ValidationError(_("该月进展尚未报送，不能评定"))
    if grade not in ProgressGrade.values:
        raise ValidationError(_("请选择评定结果"))
    comment = clean_text(quality_comment, max_length=OPINION_MAX_LENGTH, label=_("质量评价"))
    before = _snapshot(report)
    report.grade = grade
    report.quality_comment = comment
    report.status = ReportStatus.GRADED
    report.graded_by = actor
    report.graded_at = timezone.now()
    report.save(update_fields=["grade", "quality_comment", "status", "graded_by", "graded_at"])
    after = _snapshot(report)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=report,
        changes={k: [before.get(k), v] for k, v in after.items() if before.get(k) != v},
    )
    lights_recompute(
        cycle=_cycle_of(indicator), unit_ids=[indicator.declaration.unit_id], on=today or timezone.localdate()
    )
    return report


@transaction.atomic
def policy_save(
    *,
    actor: User,
    cycle: Cycle,
    yellow_days: int,
    red_share: Decimal,
    report_due_day: int,
    interpolation: str,
) -> TrackingPolicy:
    """The office sets a cycle's tracking rules; return the policy. The lights follow by the
    ``tracking_lights`` job (queued after the commit)."""
    if not (actor.is_office and actor.can_write):
        raise PermissionDenied
    assert_cycle_editable(cycle)
    policy, created = TrackingPolicy.objects.select_for_update().get_or_create(cycle=cycle)
    before = {
        "yellow_days": policy.yellow_days,
        "red_share": str(policy.red_share),
        "report_due_day": policy.report_due_day,
        "interpolation": policy.interpolation,
    }
    policy.yellow_days, policy.red_share = yellow_days, red_share
    policy.report_due_day, policy.interpolation = report_due_day, interpolation
    policy.full_clean()
    policy.save()
    after = {
        "yellow_days": policy.yellow_days,
        "red_share": str(policy.red_share),
        "report_due_day": policy.report_due_day,
        "interpolation": policy.interpolation,
    }
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        obj=policy,
        changes={k: [before[k], v] for k, v in after.items() if created or before[k] != v},
    )
    transaction.on_commit(lambda: _queue_lights(actor=actor, cycle=cycle))
    return policy


def _queue_lights(*, actor: User | None, cycle: Cycle) -> None:
    from jixiao.jobs.models import JobKind
    from jixiao.jobs.services import JobBusy, job_start

    # One already queued reads the new policy when it runs.
    with suppress(JobBusy):
        job_start(kind=JobKind.TRACKING_LIGHTS, actor=actor, cycle=cycle)
