"""督查通报: the monthly supervision bulletin of a cycle — tasks by status, the overdue ones named
with their units, the month's finished tasks, the units with the most overdue tasks — made as a
PDF by a background job (WeasyPrint, the CJK font), edited by the office (good practice, problems)
and issued (印发) to every unit. Editing after generation drops the PDF: what is issued is always
what the office last read."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, Role, User
from jixiao.hygiene import NOTE_MAX_LENGTH, clean_text
from jixiao.jobs.models import Job, JobKind
from jixiao.jobs.services import JobOutcome, Progress, job_start
from jixiao.schemes import lifecycle
from jixiao.schemes.models import Cycle
from jixiao.supervision.models import OPEN_STATUSES, SupervisionBulletin, SupervisionTask, TaskStatus

NAMED_OVERDUE = 200  # overdue tasks named in the bulletin; the rest are counted
SLOW_UNITS = 10


def _office(actor: User | None) -> None:
    if actor is None or not (actor.is_office and actor.can_write):
        raise PermissionDenied


def month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


@dataclass(frozen=True)
class Figures:
    """What the bulletin reports for a month (as of its last day, or today within the month)."""

    as_of: date
    by_status: list[tuple[str, int]]
    total: int
    overdue: list[SupervisionTask]
    overdue_count: int
    finished: list[SupervisionTask]
    slow_units: list[dict[str, Any]]


def bulletin_figures(*, cycle: Cycle, month: date) -> Figures:
    """The month's figures: a handful of aggregate queries and two bounded lists."""
    as_of = min(month_end(month), timezone.localdate())
    tasks = SupervisionTask.objects.filter(cycle=cycle, assigned_on__lte=as_of)
    counts = dict(tasks.values_list("status").annotate(n=Count("pk")).order_by())
    by_status = [(str(label), counts.get(value, 0)) for value, label in TaskStatus.choices]
    overdue_q = Q(status__in=OPEN_STATUSES, progress__lt=100, deadline__lt=as_of)
    overdue = tasks.filter(overdue_q).select_related("lead_unit").order_by("deadline", "pk")
    finished = (
        tasks.filter(finished_on__gte=month, finished_on__lte=as_of)
        .select_related("lead_unit", "rating")
        .order_by("finished_on", "pk")
    )
    slow = [
        dict(row)
        for row in (
            tasks.filter(overdue_q)
            .values("lead_unit__name")
            .annotate(n=Count("pk"))
            .order_by("-n", "lead_unit__name")[:SLOW_UNITS]
        )
    ]
    return Figures(
        as_of=as_of,
        by_status=by_status,
        total=sum(counts.values()),
        overdue=list(overdue[:NAMED_OVERDUE]),
        overdue_count=overdue.count(),
        finished=list(finished[:NAMED_OVERDUE]),
        slow_units=slow,
    )


def bulletin_context(*, bulletin: SupervisionBulletin) -> dict[str, Any]:
    return {
        "bulletin": bulletin,
        "cycle": bulletin.cycle,
        "figures": bulletin_figures(cycle=bulletin.cycle, month=bulletin.month),
        "named": NAMED_OVERDUE,
    }


def bulletin_pdf(*, bulletin: SupervisionBulletin) -> bytes:
    from weasyprint import HTML  # heavy import: only when a PDF is made

    html = render_to_string(
        "supervision/bulletin_pdf.html",
        {**bulletin_context(bulletin=bulletin), "generated_at": timezone.localtime()},
    )
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def bulletin_start(*, actor: User, cycle: Cycle, month: date) -> tuple[SupervisionBulletin, Job]:
    """Create (or take) the month's bulletin and queue the job that makes its PDF."""
    _office(actor)
    lifecycle.assert_cycle_editable(cycle)
    month = month.replace(day=1)
    with transaction.atomic():
        bulletin, created = SupervisionBulletin.objects.get_or_create(cycle=cycle, month=month)
        if bulletin.is_published:
            raise ValidationError(_("该月督查通报已印发，不能重新生成"))
        if created:
            audit_record(actor=actor, action=AuditAction.CREATE, obj=bulletin, changes={"month": str(month)})
    job = job_start(
        kind=JobKind.SUPERVISION_BULLETIN, actor=actor, cycle=cycle, params={"bulletin": bulletin.pk}
    )
    return bulletin, job


