"""The set-based recompute stores what :func:`light_for` says row by row, and writes only changes.

Runs on SQLite and on PostgreSQL (DATABASE_URL): the two write paths differ (bulk upserts; COPY
into a temporary table, then UPDATE … FROM and INSERT … SELECT)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jixiao.declarations.models import Declaration, DeclarationStatus, DeclaredIndicator, Milestone
from jixiao.schemes.models import Cycle
from jixiao.tracking import lights_store
from jixiao.tracking.lights import Point, light_for, lights_recompute, rules_for, unit_color
from jixiao.tracking.models import (
    IndicatorLight,
    Interpolation,
    Light,
    ProgressGrade,
    ProgressReport,
    ReportStatus,
    TrackingPolicy,
    UnitLight,
)
from jixiao.tracking.selectors import TRACKED_STATUSES
from jixiao.tracking.tests.factories import DeclarationFactory, TrackingCycleFactory, framework_node

YEAR = 2026


def _world(seed: int, *, units: int = 6, leaves: int = 18) -> Cycle:
    """Random declarations, leaves (some with level-4 children, some dynamic), milestones and
    reports (drafts, later months, graded complete) in a tracking cycle."""
    rng = random.Random(seed)
    cycle = TrackingCycleFactory(year=YEAR)
    statuses = [DeclarationStatus.PUBLISHED] * 4 + [DeclarationStatus.CHANGING, DeclarationStatus.DRAFT]
    for _u in range(units):
        declaration = DeclarationFactory(cycle=cycle, status=rng.choice(statuses))
        node = framework_node(declaration)
        for n in range(leaves):
            effective = date(YEAR, rng.randint(1, 12), rng.randint(1, 28)) if rng.random() < 0.2 else None
            ind = DeclaredIndicator.objects.create(
                declaration=declaration, parent=node, name=f"指标{n}", rule_type="ratio",
                weight=Decimal(1), effective_from=effective,
            )  # fmt: skip
            if rng.random() < 0.1:  # a level-3 target with level-4 children has no light of its own
                ind = DeclaredIndicator.objects.create(
                    declaration=declaration, parent=node, under=ind, name=f"指标{n}.1", rule_type="ratio",
                    weight=Decimal(1),
                )  # fmt: skip
            dues = sorted(rng.sample(range(1, 366), rng.randint(0, 4)))
            Milestone.objects.bulk_create(
                Milestone(
                    indicator=ind,
                    due=date(YEAR, 1, 1) + timedelta(days=d - 1),
                    expected_percent=Decimal(rng.randint(0, 10_000)) / 100,
                )
                for d in dues
            )
            for month in sorted(rng.sample(range(1, 13), rng.randint(0, 5))):
                status = rng.choice([ReportStatus.DRAFT, ReportStatus.SUBMITTED, ReportStatus.GRADED])
                ProgressReport.objects.create(
                    indicator=ind,
                    period=date(YEAR, month, 1),
                    progress_percent=None if rng.random() < 0.1 else Decimal(rng.randint(0, 11_000)) / 100,
                    status=status,
                    grade=rng.choice(list(ProgressGrade.values)) if status == ReportStatus.GRADED else "",
                )
    return cycle


def _expected_by_row(
    cycle: Cycle, on: date
) -> tuple[dict[int, tuple[object, ...]], dict[int, tuple[object, ...]]]:
    """The lights light_for gives for each tracked leaf, and each tracked unit's summary."""
    rules = rules_for(cycle)
    lights: dict[int, tuple[object, ...]] = {}
    per_unit: dict[int, list[Light]] = {}
    declarations = Declaration.objects.filter(cycle=cycle, status__in=TRACKED_STATUSES).select_related("unit")
    for declaration in declarations:
        per_unit[declaration.unit_id] = []
        for ind in declaration.indicators.filter(children__isnull=True):
            counted = ind.reports.filter(
                status__in=[ReportStatus.SUBMITTED, ReportStatus.GRADED], period__lte=on
            ).order_by("-period")
            latest = counted.first()
            start = max(ind.effective_from, date(YEAR, 1, 1)) if ind.effective_from else date(YEAR, 1, 1)
            v = light_for(
                milestones=[Point(m.due, m.expected_percent) for m in ind.milestones.all()],
                start=start,
                end=date(YEAR, 12, 31),
                on=on,
                reported=latest.progress_percent if latest else None,
                completed=latest is not None and latest.grade == ProgressGrade.COMPLETED,
                rules=rules,
            )
            lights[ind.pk] = (declaration.unit_id, declaration.unit.category_id, v.color, v.expected,
                              v.reported, v.reason[:200])  # fmt: skip
            per_unit[declaration.unit_id].append(v.color)
    units = {
        u: (Counter(c)[Light.GREEN], Counter(c)[Light.YELLOW], Counter(c)[Light.RED], unit_color(c))
        for u, c in per_unit.items()
    }
    return lights, units


