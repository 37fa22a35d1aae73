"""月排名: the monthly ranking of each category from the routine scores, computed by a background
job and published by the office; and the quarter's ranking the race (赛马) is decided on.

The scores and the ranks come from the pure core (:func:`jixiao.scoring.routine.period_ranking`);
this module only reads the graded reports into the engine's ``routine`` frame, stores the result
rows with the previous period's rank (so the page shows ↑↓ without a second query) and scopes
who sees what:

- the office and the auditor see every ranking, computed or published;
- leaders see every published ranking;
- a liaison, lead department or official sees the published rankings of its own unit's category.

The points of each grade are the routine component's ``grade_points`` (schemes.Component, a
source-"routine" component of the category's scheme); a scheme without one uses
``schemes.models.DEFAULT_GRADE_POINTS`` (已完成 100, 按进度推进 90, 进度滞后 60). Only reports on
published targets count, as in the annual run (``results.engine_io.load_routine``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np
import polars as pl
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, Role, User
from jixiao.jobs.models import Job, JobKind
from jixiao.jobs.services import JobOutcome, Progress, job_start
from jixiao.organisation.models import Unit, UnitCategory
from jixiao.schemes import lifecycle
from jixiao.schemes.models import DEFAULT_GRADE_POINTS, Component, ComponentSource, Cycle, CycleStage, Scheme
from jixiao.scoring.routine import period_ranking
from jixiao.scoring.types import Units
from jixiao.tracking.models import (
    MonthlyRanking,
    MonthlyRankingRow,
    ProgressReport,
    RankingSpan,
    ReportStatus,
)

# Stages in which reports are graded, hence rankings computed.
RANKING_STAGES = (CycleStage.TRACKING, CycleStage.EVALUATION)
SCORE_DECIMALS = 2


@dataclass(frozen=True)
class Period:
    """A ranking period: ``start`` is the first day of its first month; ``months`` 1 or 3."""

    span: str
    start: date

    @property
    def months(self) -> int:
        return 3 if self.span == RankingSpan.QUARTER else 1

    @property
    def end(self) -> date:
        """The first day after the period."""
        month = self.start.month - 1 + self.months
        return date(self.start.year + month // 12, month % 12 + 1, 1)

    @property
    def previous(self) -> Period:
        month = self.start.month - 1 - self.months
        return Period(self.span, date(self.start.year + month // 12, month % 12 + 1, 1))

    @property
    def label(self) -> str:
        """The engine's period text ("YYYY-MM", the first month of a quarter)."""
        return f"{self.start:%Y-%m}"

    @property
    def month_labels(self) -> list[str]:
        """The engine's period text of each of its months (a quarter is scored on their mean)."""
        labels = []
        for i in range(self.months):
            m = self.start.month - 1 + i
            labels.append(f"{self.start.year + m // 12}-{m % 12 + 1:02d}")
        return labels


def month(value: date) -> Period:
    return Period(RankingSpan.MONTH, value.replace(day=1))


def quarter(year: int, number: int) -> Period:
    if not 1 <= number <= 4:
        raise ValueError(number)
    return Period(RankingSpan.QUARTER, date(year, 3 * number - 2, 1))


def parse_month(text: str) -> date | None:
    """``"2026-03"`` → 2026-03-01; None for anything else."""
    try:
        year, mon = text.split("-")
        return date(int(year), int(mon), 1)
    except ValueError:
        return None


# --- reading the engine's inputs ------------------------------------------------------------


def grade_points(*, cycle: Cycle) -> dict[str, dict[str, float]]:
    """Return ``{category code: {grade: points}}`` for every scheme of ``cycle``: the routine
    component's ``grade_points`` when the scheme has one that sets them, else the defaults."""
    points: dict[str, dict[str, float]] = {}
    routine: dict[int, dict[str, float]] = {}
    components = Component.objects.filter(scheme__cycle=cycle, source=ComponentSource.ROUTINE)
    for component in components.order_by("order", "pk"):
        if component.grade_points and component.scheme_id not in routine:
            routine[component.scheme_id] = {str(k): float(v) for k, v in component.grade_points.items()}
    for scheme_id, code in Scheme.objects.filter(cycle=cycle).values_list("pk", "category__code"):
        points[code] = routine.get(scheme_id, dict(DEFAULT_GRADE_POINTS))
    return points


