"""The sample monitor flags entities with fewer valid ratings than the threshold in the window."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from jixiao.organisation.tests.factories import OfficialFactory, UnitFactory
from jixiao.surveys.models import SampleReminder, ServiceEvent, ServiceRating, SurveyResponse
from jixiao.surveys.monitor import reminders_record, undersampled
from jixiao.surveys.ratetime import rating_policy
from jixiao.surveys.tests.factories import TargetFactory

pytestmark = pytest.mark.django_db


def _ratings(unit: object, n: int, official: object = None, days_ago: int = 1, valid: bool = True) -> None:
    when = timezone.now() - timedelta(days=days_ago)
    for _ in range(n):
        event = ServiceEvent.objects.create(
            unit=unit,
            official=official,
            service="s",
            occurred_at=when,
            token_hash=f"{ServiceEvent.objects.count()}-{id(object())}",
            expires_at=when,
        )
        ServiceRating.objects.create(
            event=event, unit=unit, official=official, score=8, created_at=when, is_valid=valid
        )


def _flagged() -> set[tuple[str, int]]:
    return {(f.kind, f.entity_id) for f in undersampled().flags}


def test_twenty_nine_ratings_are_flagged_and_thirty_are_not() -> None:
    short, enough = UnitFactory(), UnitFactory()
    _ratings(short, 29)
    _ratings(enough, 30)
    flagged = _flagged()
    assert ("unit", short.pk) in flagged and ("unit", enough.pk) not in flagged


def test_ratings_outside_the_window_and_invalid_ones_do_not_count() -> None:
    unit = UnitFactory()
    _ratings(unit, 20)
    _ratings(unit, 20, days_ago=200)
    _ratings(unit, 20, valid=False)
    assert ("unit", unit.pk) in _flagged()


def test_threshold_and_window_are_data() -> None:
    unit = UnitFactory()
    _ratings(unit, 5, days_ago=40)
    policy = rating_policy()
    policy.monitor_threshold, policy.monitor_window_days = 5, 60
    policy.save()
    assert ("unit", unit.pk) not in _flagged()
    policy.monitor_window_days = 30
    policy.save()
    assert ("unit", unit.pk) in _flagged()


def test_survey_answers_count_for_the_unit() -> None:
    target = TargetFactory()
    SurveyResponse.objects.bulk_create(
        [
            SurveyResponse(
                survey=target.survey,
                target=target,
                points={"overall": 80},
                bucket=i,
                created_at=timezone.now(),
            )
            for i in range(30)
        ]
    )
    assert ("unit", target.unit_id) not in _flagged()


def test_officials_who_serve_the_public_are_monitored_and_others_are_not() -> None:
    serving, office_bound = OfficialFactory(), OfficialFactory()
    _ratings(serving.unit, 3, official=serving)
    flagged = _flagged()
    assert ("official", serving.pk) in flagged and ("official", office_bound.pk) not in flagged


def test_reminders_are_recorded_once_per_entity_per_day_and_the_command_prints_them() -> None:
    unit = UnitFactory(name="样本少的局")
    _result, created = reminders_record()
    assert created == 1 and SampleReminder.objects.get().unit_id == unit.pk
    out = StringIO()
    call_command("surveys_monitor", stdout=out)
    assert "样本少的局" in out.getvalue() and "0 new reminders" in out.getvalue()
    assert SampleReminder.objects.count() == 1
