"""The monthly ranking: computed by a background job from the month's graded reports through the
pure core, published by the office, then seen by the category's units with its movement."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jixiao.accounts.models import AuditLog
from jixiao.declarations.models import Declaration
from jixiao.jobs.models import Job, JobKind, JobStatus
from jixiao.notifications.models import Notification
from jixiao.schemes.models import DEFAULT_GRADE_POINTS, Component, ComponentSource, CycleStage, CycleStatus
from jixiao.tracking import ranking
from jixiao.tracking.models import MonthlyRanking, MonthlyRankingRow, ProgressGrade
from jixiao.tracking.tests import race_world
from jixiao.tracking.tests.race_world import IMMEDIATE, World

pytestmark = pytest.mark.django_db
MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)


@pytest.fixture
def world() -> World:
    w = race_world.build()
    race_world.grade_all(w, MARCH)
    return w


def _compute(world: World, period: date = MARCH) -> list[MonthlyRanking]:
    return ranking.rankings_compute(cycle=world.cycle, period=ranking.month(period), actor=world.office)


def test_units_are_ranked_by_the_mean_points_of_their_graded_reports(world: World) -> None:
    stored = _compute(world)
    mine = next(r for r in stored if r.category_id == world.category.pk)
    rows = list(mine.rows.order_by("rank"))
    assert [r.unit for r in rows] == world.units
    assert [float(r.score) for r in rows] == [100.0, 95.0, 90.0, 75.0, 60.0]
    assert mine.unit_count == 5 and rows[0].graded_reports == 2
    assert all(r.previous_rank is None and r.movement is None for r in rows)
    assert AuditLog.objects.filter(object_type="tracking.monthlyranking").exists()


def test_movement_compares_with_the_previous_month(world: World) -> None:
    _compute(world)
    race_world.grade(world, world.units[4], APRIL, [ProgressGrade.COMPLETED, ProgressGrade.COMPLETED])
    race_world.grade(world, world.units[0], APRIL, [ProgressGrade.BEHIND, ProgressGrade.BEHIND])
    april = next(r for r in _compute(world, APRIL) if r.category_id == world.category.pk)
    rows = {r.unit_id: r for r in april.rows.all()}
    top, bottom = rows[world.units[4].pk], rows[world.units[0].pk]
    assert (top.rank, top.previous_rank, top.movement) == (1, 5, 4)
    assert (bottom.rank, bottom.previous_rank, bottom.movement) == (2, 1, -1)
    assert april.unit_count == 2  # units without a graded report in April are not ranked


def test_the_grade_points_come_from_the_routine_component_when_it_sets_them(world: World) -> None:
    assert ranking.grade_points(cycle=world.cycle)[world.category.code] == DEFAULT_GRADE_POINTS
    Component.objects.filter(scheme__category=world.category, source=ComponentSource.ROUTINE).update(
        grade_points={"completed": 100, "on_schedule": 80, "behind": 0}
    )
    mine = next(r for r in _compute(world) if r.category_id == world.category.pk)
    assert [float(s) for s in mine.rows.order_by("rank").values_list("score", flat=True)] == [
        100,
        90,
        80,
        40,
        0,
    ]


def test_reports_on_unpublished_targets_do_not_count(world: World) -> None:
    Declaration.objects.filter(unit=world.units[0]).update(published_version=None)
    mine = next(r for r in _compute(world) if r.category_id == world.category.pk)
    assert world.units[0].pk not in set(mine.rows.values_list("unit_id", flat=True))


def test_a_published_ranking_is_final(world: World) -> None:
    mine = next(r for r in _compute(world) if r.category_id == world.category.pk)
    ranking.ranking_publish(actor=world.office, ranking=mine)
    before = list(mine.rows.values_list("unit_id", "rank"))
    race_world.grade(world, world.units[4], MARCH, [ProgressGrade.COMPLETED, ProgressGrade.COMPLETED])
    again = _compute(world)
    assert mine.pk not in {r.pk for r in again}
    assert list(mine.rows.values_list("unit_id", "rank")) == before
    with pytest.raises(ValidationError):
        ranking.ranking_publish(actor=world.office, ranking=mine)


def test_publishing_notifies_the_liaisons_of_the_category_once(world: World) -> None:
    mine = next(r for r in _compute(world) if r.category_id == world.category.pk)
    ranking.ranking_publish(actor=world.office, ranking=mine)
    told = Notification.objects.filter(cause=f"tracking.ranking_published:{mine.pk}")
    assert set(told.values_list("recipient_id", flat=True)) == {u.pk for u in world.liaisons.values()}


def test_rankings_are_computed_only_in_the_tracking_and_evaluation_stages(world: World) -> None:
    world.cycle.stage = CycleStage.DECLARATION
    world.cycle.save()
    with pytest.raises(ValidationError, match="不能计算排名"):
        _compute(world)
    world.cycle.stage, world.cycle.status = CycleStage.TRACKING, CycleStatus.CLOSED
    world.cycle.save()
    with pytest.raises(ValidationError, match="只读"):
        _compute(world)


def test_the_office_computes_the_ranking_as_a_background_job_from_the_page(
    world: World, client: Client, settings: Any
) -> None:
    settings.TASKS = IMMEDIATE
    client.force_login(world.office)
    response = client.post(reverse("race:ranking_compute"), {"year": "2026", "month": "2026-03"})
    assert response.status_code == 302
    job = Job.objects.get(kind=JobKind.MONTHLY_RANKING)
    assert job.status == JobStatus.SUCCEEDED, job.message
    assert MonthlyRanking.objects.filter(cycle=world.cycle, period=MARCH).count() == 2
    page = client.get(reverse("race:ranking_list") + "?year=2026").content.decode()
    assert "2026-03" in page and "未公布" in page


def test_a_month_not_begun_or_of_another_year_is_refused(world: World) -> None:
    with pytest.raises(ValidationError):
        ranking.ranking_start(actor=world.office, cycle=world.cycle, period=date(2025, 12, 1))


def test_liaisons_see_only_published_rankings_of_their_own_category(world: World, client: Client) -> None:
    stored = {r.category_id: r for r in _compute(world)}
    mine, theirs = stored[world.category.pk], stored[world.other_category.pk]
    client.force_login(world.liaisons[world.units[0].pk])
    assert client.get(reverse("race:ranking_detail", args=[mine.pk])).status_code == 404  # not published
    ranking.ranking_publish(actor=world.office, ranking=mine)
    ranking.ranking_publish(actor=world.office, ranking=theirs)
    page = client.get(reverse("race:ranking_detail", args=[mine.pk]))
    assert page.status_code == 200 and "县4" in page.content.decode()
    assert client.get(reverse("race:ranking_detail", args=[theirs.pk])).status_code == 404
    listing = client.get(reverse("race:ranking_list") + "?year=2026").content.decode()
    assert reverse("race:ranking_detail", args=[mine.pk]) in listing
    assert reverse("race:ranking_detail", args=[theirs.pk]) not in listing


def test_only_the_office_publishes_and_the_auditor_reads_drafts(world: World, client: Client) -> None:
    mine = next(r for r in _compute(world) if r.category_id == world.category.pk)
    client.force_login(world.auditor)
    assert client.get(reverse("race:ranking_detail", args=[mine.pk])).status_code == 200
    assert client.post(reverse("race:ranking_publish", args=[mine.pk])).status_code == 403
    client.force_login(world.leader)
    assert client.get(reverse("race:ranking_detail", args=[mine.pk])).status_code == 404
    assert client.post(reverse("race:ranking_publish", args=[mine.pk])).status_code == 403
    client.force_login(world.office)
    assert client.post(reverse("race:ranking_publish", args=[mine.pk])).status_code == 302
    assert MonthlyRanking.objects.get(pk=mine.pk).is_published


def test_the_ranking_page_shows_the_movement_with_arrows(world: World, client: Client) -> None:
    _compute(world)
    race_world.grade(world, world.units[4], APRIL, [ProgressGrade.COMPLETED, ProgressGrade.COMPLETED])
    race_world.grade(world, world.units[0], APRIL, [ProgressGrade.BEHIND, ProgressGrade.BEHIND])
    april = next(r for r in _compute(world, APRIL) if r.category_id == world.category.pk)
    client.force_login(world.office)
    page = client.get(reverse("race:ranking_detail", args=[april.pk])).content.decode()
    assert "↑ 4" in page and "↓ 1" in page


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


def test_the_ranking_page_runs_the_same_number_of_queries_for_more_units(client: Client) -> None:
    small = race_world.build(units=3)
    race_world.grade_all(small, MARCH)
    first = next(r for r in _compute(small) if r.category_id == small.category.pk)
    client.force_login(small.office)
    few = _queries(client, reverse("race:ranking_detail", args=[first.pk]))
    extra = [race_world.UnitFactory(category=small.category) for _ in range(12)]
    for unit in extra:
        small.indicators[unit.pk] = race_world._declare(
            small.cycle, unit, small.indicators[small.units[0].pk][0].parent, None
        )
        race_world.grade(small, unit, MARCH, [ProgressGrade.ON_SCHEDULE])
    MonthlyRankingRow.objects.all().delete()
    again = next(r for r in _compute(small) if r.category_id == small.category.pk)
    assert again.unit_count == 15
    assert _queries(client, reverse("race:ranking_detail", args=[again.pk])) == few
