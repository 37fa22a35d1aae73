"""The light rules (pure) and the bulk recomputation of stored lights."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jixiao.tracking.lights import LightRules, Point, expected_progress, light_for, lights_recompute, schedule
from jixiao.tracking.models import (
    IndicatorLight,
    Interpolation,
    Light,
    ProgressGrade,
    TrackingPolicy,
    UnitLight,
)

START, END = date(2026, 1, 1), date(2026, 12, 31)
JUNE = Point(date(2026, 6, 30), Decimal("50"))


def verdict(on: date, reported: str | None, milestones: list[Point] | None = None, **rules: object):  # type: ignore[no-untyped-def]
    return light_for(
        milestones=milestones if milestones is not None else [JUNE],
        start=START,
        end=END,
        on=on,
        reported=None if reported is None else Decimal(reported),
        rules=LightRules(**rules),  # type: ignore[arg-type]
    )


def test_without_milestones_expected_progress_is_linear_over_the_year() -> None:
    points = schedule([], start=START, end=END)
    assert points == [Point(START, Decimal(0)), Point(END, Decimal(100))]
    assert expected_progress(points, START) == Decimal("0.00")
    assert expected_progress(points, date(2026, 7, 2)) == Decimal("50.00")  # day 182 of 364
    assert expected_progress(points, END) == Decimal("100.00")


def test_expected_progress_runs_linearly_between_milestones() -> None:
    points = schedule([JUNE], start=START, end=END)
    assert expected_progress(points, JUNE.due) == Decimal("50.00")
    # 89 of the 180 days from 1 January to 30 June: 24.72 %
    assert expected_progress(points, date(2026, 3, 31)) == Decimal("24.72")
    assert expected_progress(points, date(2026, 9, 30)) == Decimal("75.00")


def test_step_interpolation_counts_a_milestone_only_from_its_date() -> None:
    points = schedule([JUNE], start=START, end=END)
    assert expected_progress(points, date(2026, 6, 29), interpolation=Interpolation.STEP) == Decimal("0.00")
    assert expected_progress(points, JUNE.due, interpolation=Interpolation.STEP) == Decimal("50.00")


def test_on_schedule_is_green() -> None:
    v = verdict(date(2026, 5, 1), "35")
    assert v.color == Light.GREEN
    assert v.reason == "按进度推进"


def test_yellow_within_three_days_of_a_milestone_not_reached() -> None:
    assert verdict(date(2026, 6, 27), "45").color == Light.YELLOW
    assert verdict(date(2026, 6, 26), "45").color == Light.GREEN  # four days before
    assert verdict(date(2026, 6, 27), "50").color == Light.GREEN  # reached


def test_the_yellow_window_is_policy_data() -> None:
    assert verdict(date(2026, 6, 20), "45", yellow_days=10).color == Light.YELLOW


def test_an_overdue_milestone_is_red_even_when_overall_progress_is_close() -> None:
    v = verdict(date(2026, 7, 1), "49")
    assert v.color == Light.RED
    assert "2026-06-30" in v.reason and "逾期" in v.reason


def test_progress_below_the_red_share_of_expected_is_red() -> None:
    # expected on 31 March 24.72 %, 80 % of it 19.78 %
    assert verdict(date(2026, 3, 31), "19").color == Light.RED
    assert verdict(date(2026, 3, 31), "20").color == Light.GREEN
    assert verdict(date(2026, 3, 31), "20", red_share=Decimal("90")).color == Light.RED


def test_nothing_reported_counts_as_zero() -> None:
    v = verdict(date(2026, 3, 1), None)
    assert v.color == Light.RED and v.reported is None


def test_completed_is_green_whatever_the_date() -> None:
    assert verdict(date(2026, 12, 31), "100").color == Light.GREEN
    done = light_for(
        milestones=[JUNE], start=START, end=END, on=date(2026, 8, 1), reported=Decimal(10), completed=True
    )
    assert done.color == Light.GREEN


def test_a_dynamic_indicator_is_green_before_it_starts() -> None:
    later = date(2026, 9, 1)
    v = light_for(milestones=[], start=later, end=END, on=date(2026, 8, 1), reported=None)
    assert v.color == Light.GREEN and v.expected == Decimal(0)


def test_the_end_of_the_year_is_the_last_milestone() -> None:
    assert verdict(date(2026, 12, 29), "96", milestones=[]).color == Light.YELLOW


@given(
    day=st.dates(min_value=START, max_value=END),
    percents=st.lists(st.integers(0, 100), min_size=0, max_size=5),
)
def test_expected_progress_never_falls_and_stays_between_0_and_100(day: date, percents: list[int]) -> None:
    dues = [date(2026, m, 28) for m in range(2, 2 + len(percents))]
    points = schedule(
        [Point(d, Decimal(p)) for d, p in zip(dues, sorted(percents), strict=True)], start=START, end=END
    )
    today = expected_progress(points, day)
    tomorrow = expected_progress(
        points, min(day.replace() if day == END else date.fromordinal(day.toordinal() + 1), END)
    )
    assert Decimal(0) <= today <= Decimal(100)
    assert tomorrow >= today


# ---- stored lights ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_recompute_writes_one_light_per_indicator_and_a_unit_summary() -> None:
    from jixiao.tracking.tests.factories import (
        DeclarationFactory,
        DeclaredIndicatorFactory,
        MilestoneFactory,
        ProgressReportFactory,
    )

    declaration = DeclarationFactory()
    green = DeclaredIndicatorFactory(declaration=declaration)
    red = DeclaredIndicatorFactory(declaration=declaration)
    yellow = DeclaredIndicatorFactory(declaration=declaration)
    for ind in (green, red, yellow):
        MilestoneFactory(indicator=ind)
    ProgressReportFactory(indicator=green, progress_percent=Decimal("60"))
    ProgressReportFactory(indicator=red, progress_percent=Decimal("5"))
    ProgressReportFactory(indicator=yellow, progress_percent=Decimal("48"))

    written = lights_recompute(cycle=declaration.cycle, on=date(2026, 6, 28))

    assert written == 3
    colors = dict(IndicatorLight.objects.values_list("indicator_id", "color"))
    assert colors == {green.pk: Light.GREEN, red.pk: Light.RED, yellow.pk: Light.YELLOW}
    unit = UnitLight.objects.get(unit=declaration.unit)
    assert (unit.green, unit.yellow, unit.red, unit.color) == (1, 1, 1, Light.RED)
    assert unit.category_id == declaration.unit.category_id


@pytest.mark.django_db
def test_recompute_updates_in_place_and_follows_the_policy() -> None:
    from jixiao.tracking.tests.factories import DeclaredIndicatorFactory, ProgressReportFactory

    ind = DeclaredIndicatorFactory()
    ProgressReportFactory(indicator=ind, progress_percent=Decimal("30"), period=date(2026, 5, 1))
    cycle = ind.declaration.cycle
    lights_recompute(cycle=cycle, on=date(2026, 6, 1))  # expected ≈ 41.3 %, 80 % ≈ 33 → red
    assert IndicatorLight.objects.get().color == Light.RED
    TrackingPolicy.objects.create(cycle=cycle, red_share=Decimal("70"))
    lights_recompute(cycle=cycle, on=date(2026, 6, 1))
    assert IndicatorLight.objects.count() == 1 and UnitLight.objects.count() == 1
    assert IndicatorLight.objects.get().color == Light.GREEN


@pytest.mark.django_db
def test_a_completed_grade_turns_the_light_green() -> None:
    from jixiao.tracking.tests.factories import DeclaredIndicatorFactory, ProgressReportFactory

    ind = DeclaredIndicatorFactory()
    ProgressReportFactory(
        indicator=ind, progress_percent=Decimal("10"), grade=ProgressGrade.COMPLETED, status="graded"
    )
    lights_recompute(cycle=ind.declaration.cycle, on=date(2026, 10, 1))
    assert IndicatorLight.objects.get().color == Light.GREEN


@pytest.mark.django_db
def test_drafts_and_later_months_do_not_count() -> None:
    from jixiao.tracking.tests.factories import DeclaredIndicatorFactory, ProgressReportFactory

    ind = DeclaredIndicatorFactory()
    ProgressReportFactory(indicator=ind, progress_percent=Decimal("90"), status="draft")
    ProgressReportFactory(indicator=ind, progress_percent=Decimal("90"), period=date(2026, 9, 1))
    lights_recompute(cycle=ind.declaration.cycle, on=date(2026, 6, 1))
    light = IndicatorLight.objects.get()
    assert light.color == Light.RED and light.reported_percent is None


@pytest.mark.django_db
def test_a_level_three_indicator_with_level_four_children_has_no_light_of_its_own() -> None:
    from jixiao.tracking.tests.factories import DeclaredIndicatorFactory

    parent = DeclaredIndicatorFactory()
    child = DeclaredIndicatorFactory(declaration=parent.declaration, under=parent, parent=parent.parent)
    lights_recompute(cycle=parent.declaration.cycle, on=date(2026, 3, 1))
    assert list(IndicatorLight.objects.values_list("indicator_id", flat=True)) == [child.pk]


@pytest.mark.django_db
def test_the_daily_job_recomputes_every_tracking_cycle() -> None:
    from jixiao.jobs.models import Job, JobKind
    from jixiao.tracking.lights import tracking_lights_job
    from jixiao.tracking.tests.factories import DeclaredIndicatorFactory

    DeclaredIndicatorFactory()
    job = Job.objects.create(kind=JobKind.TRACKING_LIGHTS)
    outcome = tracking_lights_job(job=job, progress=lambda p, s: None)
    assert IndicatorLight.objects.count() == 1
    assert "1" in outcome.message
