"""Reads of the tracking pages, scoped by role and unit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from jixiao.accounts.models import Role, User
from jixiao.accounts.permissions import scope_to_units
from jixiao.declarations.models import Declaration, DeclarationStatus, DeclaredIndicator, Milestone
from jixiao.organisation.models import Unit
from jixiao.schemes.models import Cycle, CycleStage
from jixiao.schemes.selectors import cycle_for_page
from jixiao.tracking.models import (
    Evidence,
    IndicatorLight,
    Light,
    ProgressReport,
    ReportStatus,
    TrackingPolicy,
    UnitLight,
    WorkLog,
)

# Declarations whose targets are tracked: approved ones and their published versions (a change
# request keeps tracking the working copy).
TRACKED_STATUSES = (DeclarationStatus.APPROVED, DeclarationStatus.PUBLISHED, DeclarationStatus.CHANGING)


def tracking_cycle(year: str | None) -> Cycle | None:
    """The cycle a tracking page shows: ``?year=``, else the latest cycle in the tracking stage,
    else the latest with declarations, else what :func:`cycle_for_page` picks."""
    if year and year.strip().isdigit():
        return Cycle.objects.filter(year=int(year)).first()
    return (
        Cycle.objects.filter(stage=CycleStage.TRACKING).order_by("-year").first()
        or Cycle.objects.filter(Exists(Declaration.objects.filter(cycle=OuterRef("pk"))))
        .order_by("-year")
        .first()
        or cycle_for_page(None)
    )


def policy_for(cycle: Cycle) -> TrackingPolicy:
    """The cycle's tracking policy; an unsaved one with the defaults when the office set none."""
    return TrackingPolicy.objects.filter(cycle=cycle).first() or TrackingPolicy(cycle=cycle)


def tracked_declarations(cycle: Cycle) -> QuerySet[Declaration]:
    """The declarations of ``cycle`` whose indicators are tracked (approved or published)."""
    return Declaration.objects.filter(cycle=cycle, status__in=TRACKED_STATUSES)


def month_start(day: date) -> date:
    return day.replace(day=1)


def report_due(period: date, due_day: int) -> date:
    """The day a month's report is due: ``due_day`` of the next month."""
    if period.month == 12:
        return date(period.year + 1, 1, due_day)
    return date(period.year, period.month + 1, due_day)


def current_period(cycle: Cycle, today: date | None = None) -> date:
    """The month a unit reports on now: this month within the cycle's year, else its first or
    last month."""
    today = today or timezone.localdate()
    if today.year < cycle.year:
        return date(cycle.year, 1, 1)
    if today.year > cycle.year:
        return date(cycle.year, 12, 1)
    return month_start(today)


def tracked_indicators(cycle: Cycle, unit: Unit) -> QuerySet[DeclaredIndicator]:
    """The unit's tracked declared indicators that are reported on (those without level-4
    children), with their light, milestones and framework node, in declaration order."""
    return (
        DeclaredIndicator.objects.filter(declaration__in=tracked_declarations(cycle).filter(unit=unit))
        .filter(~Exists(DeclaredIndicator.objects.filter(under=OuterRef("pk"))))
        .select_related("parent", "lead_department", "light")
        .prefetch_related(Prefetch("milestones", queryset=Milestone.objects.order_by("due")))
    )


@dataclass(frozen=True)
class IndicatorRow:
    indicator: DeclaredIndicator
    light: IndicatorLight | None
    report: ProgressReport | None  # this month's


def unit_dashboard(cycle: Cycle, unit: Unit, period: date) -> list[IndicatorRow]:
    """Each tracked indicator of ``unit`` with its light and its report for ``period`` (3 queries)."""
    indicators = list(tracked_indicators(cycle, unit))
    reports = {
        r.indicator_id: r
        for r in ProgressReport.objects.filter(indicator__in=[i.pk for i in indicators], period=period)
    }
    rows = []
    for ind in indicators:
        light = getattr(ind, "light", None) if _has_light(ind) else None
        rows.append(IndicatorRow(ind, light, reports.get(ind.pk)))
    return rows


def _has_light(indicator: DeclaredIndicator) -> bool:
    try:
        indicator.light  # noqa: B018 (a reverse one-to-one raises when absent)
    except IndicatorLight.DoesNotExist:
        return False
    return True