def _units(*, cycle: Cycle, category: UnitCategory | None) -> Units:
    units = Unit.objects.filter(is_active=True, category__schemes__cycle=cycle)
    if category is not None:
        units = units.filter(category=category)
    pairs = list(units.order_by("code").values_list("code", "category__code"))
    return Units(
        id=np.array([code for code, _c in pairs], dtype=np.str_),
        category=np.array([c for _code, c in pairs], dtype=np.str_),
    )


def _routine_frame(*, cycle: Cycle, period: Period, category: UnitCategory | None) -> pl.DataFrame:
    """The period's graded reports as the engine's ``routine`` frame, each labelled with its own
    month. PostgreSQL counts the grades per unit and month (a province month is 1.4 M reports, a
    few tens of thousands of counts); each count becomes that many rows, which is what the
    engine's per-month mean needs; a quarter is then ranked on the mean of its monthly scores."""
    reports = ProgressReport.objects.filter(
        indicator__declaration__cycle=cycle,
        period__gte=period.start,
        period__lt=period.end,
        status=ReportStatus.GRADED,
        indicator__declaration__published_version__isnull=False,  # as results.engine_io.load_routine
    ).exclude(grade="")
    if category is not None:
        reports = reports.filter(indicator__declaration__unit__category=category)
    counts = list(
        reports.values_list("indicator__declaration__unit__code", "period", "grade")
        .annotate(n=Count("pk"))
        .order_by()
    )
    entities = [code for code, _p, _g, n in counts for _ in range(n)]
    periods = [f"{day:%Y-%m}" for _c, day, _g, n in counts for _ in range(n)]
    grades = [grade for _c, _p, grade, n in counts for _ in range(n)]
    return pl.DataFrame(
        {"entity": entities, "indicator": [""] * len(entities), "period": periods, "grade": grades},
        schema={"entity": pl.String(), "indicator": pl.String(), "period": pl.String(), "grade": pl.String()},
    )  # fmt: skip


# --- writes -------------------------------------------------------------------------------------


def _office(actor: User | None) -> None:
    if actor is not None and not (actor.is_office and actor.can_write):
        raise PermissionDenied


def rankings_compute(
    *, cycle: Cycle, period: Period, actor: User | None, category: UnitCategory | None = None
) -> list[MonthlyRanking]:
    """Compute and store the ranking of ``period`` of every category (or one); return them.

    A ranking already published is final and left as it is; a computed one is replaced."""
    _office(actor)
    lifecycle.assert_stage(cycle, RANKING_STAGES, _("计算排名"))
    table = period_ranking(
        _units(cycle=cycle, category=category),
        _routine_frame(cycle=cycle, period=period, category=category),
        grade_points(cycle=cycle),
        period.month_labels,
        SCORE_DECIMALS,
    )
    categories = UnitCategory.objects.filter(schemes__cycle=cycle).order_by("order", "pk")
    if category is not None:
        categories = categories.filter(pk=category.pk)
    unit_ids = dict(
        Unit.objects.filter(code__in=table.get_column("entity").to_list()).values_list("code", "pk")
    )
    stored: list[MonthlyRanking] = []
    for cat in categories:
        rows = table.filter(pl.col("category") == cat.code)
        with transaction.atomic():
            ranking = _store(
                cycle=cycle, category=cat, period=period, rows=rows, unit_ids=unit_ids, actor=actor
            )
        if ranking is not None:
            stored.append(ranking)
    return stored


