"""季度通报: the quarter's bulletin, a page and a PDF (WeasyPrint, Noto Sans CJK SC) kept through
Django's storage API under a random name and served only by an authorised, audited view.

Per category it shows the quarter's ranking (the race's ranking, :mod:`jixiao.tracking.race`),
the summary of the units' lights (tracking.UnitLight) and the race's bottom units with the state
of their explanations. The office generates it as a background job and then issues (印发) it;
from then on everyone with an appraisal role reads it (a bulletin is circulated to all units).
Before that only the office and the auditor see it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, QuerySet, Sum
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, Role, User
from jixiao.jobs.models import Job, JobKind
from jixiao.jobs.services import JobOutcome, Progress, job_start
from jixiao.organisation.models import UnitCategory
from jixiao.schemes import lifecycle
from jixiao.schemes.models import Cycle
from jixiao.tracking.models import (
    Bulletin,
    MonthlyRankingRow,
    RaceExplanation,
    RaceRound,
    UnitLight,
)

# Rows of a category's ranking printed in the bulletin (the whole ranking is on the ranking page;
# a province category of a thousand units would otherwise make a 40-page PDF).
TOP_ROWS = 10


def _office(actor: User | None) -> None:
    if actor is not None and not (actor.is_office and actor.can_write):
        raise PermissionDenied


@dataclass
class CategorySection:
    """What the bulletin says about one category."""

    category: UnitCategory
    race: RaceRound | None
    top: list[MonthlyRankingRow] = field(default_factory=list)
    bottom: list[RaceExplanation] = field(default_factory=list)
    units_ranked: int = 0
    lights: dict[str, int] = field(default_factory=dict)


def bulletin_sections(*, cycle: Cycle, quarter: int) -> list[CategorySection]:
    """The bulletin's content, one section per category of the cycle (a bounded number of queries:
    categories, races, top rows, bottom explanations, lights)."""
    categories = list(UnitCategory.objects.filter(schemes__cycle=cycle).order_by("order", "pk"))
    races = {
        r.category_id: r
        for r in RaceRound.objects.filter(cycle=cycle, quarter=quarter).select_related("ranking", "category")
    }
    sections = {c.pk: CategorySection(category=c, race=races.get(c.pk)) for c in categories}
    ranking_ids = [r.ranking_id for r in races.values() if r.ranking_id]
    category_of = {r.ranking_id: r.category_id for r in races.values() if r.ranking_id}
    for row in (
        MonthlyRankingRow.objects.filter(ranking_id__in=ranking_ids, rank__lte=TOP_ROWS)
        .select_related("unit")
        .order_by("ranking_id", "rank")
    ):
        sections[category_of[row.ranking_id]].top.append(row)
    for race in races.values():
        if race.ranking is not None:
            sections[race.category_id].units_ranked = race.ranking.unit_count
    for explanation in (
        RaceExplanation.objects.filter(race__in=list(races.values()))
        .select_related("unit", "race")
        .order_by("race_id", "rank")
    ):
        sections[explanation.race.category_id].bottom.append(explanation)
    for summary in (
        UnitLight.objects.filter(cycle=cycle)
        .values("category_id")
        .annotate(units=Count("pk"), green=Sum("green"), yellow=Sum("yellow"), red=Sum("red"))
        .order_by()
    ):
        if summary["category_id"] in sections:
            sections[summary["category_id"]].lights = {
                k: int(summary[k] or 0) for k in ("units", "green", "yellow", "red")
            }
    return [sections[c.pk] for c in categories]


def bulletin_context(*, bulletin: Bulletin) -> dict[str, Any]:
    return {
        "bulletin": bulletin,
        "cycle": bulletin.cycle,
        "sections": bulletin_sections(cycle=bulletin.cycle, quarter=bulletin.quarter),
        "top_rows": TOP_ROWS,
    }


def bulletin_pdf(*, bulletin: Bulletin) -> bytes:
    """Render the bulletin as an A4 PDF and return its bytes."""
    from weasyprint import HTML  # heavy import: only when a PDF is made

    html = render_to_string(
        "tracking/race/bulletin_pdf.html",
        {**bulletin_context(bulletin=bulletin), "generated_at": timezone.localtime()},
    )
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def bulletin_start(*, actor: User, cycle: Cycle, quarter: int) -> tuple[Bulletin, Job]:
    """Create (or take) the quarter's bulletin and queue the job that makes its PDF."""
    _office(actor)
    lifecycle.assert_cycle_editable(cycle)
    if not 1 <= quarter <= 4:
        raise ValidationError(_("季度须为 1 至 4"))
    with transaction.atomic():
        bulletin, created = Bulletin.objects.get_or_create(cycle=cycle, quarter=quarter)
        if bulletin.is_published:
            raise ValidationError(_("该季度通报已印发，不能重新生成"))
        if created:
            audit_record(actor=actor, action=AuditAction.CREATE, obj=bulletin, changes={"quarter": quarter})
    job = job_start(kind=JobKind.BULLETIN, actor=actor, cycle=cycle, params={"bulletin": bulletin.pk})
    return bulletin, job


def bulletin_job(*, job: Job, progress: Progress) -> JobOutcome:
    """The background job: render the PDF and keep it in storage."""
    bulletin = Bulletin.objects.select_related("cycle").get(pk=int(job.params["bulletin"]))
    progress(20, _("汇总排名、红黄绿灯与复盘说明"))
    pdf = bulletin_pdf(bulletin=bulletin)
    progress(80, _("保存通报文件"))
    with transaction.atomic():
        locked = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
        if locked.is_published:
            raise ValidationError(_("该季度通报已印发，不能重新生成"))
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
        _("%(cycle)s第%(q)d季度通报已生成") % {"cycle": bulletin.cycle.name, "q": bulletin.quarter},
        f"/race/bulletins/{bulletin.pk}/",
    )


@transaction.atomic
def bulletin_publish(*, actor: User, bulletin: Bulletin) -> Bulletin:
    """印发: from now on every appraisal role reads the bulletin; return it."""
    _office(actor)
    lifecycle.assert_cycle_editable(bulletin.cycle_id)
    locked = Bulletin.objects.select_for_update().select_related("cycle").get(pk=bulletin.pk)
    if not locked.file:
        raise ValidationError(_("请先生成通报文件"))
    if locked.is_published:
        raise ValidationError(_("该季度通报已印发"))
    locked.published_at, locked.published_by = timezone.now(), actor
    locked.save(update_fields=["published_at", "published_by"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=locked, changes={"published": True})
    return locked


def bulletin_download_record(*, actor: User, bulletin: Bulletin) -> None:
    """Audit one download of the bulletin's PDF."""
    audit_record(actor=actor, action=AuditAction.EXPORT, obj=bulletin, changes={"format": "pdf"})


def sees_drafts(user: User) -> bool:
    return user.is_office or user.role == Role.AUDITOR


def visible_bulletins(*, user: User) -> QuerySet[Bulletin]:
    """The bulletins ``user`` may read: drafts for the office and the auditor, issued ones for all."""
    bulletins = Bulletin.objects.select_related("cycle").order_by("-quarter")
    if sees_drafts(user):
        return bulletins
    return bulletins.filter(published_at__isnull=False)
