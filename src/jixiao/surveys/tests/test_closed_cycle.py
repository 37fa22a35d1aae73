"""A closed cycle refuses pushing survey answers, ratings or a firm's results into its facts, and
every office change to its surveys and their links."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import Role, User
from jixiao.facts.models import EvaluationScore
from jixiao.organisation.tests.factories import UnitFactory, UserFactory
from jixiao.schemes.lifecycle import CycleLocked
from jixiao.schemes.models import Cycle, CycleStatus
from jixiao.schemes.tests.factories import CycleFactory
from jixiao.surveys import engine, services
from jixiao.surveys.models import Survey, SurveyResponse, SurveyTarget
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


def _survey_data(cycle: Cycle, title: str = "2025年政务服务满意度") -> services.SurveyData:
    return services.SurveyData(
        cycle=cycle,
        title=title,
        intro="",
        scale=[{"label": "满意", "points": 100}, {"label": "不满意", "points": 0}],
        tags=[],
        questions=[("overall", "总体满意度")],
    )


def _office_writes(target: SurveyTarget, office: User) -> dict[str, Callable[[], object]]:
    survey, cycle = target.survey, target.survey.cycle
    return {
        "survey_create": lambda: services.survey_create(
            actor=office, data=_survey_data(cycle), unit_ids=[target.unit_id]
        ),
        "survey_update": lambda: services.survey_update(
            actor=office, survey=survey, data=_survey_data(cycle, title="改名")
        ),
        "target_add": lambda: services.target_add(
            actor=office, survey=survey, unit=UnitFactory(), service_point="窗口"
        ),
        "target_set_active": lambda: services.target_set_active(actor=office, target=target, active=False),
    }


def _survey_state() -> tuple[object, ...]:
    return (
        list(Survey.objects.order_by("pk").values_list("pk", "title", "cycle_id")),
        list(SurveyTarget.objects.order_by("pk").values_list("pk", "is_active")),
    )


@pytest.mark.parametrize("write", ["survey_create", "survey_update", "target_add", "target_set_active"])
def test_closed_cycle_refuses_every_change_to_its_surveys(write: str) -> None:
    target = survey_with_questions(cycle__year=2025)
    office = UserFactory(role=Role.OFFICE)
    writes = _office_writes(target, office)
    before = _survey_state()
    Cycle.objects.filter(pk=target.survey.cycle_id).update(status=CycleStatus.CLOSED)
    with pytest.raises(CycleLocked, match=LOCKED):
        writes[write]()
    assert _survey_state() == before


def test_a_survey_cannot_be_moved_out_of_or_into_a_closed_cycle() -> None:
    target = survey_with_questions(cycle__year=2025)
    office = UserFactory(role=Role.OFFICE)
    closed, open_ = target.survey.cycle, CycleFactory(year=2026)
    Cycle.objects.filter(pk=closed.pk).update(status=CycleStatus.CLOSED)
    with pytest.raises(CycleLocked, match=LOCKED):
        services.survey_update(actor=office, survey=target.survey, data=_survey_data(open_))
    other = survey_with_questions(cycle=open_).survey
    with pytest.raises(CycleLocked, match=LOCKED):
        services.survey_update(actor=office, survey=other, data=_survey_data(Cycle.objects.get(pk=closed.pk)))
    assert list(Survey.objects.order_by("pk").values_list("cycle_id", flat=True)) == [closed.pk, open_.pk]


def test_closed_cycle_refusals_show_the_chinese_message_on_the_survey_pages(client: Client) -> None:
    target = survey_with_questions(cycle__year=2025)
    survey = target.survey
    Cycle.objects.filter(pk=survey.cycle_id).update(status=CycleStatus.CLOSED)
    client.force_login(UserFactory(role=Role.OFFICE))
    form = {
        "cycle": survey.cycle_id,
        "title": "改名",
        "questions": "overall|总体满意度\nattitude|服务态度",
        "scale": "满意=100\n不满意=0",
        "rater_group": "public",
        "dedupe_hours": "24",
        "limit_hours": "24",
        "address_limit": "5",
        "device_limit": "20",
    }
    responses = {
        "create": client.post(reverse("surveys:survey_create"), {**form, "title": "新调查"}),
        "edit": client.post(reverse("surveys:survey_edit", args=[survey.pk]), form),
        "target_add": client.post(
            reverse("surveys:target_add", args=[survey.pk]), {"unit": target.unit_id, "service_point": "窗口"},
            follow=True,
        ),
        "target_toggle": client.post(reverse("surveys:target_toggle", args=[target.pk]), follow=True),
    }  # fmt: skip
    for name, response in responses.items():
        assert response.status_code == 200, name
        assert LOCKED in response.content.decode(), name
    assert _survey_state() == ([(survey.pk, survey.title, survey.cycle_id)], [(target.pk, True)])


def test_a_closed_cycles_survey_page_offers_no_change_and_says_why(client: Client) -> None:
    target = survey_with_questions(cycle__year=2025)
    Cycle.objects.filter(pk=target.survey.cycle_id).update(status=CycleStatus.CLOSED)
    client.force_login(UserFactory(role=Role.OFFICE))
    page = client.get(reverse("surveys:survey_detail", args=[target.survey_id])).content.decode()
    assert 'id="cycle-locked"' in page
    assert reverse("surveys:survey_edit", args=[target.survey_id]) not in page
    assert reverse("surveys:target_toggle", args=[target.pk]) not in page
    assert reverse("surveys:target_add", args=[target.survey_id]) not in page