def status_counts(rows: list[IndicatorRow]) -> dict[str, int]:
    """How many of ``rows`` have this month's report not started, drafted, submitted, graded."""
    counts = {"none": 0, ReportStatus.DRAFT: 0, ReportStatus.SUBMITTED: 0, ReportStatus.GRADED: 0}
    for row in rows:
        counts[row.report.status if row.report else "none"] += 1
    return counts


def reports_of(indicator: DeclaredIndicator) -> QuerySet[ProgressReport]:
    """An indicator's reports, latest month first, with their evidence."""
    return (
        ProgressReport.objects.filter(indicator=indicator)
        .select_related("submitted_by", "graded_by")
        .prefetch_related("evidence")
        .order_by("-period")
    )


def visible_indicators(user: User) -> QuerySet[DeclaredIndicator]:
    """Declared indicators ``user`` may read: its unit's (liaison, official), its unit's and
    those it leads (lead department), all (office, leader, auditor)."""
    qs = DeclaredIndicator.objects.all()
    if user.sees_all_units:
        return qs
    if user.unit_id is None:
        return qs.none()
    q = Q(declaration__unit_id=user.unit_id)
    if user.role == Role.LEAD_DEPT:
        q |= Q(lead_department_id=user.unit_id)
    return qs.filter(q)


def grades_reports(user: User) -> bool:
    """Who has a grading queue: the office (every indicator), a lead department (the indicators it
    leads) and the auditor (reading)."""
    return (
        user.is_office
        or user.role == Role.AUDITOR
        or (user.role == Role.LEAD_DEPT and user.unit_id is not None)
    )


def may_grade(user: User, indicator: DeclaredIndicator) -> bool:
    """The office, or the lead department of ``indicator``; never a reader."""
    if not user.can_write:
        return False
    if user.is_office:
        return True
    return (
        user.role == Role.LEAD_DEPT
        and user.unit_id is not None
        and user.unit_id == indicator.lead_department_id
    )


def grading_queue(user: User, cycle: Cycle, *, status: str = "") -> QuerySet[ProgressReport]:
    """Submitted (and, on request, graded) reports of indicators ``user`` grades, oldest first."""
    qs = ProgressReport.objects.filter(indicator__declaration__cycle=cycle)
    if not (user.is_office or user.role == Role.AUDITOR):
        qs = qs.filter(indicator__lead_department_id=user.unit_id) if user.unit_id else qs.none()
    if status in (ReportStatus.SUBMITTED, ReportStatus.GRADED):
        qs = qs.filter(status=status)
    else:
        qs = qs.filter(status__in=[ReportStatus.SUBMITTED, ReportStatus.GRADED])
    return qs.select_related("indicator__declaration__unit", "indicator__parent", "submitted_by").order_by(
        "status", "period", "pk"
    )


def visible_evidence(user: User) -> QuerySet[Evidence]:
    """Evidence ``user`` may open: its unit's; for a lead department also what is attached to
    reports of the indicators it leads (it grades them); all for the office, leader, auditor."""
    qs = Evidence.objects.all()
    if user.is_office:
        return qs
    # A weekly log's photos are read with the log: its author, the team's head, the office
    # (tracking.worklogs), not the liaison, a leader or the auditor, even by a direct link.
    from jixiao.tracking.worklogs import visible_logs

    readable_log = Exists(visible_logs(user=user).filter(evidence=OuterRef("pk")).order_by().values("pk"))
    qs = qs.exclude(log_only_evidence() & ~Q(readable_log))
    if user.sees_all_units:
        return qs
    if user.unit_id is None:
        return qs.none()
    q = Q(unit_id=user.unit_id)
    if user.role == Role.LEAD_DEPT:
        q |= Q(
            Exists(
                ProgressReport.evidence.through.objects.filter(
                    evidence_id=OuterRef("pk"), progressreport__indicator__lead_department_id=user.unit_id
                )
            )
        )
    return qs.filter(q)


def log_only_evidence() -> Q:
    """Evidence attached to a weekly log and to no monthly report: it belongs to the log, which
    the unit's liaison does not read (tracking.worklogs), so the unit's library leaves it out."""
    logs = WorkLog.evidence.through.objects.filter(evidence_id=OuterRef("pk"))
    reports = ProgressReport.evidence.through.objects.filter(evidence_id=OuterRef("pk"))
    return Q(Exists(logs)) & ~Q(Exists(reports))


