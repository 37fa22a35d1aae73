"""Pushing survey answers, ratings or a firm's results into a closed cycle's facts is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jixiao.accounts.models import Role
from jixiao.facts.models import EvaluationScore
from jixiao.organisation.tests.factories import UnitFactory, UserFactory
from jixiao.schemes.lifecycle import CycleLocked
from jixiao.schemes.models import Cycle, CycleStatus
from jixiao.schemes.tests.factories import CycleFactory
from jixiao.surveys import engine
from jixiao.surveys.models import SurveyResponse
from jixiao.surveys.tests.factories import RaterGroupFactory, survey_with_questions
from jixiao.surveys.tests.test_thirdparty import workbook
from jixiao.surveys.thirdparty import third_party_import

pytestmark = pytest.mark.django_db

LOCKED = "2025 年度考核已结束，数据只读；如需修改请由考核办重新开启"


def test_closed_cycle_refuses_pushing_survey_answers_and_ratings_into_its_facts() -> None:
    target = survey_with_questions(cycle__year=2025)
    cycle = target.survey.cycle
    RaterGroupFactory(cycle=cycle, code="public")
    SurveyResponse.objects.create(
        survey=target.survey, target=target, points={"overall": 90}, bucket=1,
        created_at=datetime(2025, 6, 1, tzinfo=UTC),
    )  # fmt: skip
    Cycle.objects.filter(pk=cycle.pk).update(status=CycleStatus.CLOSED)
    with pytest.raises(CycleLocked, match=LOCKED):
        engine.survey_push_to_facts(survey=target.survey)
    with pytest.raises(CycleLocked, match=LOCKED):
        engine.cycle_push_to_facts(cycle=cycle)
    assert not EvaluationScore.objects.exists()


def test_closed_cycle_refuses_a_third_party_import() -> None:
    cycle = CycleFactory(year=2025, status=CycleStatus.CLOSED)
    RaterGroupFactory(cycle=cycle, code="third_party")
    UnitFactory(code="A01")
    outcome = third_party_import(
        actor=UserFactory(role=Role.OFFICE),
        cycle=cycle,
        content=workbook([["A01", "overall", 420, 86.5]]),
        filename="firm.xlsx",
    )
    assert [e.message for e in outcome.errors] == [LOCKED]
    assert not EvaluationScore.objects.exists()