def _stored(cycle: Cycle) -> tuple[dict[int, tuple[object, ...]], dict[int, tuple[object, ...]]]:
    lights = {
        r[0]: r[1:]
        for r in IndicatorLight.objects.filter(cycle=cycle).values_list(
            "indicator_id",
            "unit_id",
            "category_id",
            "color",
            "expected_percent",
            "reported_percent",
            "reason",
        )
    }
    units = {
        r[0]: r[1:]
        for r in UnitLight.objects.filter(cycle=cycle).values_list(
            "unit_id", "green", "yellow", "red", "color"
        )
    }
    return lights, units


@pytest.mark.django_db
@pytest.mark.parametrize(("seed", "values_max"), [(1, 1000), (2, 0), (3, 0)])
def test_the_set_based_recompute_stores_light_for_of_every_leaf(
    seed: int, values_max: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # values_max 0: every write goes the daily job's way (COPY into a temporary table on PostgreSQL).
    monkeypatch.setattr(lights_store, "VALUES_MAX", values_max)
    cycle = _world(seed)
    rng = random.Random(seed)
    if seed != 1:
        TrackingPolicy.objects.create(
            cycle=cycle,
            yellow_days=rng.randint(0, 30),
            red_share=Decimal(rng.randint(0, 10_000)) / 100,
            interpolation=Interpolation.STEP if seed == 3 else Interpolation.LINEAR,
        )
    # Several days in turn, over the same stored rows: updates, not only first inserts.
    for on in sorted(date(YEAR, 1, 1) + timedelta(days=rng.randint(-10, 380)) for _ in range(4)):
        lights_recompute(cycle=cycle, on=on)
        assert _stored(cycle) == _expected_by_row(cycle, on), on


@pytest.mark.django_db
def test_the_one_unit_path_after_a_report_equals_the_whole_cycle_path() -> None:
    cycle = _world(4, units=3)
    on = date(YEAR, 6, 28)
    for unit_id in Declaration.objects.filter(cycle=cycle).values_list("unit_id", flat=True):
        lights_recompute(cycle=cycle, unit_ids=[unit_id], on=on)
    assert _stored(cycle) == _expected_by_row(cycle, on)


@pytest.mark.django_db
def test_an_unchanged_light_is_not_written_again() -> None:
    cycle = _world(5, units=2, leaves=6)
    on = date(YEAR, 8, 31)
    lights_recompute(cycle=cycle, on=on)
    with CaptureQueriesContext(connection) as ctx:
        lights_recompute(cycle=cycle, on=on)
    writes = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []


@pytest.mark.django_db
def test_a_light_that_changed_is_rewritten_with_the_day_and_the_others_keep_theirs() -> None:
    cycle = _world(6, units=2, leaves=8)
    # By steps, expected progress holds between milestones, so most lights stay as they were.
    TrackingPolicy.objects.create(cycle=cycle, interpolation=Interpolation.STEP)
    lights_recompute(cycle=cycle, on=date(YEAR, 8, 3))
    ind = IndicatorLight.objects.filter(cycle=cycle).exclude(color=Light.GREEN).first()
    assert ind is not None
    ProgressReport.objects.update_or_create(
        indicator_id=ind.indicator_id, period=date(YEAR, 8, 1),
        defaults={"progress_percent": Decimal(100), "status": ReportStatus.SUBMITTED},
    )  # fmt: skip
    lights_recompute(cycle=cycle, on=date(YEAR, 8, 4))
    changed = IndicatorLight.objects.get(pk=ind.pk)
    assert (changed.color, changed.as_of) == (Light.GREEN, date(YEAR, 8, 4))
    assert IndicatorLight.objects.filter(cycle=cycle, as_of=date(YEAR, 8, 3)).exists()
    # The unit lights (the page shows their day) all carry the day of the recompute.
    assert set(UnitLight.objects.values_list("as_of", flat=True)) == {date(YEAR, 8, 4)}
    assert _stored(cycle) == _expected_by_row(cycle, date(YEAR, 8, 4))


@pytest.mark.django_db
def test_a_unit_whose_declaration_left_tracking_loses_its_lights_in_the_daily_recompute() -> None:
    cycle = _world(7, units=3, leaves=4)
    lights_recompute(cycle=cycle, on=date(YEAR, 6, 1))
    declaration = Declaration.objects.filter(cycle=cycle, status__in=TRACKED_STATUSES).first()
    assert declaration is not None and UnitLight.objects.filter(unit=declaration.unit).exists()
    Declaration.objects.filter(pk=declaration.pk).update(status=DeclarationStatus.DRAFT)
    lights_recompute(cycle=cycle, on=date(YEAR, 6, 2))
    assert not UnitLight.objects.filter(unit=declaration.unit).exists()
    assert not IndicatorLight.objects.filter(unit=declaration.unit).exists()
    assert _stored(cycle) == _expected_by_row(cycle, date(YEAR, 6, 2))
