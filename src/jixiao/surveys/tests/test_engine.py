"""Survey answers and ratings into facts.EvaluationScore: one row per answer, idempotent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from jixiao.accounts.models import AuditLog
from jixiao.facts.models import EvaluationScore
from jixiao.organisation.tests.factories import OfficialFactory
from jixiao.surveys import engine
from jixiao.surveys.models import ServiceEvent, ServiceRating, SurveyResponse
from jixiao.surveys.tests.factories import RaterGroupFactory, TargetFactory, survey_with_questions

pytestmark = pytest.mark.django_db
WHEN = datetime(2025, 6, 1, 12, tzinfo=UTC)


def _answers(target: object, *points: dict[str, int]) -> None:
    SurveyResponse.objects.bulk_create(
        [
            SurveyResponse(survey_id=target.survey_id, target=target, points=p, bucket=i, created_at=WHEN)
            for i, p in enumerate(points)
        ]  # type: ignore[attr-defined]
    )


def test_each_answer_becomes_one_fact_row_with_one_ballot_and_rerunning_replaces_them() -> None:
    target = survey_with_questions(cycle__year=2025)
    RaterGroupFactory(cycle=target.survey.cycle, code="public")
    _answers(target, {"overall": 100, "attitude": 80}, {"overall": 30})
    SurveyResponse.objects.create(
        survey=target.survey, target=target, points={"overall": 0}, is_valid=False, bucket=9, created_at=WHEN
    )
    assert engine.survey_push_to_facts(survey=target.survey) == 3
    rows = EvaluationScore.objects.filter(source=f"survey:{target.survey_id}")
    assert sorted(rows.values_list("item", "score", "ballots", "rater_group", "unit_id", "official_id")) == [
        ("attitude", 80.0, 1, "public", target.unit_id, None),
        ("overall", 30.0, 1, "public", target.unit_id, None),
        ("overall", 100.0, 1, "public", target.unit_id, None),
    ]
    _answers(target, {"overall": 60})
    assert engine.survey_push_to_facts(survey=target.survey) == 4
    assert engine.survey_push_to_facts(survey=target.survey) == 4
    assert rows.count() == 4


def test_a_link_for_an_official_lands_on_the_official_only() -> None:
    official = OfficialFactory()
    base = survey_with_questions(items=("overall",))
    RaterGroupFactory(cycle=base.survey.cycle, code="public")
    target = TargetFactory(survey=base.survey, unit=official.unit, official=official)
    _answers(target, {"overall": 80})
    engine.survey_push_to_facts(survey=base.survey)
    row = EvaluationScore.objects.get()
    assert (row.unit_id, row.official_id) == (None, official.pk)


def test_other_sources_are_left_alone() -> None:
    target = survey_with_questions()
    RaterGroupFactory(cycle=target.survey.cycle, code="public")
    EvaluationScore.objects.create(
        cycle=target.survey.cycle,
        unit=target.unit,
        rater_group="public",
        item="overall",
        score=50,
        source="manual",
    )
    _answers(target, {"overall": 80})
    engine.survey_push_to_facts(survey=target.survey)
    engine.survey_push_to_facts(survey=target.survey)
    assert EvaluationScore.objects.filter(source="manual").count() == 1


def test_a_missing_rater_group_is_refused_and_nothing_changes() -> None:
    target = survey_with_questions()
    _answers(target, {"overall": 80})
    with pytest.raises(ValidationError):
        engine.survey_push_to_facts(survey=target.survey)
    assert not EvaluationScore.objects.exists()


def test_ratings_of_the_cycle_year_land_as_ten_times_the_score_on_the_policy_items() -> None:
    official = OfficialFactory()
    target = survey_with_questions(cycle__year=2025)
    cycle = target.survey.cycle
    RaterGroupFactory(cycle=cycle, code="public")
    for i, (who, score, when) in enumerate(
        [(None, 9, WHEN), (official, 7, WHEN), (None, 3, datetime(2024, 12, 31, 15, 59, tzinfo=UTC))]
    ):
        unit = official.unit
        event = ServiceEvent.objects.create(
            unit=unit, official=who, service="s", occurred_at=when, token_hash=f"h{i}", expires_at=when
        )
        ServiceRating.objects.create(event=event, unit=unit, official=who, score=score, created_at=when)
    report = engine.cycle_push_to_facts(cycle=cycle)
    assert report.rating_rows == 2  # 2024-12-31 15:59 UTC is still 2024 in Asia/Shanghai
    rows = EvaluationScore.objects.filter(source=f"rate:{cycle.pk}")
    assert set(rows.values_list("unit_id", "official_id", "item", "score")) == {
        (official.unit_id, None, "overall", 90.0),
        (None, official.pk, "overall", 70.0),
    }
    engine.cycle_push_to_facts(cycle=cycle)
    assert rows.count() == 2
    assert AuditLog.objects.filter(action="import", object_type="schemes.cycle").count() == 2
