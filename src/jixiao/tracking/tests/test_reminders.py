"""The tracking reminders: due and overdue reports to liaisons, ungraded reports to lead
departments, race explanations to liaisons — each once per due date, however often the job runs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from jixiao.accounts.models import Role
from jixiao.jobs.models import JobKind, JobStatus
from jixiao.jobs.periodic import PERIODIC
from jixiao.jobs.services import job_run_here
from jixiao.notifications.models import Notification
from jixiao.organisation.tests.factories import UserFactory
from jixiao.tracking import reminders
from jixiao.tracking.models import ExplanationStatus, ProgressReport, RaceExplanation, RaceRound, ReportStatus
from jixiao.tracking.tests import race_world
from jixiao.tracking.tests.race_world import World

pytestmark = pytest.mark.django_db
NOVEMBER = date(2026, 11, 1)
DUE = date(2026, 12, 5)  # November's reports, due on the 5th of December (the default)
BEFORE, AFTER = date(2026, 12, 2), date(2026, 12, 6)


@pytest.fixture
def world() -> World:
    return race_world.build(units=3)


def _causes(prefix: str) -> list[tuple[int, str]]:
    return sorted(Notification.objects.filter(cause__startswith=prefix).values_list("recipient_id", "cause"))


def test_liaisons_hear_of_reports_due_once_before_the_due_day_and_once_when_overdue(world: World) -> None:
    assert reminders.due_date(world.cycle, NOVEMBER) == DUE
    first = reminders.reminders_run(today=BEFORE)
    assert first.reports_due == 4  # three units of the category and the other category's liaison
    told = _causes("tracking.reports_due:")
    assert {r for r, _c in told} == {u.pk for u in world.liaisons.values()} | {world.other_liaison.pk}
    assert set(
        Notification.objects.filter(cause__startswith="tracking.reports_due:").values_list("due", flat=True)
    ) == {DUE}
    assert reminders.reminders_run(today=BEFORE).total == 0
    assert reminders.reminders_run(today=BEFORE + timedelta(days=1)).reports_due == 0
    assert _causes("tracking.reports_due:") == told
    assert reminders.reminders_run(today=AFTER).reports_due == 4
    assert reminders.reminders_run(today=AFTER + timedelta(days=1)).reports_due == 0
    assert len(_causes("tracking.reports_overdue:")) == 4


def test_nothing_is_said_too_early_or_to_a_unit_that_has_reported(world: World) -> None:
    assert reminders.reminders_run(today=date(2026, 12, 1)).reports_due == 0  # 4 days before
    done = world.units[0]
    for indicator in world.indicators[done.pk]:
        ProgressReport.objects.create(indicator=indicator, period=NOVEMBER, status=ReportStatus.SUBMITTED)
    reminders.reminders_run(today=BEFORE)
    told = {r for r, _c in _causes("tracking.reports_due:")}
    assert world.liaisons[done.pk].pk not in told and world.liaisons[world.units[1].pk].pk in told


def test_lead_departments_hear_of_ungraded_reports_once_the_due_day_has_passed(world: World) -> None:
    dept = UserFactory(role=Role.LEAD_DEPT, unit=world.others[0])  # leads every indicator of the world
    ProgressReport.objects.create(
        indicator=world.indicators[world.units[0].pk][0], period=NOVEMBER, status=ReportStatus.SUBMITTED
    )
    assert reminders.reminders_run(today=BEFORE).grading == 0
    assert reminders.reminders_run(today=AFTER).grading == 1
    assert reminders.reminders_run(today=AFTER + timedelta(days=3)).grading == 0
    assert _causes("tracking.grade_pending:") == [
        (dept.pk, f"tracking.grade_pending:{world.others[0].pk}:2026-11")
    ]


def test_race_explanations_are_reminded_before_the_deadline_and_when_overdue_once_each(world: World) -> None:
    deadline = date(2026, 12, 10)
    race = RaceRound.objects.create(cycle=world.cycle, category=world.category, quarter=3, deadline=deadline)
    owed = RaceExplanation.objects.create(race=race, unit=world.units[2], rank=3)
    RaceExplanation.objects.create(race=race, unit=world.units[1], rank=2, status=ExplanationStatus.ACCEPTED)
    liaison = world.liaisons[world.units[2].pk]
    assert reminders.reminders_run(today=date(2026, 12, 6)).explanations == 0
    assert reminders.reminders_run(today=date(2026, 12, 7)).explanations == 1
    assert reminders.reminders_run(today=date(2026, 12, 10)).explanations == 0
    assert reminders.reminders_run(today=date(2026, 12, 11)).explanations == 1
    assert reminders.reminders_run(today=date(2026, 12, 20)).explanations == 0
    assert _causes("tracking.race_") == [
        (liaison.pk, f"tracking.race_due:{owed.pk}"),
        (liaison.pk, f"tracking.race_overdue:{owed.pk}"),
    ]


def test_the_periodic_job_run_twice_notifies_once(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    assert JobKind.TRACKING_REMINDERS in {p.kind for p in PERIODIC}
    monkeypatch.setattr(reminders, "_today", lambda: BEFORE)
    first = job_run_here(kind=JobKind.TRACKING_REMINDERS, actor=None)
    assert first.status == JobStatus.SUCCEEDED, first.message
    count = Notification.objects.count()
    assert count == 4
    second = job_run_here(kind=JobKind.TRACKING_REMINDERS, actor=None)
    assert second.status == JobStatus.SUCCEEDED
    assert Notification.objects.count() == count
    assert "0" in second.message


def test_a_cycle_not_in_the_tracking_stage_gets_no_report_reminders(world: World) -> None:
    world.cycle.stage = "declaration"
    world.cycle.save()
    assert reminders.reminders_run(today=BEFORE).total == 0
