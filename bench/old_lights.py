"""The row-by-row lights recompute as it was before the set-based one (commit f18ac47), kept only
so that bench_tracking_lights.py can time the two in one run. Not used by the product."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery

from jixiao.declarations.models import DeclaredIndicator, Milestone
from jixiao.schemes.models import Cycle
from jixiao.tracking.lights import UNITS_PER_BATCH, LightRules, Point, light_for, rules_for, unit_color
from jixiao.tracking.models import (
    IndicatorLight,
    Light,
    ProgressGrade,
    ProgressReport,
    ReportStatus,
    UnitLight,
)


def old_lights_recompute(*, cycle: Cycle, on: date, unit_ids: Sequence[int]) -> int:
    """The old ``lights_recompute(unit_ids=…)``: every light rewritten, per batch of units."""
    rules = rules_for(cycle)
    written = 0
    ids = sorted(unit_ids)
    for i in range(0, len(ids), UNITS_PER_BATCH):
        with transaction.atomic():
            written += _recompute_units(
                cycle=cycle, unit_ids=ids[i : i + UNITS_PER_BATCH], on=on, rules=rules
            )
    return written


def _recompute_units(*, cycle: Cycle, unit_ids: Sequence[int], on: date, rules: LightRules) -> int:
    from jixiao.tracking.selectors import tracked_declarations

    start_of_year, end_of_year = date(cycle.year, 1, 1), date(cycle.year, 12, 31)
    reported = ProgressReport.objects.filter(
        indicator=OuterRef("pk"),
        status__in=[ReportStatus.SUBMITTED, ReportStatus.GRADED],
        period__lte=on,
    ).order_by("-period")
    rows = list(
        DeclaredIndicator.objects.filter(
            declaration__in=tracked_declarations(cycle).filter(unit_id__in=unit_ids)
        )
        .filter(~Exists(DeclaredIndicator.objects.filter(under=OuterRef("pk"))))
        .annotate(
            latest_progress=Subquery(reported.values("progress_percent")[:1]),
            latest_grade=Subquery(reported.values("grade")[:1]),
        )
        .values_list(
            "pk",
            "declaration__unit_id",
            "declaration__unit__category_id",
            "lead_department_id",
            "effective_from",
            "latest_progress",
            "latest_grade",
        )
    )
    milestones: dict[int, list[Point]] = defaultdict(list)
    for indicator_id, due, percent in Milestone.objects.filter(
        indicator_id__in=[r[0] for r in rows]
    ).values_list("indicator_id", "due", "expected_percent"):
        milestones[indicator_id].append(Point(due, percent))

    lights: list[IndicatorLight] = []
    per_unit: dict[int, list[Light]] = {u: [] for u in unit_ids}
    category_of: dict[int, int] = {}
    for pk, unit_id, category_id, lead_id, effective_from, latest, grade in rows:
        start = max(effective_from, start_of_year) if effective_from else start_of_year
        verdict = light_for(
            milestones=milestones.get(pk, ()),
            start=start,
            end=end_of_year,
            on=on,
            reported=latest,
            completed=grade == ProgressGrade.COMPLETED,
            rules=rules,
        )
        lights.append(
            IndicatorLight(
                indicator_id=pk,
                cycle=cycle,
                unit_id=unit_id,
                category_id=category_id,
                lead_department_id=lead_id,
                color=verdict.color,
                expected_percent=verdict.expected,
                reported_percent=verdict.reported,
                reason=verdict.reason[:200],
                as_of=on,
            )
        )
        per_unit[unit_id].append(verdict.color)
        category_of[unit_id] = category_id

    # Indicators removed by a change request lose their light.
    IndicatorLight.objects.filter(cycle=cycle, unit_id__in=unit_ids).exclude(
        indicator_id__in=[r[0] for r in rows]
    ).delete()
    IndicatorLight.objects.bulk_create(
        lights,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["indicator"],
        update_fields=[
            "cycle",
            "unit",
            "category",
            "lead_department",
            "color",
            "expected_percent",
            "reported_percent",
            "reason",
            "as_of",
        ],
    )
    units: list[UnitLight] = []
    missing_category = [u for u in per_unit if u not in category_of]
    if missing_category:  # a tracked unit without leaves: green, with its own category
        from jixiao.organisation.models import Unit

        category_of.update(Unit.objects.filter(pk__in=missing_category).values_list("pk", "category_id"))
    for unit_id, colors in per_unit.items():
        units.append(
            UnitLight(
                cycle=cycle,
                unit_id=unit_id,
                category_id=category_of[unit_id],
                green=colors.count(Light.GREEN),
                yellow=colors.count(Light.YELLOW),
                red=colors.count(Light.RED),
                color=unit_color(colors),
                as_of=on,
            )
        )
    UnitLight.objects.bulk_create(
        units,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["cycle", "unit"],
        update_fields=["category", "green", "yellow", "red", "color", "as_of"],
    )
    return len(lights)
