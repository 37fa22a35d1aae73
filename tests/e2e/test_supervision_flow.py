"""A supervision task in a real browser (Debian Chromium): the office assigns it, the lead unit's
liaison signs and reports it done, the office rates it 未办结, and after the next run the unit's
breakdown shows the 3 points deducted with the task's number as their source."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from jixiao.accounts.models import Role, User
from jixiao.facts.models import IndicatorResult
from jixiao.organisation.tests.factories import CategoryFactory, UnitFactory, UserFactory
from jixiao.results.models import EntityResult
from jixiao.results.services import run_compute
from jixiao.schemes.models import Component
from jixiao.schemes.tests.factories import IndicatorFactory, SchemeFactory
from jixiao.supervision.models import SupervisionTask
from jixiao.tracking.tests.factories import TrackingCycleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-Jixiao-2025"
SCREENSHOT = Path("/tmp/supervision_task.png")


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "locale": "zh-CN"}


def _log_in(page: Page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(base + reverse("accounts:login"))
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form.stacked button[type=submit]").click()


def test_a_task_from_assignment_to_the_deduction_in_the_units_breakdown(
    live_server: object, page: Page
) -> None:
    base = str(live_server)
    cycle = TrackingCycleFactory(year=2026)
    category = CategoryFactory(name="市直部门")
    scheme = SchemeFactory(cycle=cycle, category=category)
    annual = Component.objects.create(scheme=scheme, code="annual", name="年度实绩", weight=Decimal("100"))
    leaf = IndicatorFactory(component=annual, rule_type="completion", rule_params={"cap": 1.0})
    lead = UnitFactory(name="市住建局", category=category)
    UnitFactory(name="市水利局", category=category)
    for unit in lead.category.units.all():
        IndicatorResult.objects.create(cycle=cycle, unit=unit, indicator=leaf, value=90, target=100)
    UserFactory(username="office", role=Role.OFFICE)
    UserFactory(username="liaison", role=Role.LIAISON, unit=lead)

    # The office assigns the task through the form.
    _log_in(page, base, "office")
    page.goto(base + reverse("supervision:task_list") + "?year=2026")
    page.get_by_role("link", name="交办督查事项").click()
    form = page.locator("#task-form")
    form.locator("input[name=title]").fill("老旧小区改造")
    form.locator("select[name=source]").select_option("meeting")
    form.locator("select[name=lead_unit]").select_option(str(lead.pk), force=True)
    form.locator("input[name=deadline]").fill("2026-12-31")
    form.get_by_role("button", name="交办").click()
    expect(page.locator("h1")).to_contain_text("老旧小区改造")
    task = SupervisionTask.objects.get()

    # The liaison finds it in the inbox and on its list, signs and reports it done.
    _log_in(page, base, "liaison")
    page.goto(base + reverse("supervision:task_list"))
    page.get_by_role("link", name="老旧小区改造").click()
    page.locator("#sign").click()
    expect(page.locator("#task-status")).to_contain_text("办理中")
    report = page.locator("#report-form")
    report.locator("textarea[name=text]").fill("改造全部完成，已通过验收")
    report.locator("input[name=progress]").fill("100")
    report.locator("input[name=final]").check()
    report.get_by_role("button", name="报送").click()
    expect(page.locator("#task-status")).to_contain_text("已报结待审核")
    expect(page.locator("#reports")).to_contain_text("改造全部完成")

    # The office rates it; the deduction is a fact with the task as its source.
    _log_in(page, base, "office")
    page.goto(base + reverse("supervision:task_detail", args=[task.pk]))
    page.locator("#rate-form").get_by_label("未办结（扣 3 分）").check()
    page.locator("#rate-form").get_by_role("button", name="评定").click()
    expect(page.locator("#task-rating")).to_contain_text("扣 3 分")
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    run = run_compute(cycle=cycle, actor=User.objects.get(username="office"))
    result = EntityResult.objects.get(run=run, unit=lead)
    page.goto(base + reverse("results:breakdown", args=[result.pk]))
    body = page.locator("main")
    expect(body).to_contain_text(f"督查督办 {task.number}")
    expect(body).to_contain_text("老旧小区改造")