def _store(
    *,
    cycle: Cycle,
    category: UnitCategory,
    period: Period,
    rows: pl.DataFrame,
    unit_ids: Mapping[str, int],
    actor: User | None,
) -> MonthlyRanking | None:
    ranking, _created = MonthlyRanking.objects.select_for_update().get_or_create(
        cycle=cycle,
        category=category,
        span=period.span,
        period=period.start,
        defaults={"computed_at": timezone.now()},
    )
    if ranking.is_published:
        return None
    previous = dict(
        MonthlyRankingRow.objects.filter(
            ranking__cycle=cycle,
            ranking__category=category,
            ranking__span=period.span,
            ranking__period=period.previous.start,
        ).values_list("unit_id", "rank")
    )
    ranking.rows.all().delete()
    new_rows = []
    for entity, score, reports, rank in rows.select("entity", "score", "reports", "rank").iter_rows():
        unit_id = unit_ids[entity]
        before = previous.get(unit_id)
        new_rows.append(
            MonthlyRankingRow(
                ranking=ranking,
                unit_id=unit_id,
                score=Decimal(str(score)).quantize(Decimal("0.01")),
                rank=rank,
                previous_rank=before,
                movement=None if before is None else before - rank,
                graded_reports=reports,
            )
        )
    MonthlyRankingRow.objects.bulk_create(new_rows, batch_size=2000)
    ranking.unit_count = len(new_rows)
    ranking.computed_at = timezone.now()
    ranking.save(update_fields=["unit_count", "computed_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=ranking,
        changes={"computed": period.label, "span": period.span, "units": len(new_rows)},
    )
    return ranking


def ranking_start(*, actor: User, cycle: Cycle, period: date) -> Job:
    """Queue the job that computes ``period``'s monthly ranking of every category; return it."""
    _office(actor)
    lifecycle.assert_stage(cycle, RANKING_STAGES, _("计算排名"))
    if period.year != cycle.year:
        raise ValidationError(_("月份须在%(year)s年度内") % {"year": cycle.year})
    if period > timezone.localdate():
        raise ValidationError(_("不能计算尚未开始的月份"))
    return job_start(
        kind=JobKind.MONTHLY_RANKING, actor=actor, cycle=cycle, params={"period": f"{period:%Y-%m}"}
    )


def ranking_job(*, job: Job, progress: Progress) -> JobOutcome:
    """The background job: compute the month's rankings; the outcome links to the list."""
    assert job.cycle is not None
    start = parse_month(str(job.params.get("period", "")))
    if start is None:
        raise ValidationError(_("月份格式不正确"))
    progress(10, _("读取月度评定"))
    stored = rankings_compute(cycle=job.cycle, period=month(start), actor=job.created_by)
    link = f"/race/rankings/?year={job.cycle.year}&month={start:%Y-%m}"
    return JobOutcome(
        _("%(month)s 月度排名已计算：%(n)d 个类别（已公布的保持不变）")
        % {"month": f"{start:%Y-%m}", "n": len(stored)},
        link,
    )


@transaction.atomic
def ranking_publish(*, actor: User, ranking: MonthlyRanking) -> MonthlyRanking:
    """Publish a computed ranking (its category's units see it from now on); notify their
    liaisons once; return it."""
    _office(actor)
    lifecycle.assert_cycle_editable(ranking.cycle_id)
    locked = MonthlyRanking.objects.select_for_update().select_related("category", "cycle").get(pk=ranking.pk)
    if locked.is_published:
        raise ValidationError(_("该排名已公布"))
    locked.published_at = timezone.now()
    locked.published_by = actor
    locked.save(update_fields=["published_at", "published_by"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=locked, changes={"published": True})
    from jixiao.notifications.services import notify

    span = locked.get_span_display()
    notify(
        recipients=User.objects.filter(role=Role.LIAISON, unit__category=locked.category, is_active=True),
        cause=f"tracking.ranking_published:{locked.pk}",
        title=_("%(category)s%(period)s%(span)s排名已公布")
        % {"category": locked.category.name, "period": f"{locked.period:%Y-%m}", "span": span},
        link=f"/race/rankings/{locked.pk}/",
    )
    return locked


# --- reads ----------------------------------------------------------------------------------------


def sees_every_ranking(user: User) -> bool:
    """The office and the auditor see computed rankings before they are published."""
    return user.is_office or user.role == Role.AUDITOR


def visible_rankings(*, user: User) -> QuerySet[MonthlyRanking]:
    """The rankings ``user`` may open (see the module docstring), latest first."""
    rankings = MonthlyRanking.objects.select_related("category", "cycle").order_by(
        "-period", "category__order"
    )
    if sees_every_ranking(user):
        return rankings
    rankings = rankings.filter(published_at__isnull=False)
    if user.sees_all_units:
        return rankings
    if user.unit_id is None:
        return rankings.none()
    return rankings.filter(category__units=user.unit_id)


def ranking_rows(*, ranking: MonthlyRanking) -> QuerySet[MonthlyRankingRow]:
    """The rows of a ranking in rank order with their units (one query per page)."""
    return ranking.rows.select_related("unit").order_by("rank")
