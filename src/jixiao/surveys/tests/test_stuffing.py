"""Survey stuffing: answers beyond a survey's per-address or per-device limit are kept, marked
suspect with a reason, left out of the facts and counted for the office — never refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jixiao.accounts.models import Role
from jixiao.facts.models import EvaluationScore
from jixiao.organisation.tests.factories import UserFactory
from jixiao.surveys import antiabuse, engine, monitor, services
from jixiao.surveys.models import Survey, SurveyResponse, SurveyTarget, SuspectReason
from jixiao.surveys.tests.factories import RaterGroupFactory, TargetFactory, survey_with_questions

pytestmark = pytest.mark.django_db

ANSWER = {"q_overall": "0", "q_attitude": "1"}


def _fresh_session_answers(target: SurveyTarget, n: int, address: str = "203.0.113.7") -> list[int]:
    """``n`` fresh browser sessions (new cookie jar each) open the link and answer from ``address``."""
    url = reverse("surveys:public_survey", args=[target.token])
    statuses = []
    for _ in range(n):
        client = Client(REMOTE_ADDR=address)
        assert client.get(url).status_code == 200
        statuses.append(client.post(url, ANSWER).status_code)
    return statuses


def _pushed_rows(survey: Survey) -> int:
    RaterGroupFactory(cycle=survey.cycle, code=survey.rater_group)
    return engine.survey_push_to_facts(survey=survey)


def test_eight_fresh_sessions_from_one_address_count_up_to_the_limit_and_mark_the_rest_suspect() -> None:
    target = survey_with_questions()
    assert target.survey.address_limit == 5  # the default
    statuses = _fresh_session_answers(target, 8)
    assert statuses == [302] * 8  # nobody is refused
    answers = list(SurveyResponse.objects.order_by("created_at", "id"))
    assert [a.suspect for a in answers] == [False] * 5 + [True] * 3
    assert {a.suspect_reason for a in answers[5:]} == {SuspectReason.ADDRESS}
    assert all(a.address and len(a.address) == 24 and "203.0.113.7" not in a.address for a in answers)
    # Two questions per answer: only the five counted answers reach the facts.
    assert _pushed_rows(target.survey) == 5 * 2
    assert EvaluationScore.objects.filter(source=engine.survey_source(target.survey.pk)).count() == 10


def test_eight_sessions_from_distinct_addresses_are_all_counted() -> None:
    target = survey_with_questions()
    for i in range(8):
        _fresh_session_answers(target, 1, address=f"198.51.100.{i + 1}")
    assert SurveyResponse.objects.filter(suspect=False).count() == 8
    assert _pushed_rows(target.survey) == 8 * 2


def test_the_address_limit_is_per_link_and_survey_data() -> None:
    target = survey_with_questions(address_limit=2)
    second = TargetFactory(survey=target.survey)
    _fresh_session_answers(target, 3)
    _fresh_session_answers(second, 2)
    assert SurveyResponse.objects.filter(target=target, suspect=True).count() == 1
    assert SurveyResponse.objects.filter(target=second, suspect=True).count() == 0


def test_a_limit_of_zero_counts_every_answer_of_a_kiosk() -> None:
    target = survey_with_questions(address_limit=0, dedupe_hours=0)
    _fresh_session_answers(target, 8)
    assert not SurveyResponse.objects.filter(suspect=True).exists()


def test_one_device_answering_more_links_than_its_limit_is_marked_device() -> None:
    survey = survey_with_questions(address_limit=0, device_limit=2).survey
    links = [TargetFactory(survey=survey) for _ in range(3)]
    client = Client(REMOTE_ADDR="192.0.2.1")
    for link in links:
        url = reverse("surveys:public_survey", args=[link.token])
        client.get(url)
        assert client.post(url, ANSWER).status_code == 302
    reasons = list(SurveyResponse.objects.order_by("id").values_list("suspect_reason", flat=True))
    assert reasons == ["", "", SuspectReason.DEVICE]


def test_the_limit_window_restarts_the_count() -> None:
    target = survey_with_questions(address_limit=1, limit_hours=1)
    _fresh_session_answers(target, 2)
    later = timezone.now() + timedelta(hours=2)
    SurveyResponse.objects.update(created_at=later - timedelta(hours=5))
    antiabuse.survey_mark_suspects(survey=target.survey)  # the two now share an old window
    assert SurveyResponse.objects.filter(suspect=True).count() == 1
    SurveyResponse.objects.filter(pk=SurveyResponse.objects.order_by("id").last().pk).update(  # type: ignore[union-attr]
        created_at=later
    )
    assert antiabuse.survey_mark_suspects(survey=target.survey) == 1  # the later one is counted again
    assert not SurveyResponse.objects.filter(suspect=True).exists()


def test_raising_the_limit_re_marks_the_stored_answers_and_the_push_follows() -> None:
    target = survey_with_questions()
    _fresh_session_answers(target, 8)
    survey = target.survey
    office = UserFactory(role=Role.OFFICE)
    data = services.SurveyData(
        cycle=survey.cycle,
        title=survey.title,
        intro="",
        scale=survey.scale,
        tags=survey.tags,
        questions=list(survey.questions.values_list("item", "text")),
        address_limit=10,
    )
    services.survey_update(actor=office, survey=survey, data=data)
    assert not SurveyResponse.objects.filter(suspect=True).exists()
    assert _pushed_rows(survey) == 8 * 2


def test_the_push_settles_a_race_that_let_one_answer_too_many_through() -> None:
    target = survey_with_questions(address_limit=2)
    _fresh_session_answers(target, 3)
    # As if two concurrent submits had both seen a count under the limit.
    SurveyResponse.objects.update(suspect=False, suspect_reason="")
    assert _pushed_rows(target.survey) == 2 * 2
    assert SurveyResponse.objects.filter(suspect=True).count() == 1


def test_the_office_sees_suspect_counts_and_the_rule_on_the_survey_page() -> None:
    target = survey_with_questions()
    _fresh_session_answers(target, 8)
    client = Client()
    client.force_login(UserFactory(role=Role.OFFICE))
    body = client.get(reverse("surveys:survey_detail", args=[target.survey.pk])).content.decode()
    assert '<div class="num" id="response-count">5</div>' in body
    assert '<div class="num" id="suspect-count">3</div>' in body
    assert "同一网络地址提交过多 3" in body
    assert "防刷票规则" in body


def test_a_liaison_sees_counted_answers_but_no_suspect_counts() -> None:
    target = survey_with_questions()
    _fresh_session_answers(target, 8)
    client = Client()
    client.force_login(UserFactory(role=Role.LIAISON, unit=target.unit))
    body = client.get(reverse("surveys:survey_detail", args=[target.survey.pk])).content.decode()
    assert '<div class="num" id="response-count">5</div>' in body
    assert "suspect-count" not in body


def test_suspect_answers_do_not_fill_the_sample_monitor() -> None:
    target = survey_with_questions()
    _fresh_session_answers(target, 8)
    counts = {f.entity_id: f.count for f in monitor.undersampled().flags if f.kind == "unit"}
    assert counts[target.unit_id] == 5
