"""The anonymous survey page: answers land as points, and a citizen never sees a raw error."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import DatabaseError
from django.test import Client, override_settings
from django.urls import reverse

from jixiao.surveys.antiabuse import DEVICE_COOKIE
from jixiao.surveys.models import SurveyResponse, SurveyTarget
from jixiao.surveys.tests.factories import survey_with_questions

pytestmark = pytest.mark.django_db


def _url(target: SurveyTarget) -> str:
    return reverse("surveys:public_survey", args=[target.token])


def _visit(client: Client, target: SurveyTarget) -> None:
    """Open the page as a citizen does, which hands out the device cookie."""
    response = client.get(_url(target))
    assert response.status_code == 200
    assert DEVICE_COOKIE in response.cookies


def test_page_is_chinese_and_needs_no_login() -> None:
    target = survey_with_questions()
    response = Client().get(_url(target))
    assert response.status_code == 200
    body = response.content.decode()
    for label in ("很满意", "满意", "基本满意", "不太满意", "不满意", "提交"):
        assert label in body
    assert "width=device-width" in body


def test_an_answer_is_stored_as_points_on_the_scale_with_tags_and_a_deidentified_opinion() -> None:
    target = survey_with_questions()
    client = Client(enforce_csrf_checks=True)  # the public form works without a CSRF token
    _visit(client, target)
    response = client.post(
        _url(target),
        {
            "q_overall": "0",
            "q_attitude": "3",
            "tag": ["态度热情", "不存在的标签"],
            "opinion": "很好，电话13812345678",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("surveys:public_thanks", args=[target.token])
    answer = SurveyResponse.objects.get()
    assert answer.points == {"overall": 100, "attitude": 30}
    assert answer.tags == ["态度热情"]
    assert answer.opinion == "很好，电话[电话已隐去]"
    assert answer.device and len(answer.device) == 24


def test_an_uncounted_option_is_left_out_of_the_points() -> None:
    target = survey_with_questions(
        scale=[
            {"label": "满意", "points": 100},
            {"label": "不满意", "points": 0},
            {"label": "不了解", "points": None},
        ]
    )
    response = Client().post(_url(target), {"q_overall": "2", "q_attitude": "1"})
    assert response.status_code == 302
    assert SurveyResponse.objects.get().points == {"attitude": 0}


def test_a_missing_answer_shows_the_form_again_with_a_friendly_message_and_keeps_the_choices() -> None:
    target = survey_with_questions()
    response = Client().post(_url(target), {"q_overall": "1", "q_attitude": "9", "opinion": "我的意见"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "还有题目没有选择" in body
    assert "我的意见" in body
    assert not SurveyResponse.objects.exists()


def test_a_second_answer_from_the_same_device_is_thanked_but_not_counted() -> None:
    target = survey_with_questions()
    client = Client()
    _visit(client, target)
    assert client.post(_url(target), {"q_overall": "0", "q_attitude": "0"}).status_code == 302
    again = client.post(_url(target), {"q_overall": "4", "q_attitude": "4"})
    assert again.status_code == 200
    assert "不重复计入" in again.content.decode()
    assert SurveyResponse.objects.count() == 1


def test_the_same_device_may_answer_again_in_the_next_window() -> None:
    target = survey_with_questions(dedupe_hours=1)
    client = Client()
    _visit(client, target)
    with mock.patch("jixiao.surveys.submit.timezone.now") as now:
        from datetime import UTC, datetime

        now.return_value = datetime(2025, 5, 1, 9, 10, tzinfo=UTC)
        client.post(_url(target), {"q_overall": "0", "q_attitude": "0"})
        now.return_value = datetime(2025, 5, 1, 10, 10, tzinfo=UTC)
        client.post(_url(target), {"q_overall": "0", "q_attitude": "0"})
    assert SurveyResponse.objects.count() == 2


def test_without_a_device_cookie_answers_are_accepted_and_not_deduplicated() -> None:
    target = survey_with_questions()
    for _ in range(2):
        assert Client().post(_url(target), {"q_overall": "0", "q_attitude": "0"}).status_code == 302
    assert SurveyResponse.objects.filter(device__isnull=True).count() == 2


def test_a_forged_device_cookie_counts_as_no_cookie() -> None:
    target = survey_with_questions()
    client = Client()
    client.cookies[DEVICE_COOKIE] = "forged-value"
    assert client.post(_url(target), {"q_overall": "0", "q_attitude": "0"}).status_code == 302
    assert SurveyResponse.objects.get().device is None


@override_settings(JIXIAO_SURVEY_LIMIT_PER_DEVICE=(2, 0.0))
def test_too_many_submissions_from_one_device_get_a_friendly_429_page() -> None:
    first, second = survey_with_questions(), survey_with_questions()
    third = survey_with_questions()
    client = Client()
    _visit(client, first)
    for target in (first, second):
        assert client.post(_url(target), {"q_overall": "0", "q_attitude": "0"}).status_code == 302
    response = client.post(_url(third), {"q_overall": "0", "q_attitude": "0"})
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    body = response.content.decode()
    assert "请休息一两分钟后再试" in body and "Traceback" not in body and "<h1>Forbidden" not in body


@override_settings(JIXIAO_SURVEY_LIMIT_PER_ADDRESS=(3, 0.0))
def test_too_many_submissions_from_one_address_get_the_same_friendly_page() -> None:
    target = survey_with_questions(dedupe_hours=0)
    statuses = [
        Client().post(_url(target), {"q_overall": "0", "q_attitude": "0"}).status_code for _ in range(4)
    ]
    assert statuses == [302, 302, 302, 429]
    assert SurveyResponse.objects.count() == 3


def test_an_unknown_link_gets_a_friendly_404_page() -> None:
    response = Client().get(reverse("surveys:public_survey", args=["nosuchlink"]))
    assert response.status_code == 404
    assert "没有找到这份问卷" in response.content.decode()


def test_a_closed_survey_says_so_politely() -> None:
    target = survey_with_questions(is_open=False)
    response = Client().post(_url(target), {"q_overall": "0", "q_attitude": "0"})
    assert response.status_code == 200
    assert "调查已结束" in response.content.decode()
    assert not SurveyResponse.objects.exists()


def test_a_database_failure_shows_a_friendly_busy_page_not_a_500() -> None:
    target = survey_with_questions()
    with mock.patch("jixiao.surveys.public.response_insert", side_effect=DatabaseError("down")):
        response = Client().post(_url(target), {"q_overall": "0", "q_attitude": "0"})
    assert response.status_code == 503
    assert "系统暂时繁忙" in response.content.decode()


def test_the_thank_you_page_names_the_unit() -> None:
    target = survey_with_questions()
    response = Client().get(reverse("surveys:public_thanks", args=[target.token]))
    assert response.status_code == 200
    assert target.unit.name in response.content.decode()


def test_submit_is_a_single_insert_once_the_link_is_cached(django_assert_max_num_queries: object) -> None:
    target = survey_with_questions()
    client = Client()
    _visit(client, target)  # warms this worker's cache of the link
    with django_assert_max_num_queries(1):  # type: ignore[operator]
        assert client.post(_url(target), {"q_overall": "0", "q_attitude": "1"}).status_code == 302