def unit_evidence(cycle: Cycle, unit: Unit) -> QuerySet[Evidence]:
    """The evidence library of a unit in a cycle, latest first, with how often each is attached
    (the photos of the officials' weekly logs left out, :func:`log_only_evidence`)."""
    return (
        Evidence.objects.filter(cycle=cycle, unit=unit)
        .exclude(log_only_evidence())
        .annotate(attached=Count("reports", distinct=True))
        .select_related("uploaded_by")
        .order_by("-uploaded_at", "-pk")
    )


@dataclass(frozen=True)
class Volume:
    files: int
    bytes: int

    @property
    def megabytes(self) -> Decimal:
        """MB with one decimal, 0.1 for files that are small but not empty (never "14 份 / 0.0 MB")."""
        if not self.bytes:
            return Decimal("0")
        return max((Decimal(self.bytes) / Decimal(1024 * 1024)).quantize(Decimal("0.1")), Decimal("0.1"))


def evidence_volume(cycle: Cycle, unit_ids: list[int]) -> dict[int, Volume]:
    """Files and bytes of evidence per unit (one grouped query; offices cut 过度留痕)."""
    rows = (
        Evidence.objects.filter(cycle=cycle, unit_id__in=unit_ids)
        .values("unit_id")
        .annotate(n=Count("id"), b=Sum("size"))
        .order_by()
    )
    found = {r["unit_id"]: Volume(r["n"], r["b"] or 0) for r in rows}
    return {u: found.get(u, Volume(0, 0)) for u in unit_ids}


@dataclass(frozen=True)
class LightCounts:
    units: dict[str, int]  # units per overall colour
    indicators: dict[str, int]  # indicators per colour


def lights_rows(
    cycle: Cycle, *, category_id: int | None, lead_department_id: int | None
) -> QuerySet[UnitLight]:
    """The office's lights page rows: one :class:`UnitLight` per unit, worst first. With a lead
    department, only units with indicators it leads."""
    qs = UnitLight.objects.filter(cycle=cycle).select_related("unit", "category")
    if category_id:
        qs = qs.filter(category_id=category_id)
    if lead_department_id:
        qs = qs.filter(
            Exists(
                IndicatorLight.objects.filter(
                    cycle=cycle, unit_id=OuterRef("unit_id"), lead_department_id=lead_department_id
                )
            )
        )
    return qs.order_by("-red", "-yellow", "unit__code")


def light_counts(cycle: Cycle, *, category_id: int | None, lead_department_id: int | None) -> LightCounts:
    """Units per overall colour and indicators per colour under the page's filters (2 queries;
    without a lead department both from the :class:`UnitLight` rows)."""
    units = UnitLight.objects.filter(cycle=cycle)
    inds = IndicatorLight.objects.filter(cycle=cycle)
    if category_id:
        units, inds = units.filter(category_id=category_id), inds.filter(category_id=category_id)
    if lead_department_id:
        inds = inds.filter(lead_department_id=lead_department_id)
        units = units.filter(
            Exists(
                IndicatorLight.objects.filter(
                    cycle=cycle, unit_id=OuterRef("unit_id"), lead_department_id=lead_department_id
                )
            )
        )
    by_unit = dict(units.values_list("color").annotate(n=Count("id")).order_by())
    if lead_department_id:
        by_ind = dict(inds.values_list("color").annotate(n=Count("id")).order_by())
    else:
        # The unit rows already hold their indicators' counts: a category's ~1,000 rows are read
        # instead of its ~140,000 indicator lights.
        sums = units.aggregate(green=Sum("green"), yellow=Sum("yellow"), red=Sum("red"))
        by_ind = {c: sums[c] or 0 for c in Light.values}
    return LightCounts(
        units={c: by_unit.get(c, 0) for c in Light.values},
        indicators={c: by_ind.get(c, 0) for c in Light.values},
    )


def lead_departments(cycle: Cycle) -> QuerySet[Unit]:
    """Units that lead at least one tracked indicator of ``cycle`` (the page's filter)."""
    return Unit.objects.filter(
        Exists(
            DeclaredIndicator.objects.filter(
                lead_department_id=OuterRef("pk"), declaration__in=tracked_declarations(cycle)
            )
        )
    ).order_by("code")


def scoped_unit(user: User, pk: int) -> Unit | None:
    """The unit ``pk`` when ``user`` may see it, else None (the view answers 404)."""
    return scope_to_units(user, Unit.objects.all(), unit_path="").filter(pk=pk).first()
