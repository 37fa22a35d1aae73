"""A citizen answers a survey on a phone-sized screen (Debian Chromium through Playwright)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from jixiao.surveys.antiabuse import Limiters
from jixiao.surveys.models import SurveyResponse
from jixiao.surveys.submit import forget_snapshots
from jixiao.surveys.tests.factories import survey_with_questions

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOT = "/tmp/survey-mobile.png"


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_context_args,
        "locale": "zh-CN",
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    }


def test_a_citizen_answers_every_question_on_a_phone_and_sees_the_thank_you_page(
    live_server: object, page: Page
) -> None:
    Limiters.reset()
    forget_snapshots()
    target = survey_with_questions(items=("overall", "speed"), title="政务服务满意度调查")
    page.goto(str(live_server) + reverse("surveys:public_survey", args=[target.token]))
    expect(page.get_by_role("heading", name="政务服务满意度调查")).to_be_visible()
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.locator("#q-overall").get_by_text("很满意", exact=True).tap()
    page.locator("#q-speed").get_by_text("基本满意", exact=True).tap()
    page.get_by_text("态度热情", exact=True).tap()
    page.locator("textarea[name=opinion]").fill("窗口服务很好，我的电话13912345678")
    page.screenshot(path=SCREENSHOT, full_page=True)
    page.get_by_role("button", name="提交").tap()

    expect(page.get_by_role("heading", name="感谢您的评价")).to_be_visible()
    answer = SurveyResponse.objects.get()
    assert answer.points == {"overall": 100, "speed": 60}
    assert answer.tags == ["态度热情"]
    assert answer.opinion == "窗口服务很好，我的电话[电话已隐去]"


def test_a_citizen_who_skips_a_question_is_shown_which_one(live_server: object, page: Page) -> None:
    Limiters.reset()
    forget_snapshots()
    target = survey_with_questions(items=("overall", "speed"))
    page.goto(str(live_server) + reverse("surveys:public_survey", args=[target.token]))
    page.locator("#q-overall").get_by_text("满意", exact=True).tap()
    # Bypass the browser's own "required" bubble to see the server's friendly message.
    page.evaluate("document.getElementById('survey-form').noValidate = true")
    page.get_by_role("button", name="提交").tap()
    expect(page.get_by_role("alert")).to_contain_text("还有题目没有选择")
    expect(page.locator("#q-speed")).to_have_class("q miss")
    expect(page.locator("#q-overall input:checked")).to_have_count(1)
    assert not SurveyResponse.objects.exists()