def bulletin_job(*, job: Job, progress: Progress) -> JobOutcome:
    """The background job: render the PDF and keep it in storage."""
    bulletin = SupervisionBulletin.objects.select_related("cycle").get(pk=int(job.params["bulletin"]))
    progress(20, _("汇总督查事项"))
    pdf = bulletin_pdf(bulletin=bulletin)
    progress(80, _("保存通报文件"))
    with transaction.atomic():
        locked = SupervisionBulletin.objects.select_for_update().get(pk=bulletin.pk)
        if locked.is_published:
            raise ValidationError(_("该月督查通报已印发，不能重新生成"))
        old = locked.file.name
        locked.file.save(f"{uuid.uuid4().hex}.pdf", ContentFile(pdf), save=False)
        locked.generated_at = timezone.now()
        locked.generated_by = job.created_by
        locked.save(update_fields=["file", "generated_at", "generated_by"])
        audit_record(
            actor=job.created_by, action=AuditAction.UPDATE, obj=locked, changes={"generated": len(pdf)}
        )
    if old:
        locked.file.storage.delete(old)
    return JobOutcome(
        _("%(month)s督查通报已生成") % {"month": f"{bulletin.month:%Y-%m}"},
        reverse("supervision:bulletin_detail", args=[bulletin.pk]),
    )


@transaction.atomic
def bulletin_edit(
    *, actor: User, bulletin: SupervisionBulletin, highlights: str, concerns: str
) -> SupervisionBulletin:
    """The office's own words before issuing; the PDF made earlier no longer matches and is dropped."""
    _office(actor)
    lifecycle.assert_cycle_editable(bulletin.cycle_id)
    locked = SupervisionBulletin.objects.select_for_update().get(pk=bulletin.pk)
    if locked.is_published:
        raise ValidationError(_("该月督查通报已印发，不能修改"))
    before = {"highlights": locked.highlights, "concerns": locked.concerns}
    locked.highlights = clean_text(highlights, max_length=NOTE_MAX_LENGTH, label=str(_("工作亮点")))
    locked.concerns = clean_text(concerns, max_length=NOTE_MAX_LENGTH, label=str(_("存在问题及下步要求")))
    old = locked.file.name
    locked.file = ""
    locked.generated_at = None
    locked.save(update_fields=["highlights", "concerns", "file", "generated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=locked,
        changes={k: [before[k], getattr(locked, k)] for k in before if before[k] != getattr(locked, k)},
    )
    if old:
        transaction.on_commit(lambda: locked.file.storage.delete(old))
    return locked


@transaction.atomic
def bulletin_publish(*, actor: User, bulletin: SupervisionBulletin) -> SupervisionBulletin:
    """印发: from now on every appraisal role reads the bulletin."""
    _office(actor)
    lifecycle.assert_cycle_editable(bulletin.cycle_id)
    locked = SupervisionBulletin.objects.select_for_update().select_related("cycle").get(pk=bulletin.pk)
    if not locked.file:
        raise ValidationError(_("请先生成通报文件"))
    if locked.is_published:
        raise ValidationError(_("该月督查通报已印发"))
    locked.published_at, locked.published_by = timezone.now(), actor
    locked.save(update_fields=["published_at", "published_by"])
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=locked, changes={"published_at": str(locked.published_at)}
    )
    return locked


def bulletin_download_record(*, actor: User, bulletin: SupervisionBulletin) -> None:
    audit_record(actor=actor, action=AuditAction.EXPORT, obj=bulletin, changes={"format": "pdf"})


def sees_drafts(user: User) -> bool:
    return user.is_office or user.role == Role.AUDITOR


def visible_bulletins(*, user: User) -> QuerySet[SupervisionBulletin]:
    """Drafts for the office and the auditor; issued bulletins for every appraisal role."""
    bulletins = SupervisionBulletin.objects.select_related("cycle")
    if sees_drafts(user):
        return bulletins
    return bulletins.filter(published_at__isnull=False)
