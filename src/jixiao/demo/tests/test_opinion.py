from __future__ import annotations

import pytest

from jixiao.demo.generator import generate
from jixiao.evaluations.models import EvaluationEvent
from jixiao.facts.models import EvaluationScore
from jixiao.results.services import run_compute
from jixiao.schemes.models import Cycle
from jixiao.surveys.models import Survey

pytestmark = pytest.mark.django_db(transaction=True)


def test_demo_has_a_closed_evaluation_and_a_year_of_survey_answers_that_feed_the_engine() -> None:
    generate(scale="tiny", seed=5)
    for cycle in Cycle.objects.filter(year__lte=2025):  # 2026 is the year in progress
        event = EvaluationEvent.objects.get(cycle=cycle)
        assert event.status == "closed"
        assert EvaluationScore.objects.filter(cycle=cycle, source=f"evaluation:{event.pk}").exists()
        assert Survey.objects.filter(cycle=cycle).exists()
        assert EvaluationScore.objects.filter(cycle=cycle, source__startswith="survey:").exists()
    run = run_compute(cycle=Cycle.objects.get(year=2025), actor=None)
    assert run.entity_count > 0
