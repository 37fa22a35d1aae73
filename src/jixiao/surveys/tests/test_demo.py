from __future__ import annotations

import numpy as np
import pytest

from jixiao.facts.models import EvaluationScore
from jixiao.organisation.tests.factories import OfficialFactory, UnitFactory
from jixiao.schemes.tests.factories import CycleFactory
from jixiao.surveys.demo import demo_survey_year
from jixiao.surveys.models import ServiceRating, SurveyResponse

pytestmark = pytest.mark.django_db


def test_the_demo_year_creates_a_survey_per_unit_answers_ratings_and_facts() -> None:
    units = UnitFactory.create_batch(3)
    OfficialFactory(unit=units[0])
    report = demo_survey_year(CycleFactory(year=2025), np.random.default_rng(7), answers=600, events=50)
    # 600 answers plus a burst of 12 from one address, of which the 7 beyond the limit of 5 are
    # marked suspect and left out of the facts.
    assert report.surveys == 3 and SurveyResponse.objects.count() == report.answers == 612
    assert report.suspect == SurveyResponse.objects.filter(suspect=True).count() == 7
    assert report.ratings == ServiceRating.objects.count() > 20
    assert report.facts.survey_rows == 605
    assert EvaluationScore.objects.filter(source__startswith="survey:").count() == 605
    assert EvaluationScore.objects.filter(source__startswith="rate:").count() == report.ratings
    assert not SurveyResponse.objects.filter(opinion__contains="13812345678").exists()
