"""factory_boy factories and small builders for surveys and rate-any-time."""

from __future__ import annotations

import factory

from jixiao.organisation.tests.factories import UnitFactory
from jixiao.schemes.models import RaterGroup
from jixiao.schemes.tests.factories import CycleFactory
from jixiao.surveys.models import Survey, SurveyQuestion, SurveyTarget


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey

    cycle = factory.SubFactory(CycleFactory)
    title = factory.Sequence(lambda n: f"群众满意度调查{n}")


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyQuestion

    survey = factory.SubFactory(SurveyFactory)
    item = factory.Sequence(lambda n: f"item{n}")
    text = factory.Sequence(lambda n: f"题目{n}")
    order = factory.Sequence(lambda n: n)


class TargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyTarget

    survey = factory.SubFactory(SurveyFactory)
    unit = factory.SubFactory(UnitFactory)
    token = factory.Sequence(lambda n: f"tok{n:09d}")


class RaterGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RaterGroup
        django_get_or_create = ("cycle", "code")

    cycle = factory.SubFactory(CycleFactory)
    code = "public"
    name = factory.LazyAttribute(lambda o: o.code)


def survey_with_questions(items: tuple[str, ...] = ("overall", "attitude"), **kwargs: object) -> SurveyTarget:
    """A survey with the default scale, the given question items and one link; returns the link."""
    survey = SurveyFactory(**kwargs)
    for order, item in enumerate(items):
        QuestionFactory(survey=survey, item=item, text=f"{item}？", order=order)
    return TargetFactory(survey=survey)
