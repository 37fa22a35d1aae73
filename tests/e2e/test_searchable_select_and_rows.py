"""Long selects are searchable (type, pick) and rule steps are edited in a small table."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from jixiao.accounts.models import Role
from jixiao.facts.models import Adjustment
from jixiao.organisation.tests.factories import OfficialFactory, UnitFactory, UserFactory
from jixiao.schemes.models import IndicatorNode
from jixiao.schemes.tests.factories import ComponentFactory, CycleFactory, IndicatorFactory, SchemeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-Jixiao-2025"  # the UserFactory default


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "locale": "zh-CN"}


def _log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(base_url + reverse("accounts:login"))
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form.stacked button[type=submit]").click()
    expect(page.locator(".userbox .who")).to_be_visible()


def test_office_types_in_the_official_select_and_picks_one(live_server: object, page: Page) -> None:
    base = str(live_server)
    CycleFactory(year=2025)
    UserFactory(username="office", role=Role.OFFICE)
    for n in range(40):
        OfficialFactory(unit=UnitFactory(name=f"第{n}县"), name=f"干部{n:02d}")
    wanted = OfficialFactory(unit=UnitFactory(name="福林市财政局"), name="王小明", code="G-77")
    _log_in(page, base, "office")
    page.goto(base + reverse("facts:adjustment_create") + "?year=2025")
    page.locator("select[name=kind]").select_option("sanction")
    page.locator("#id_official + .ts-wrapper .ts-control").click()
    page.keyboard.type("王小")
    option = page.locator(".ts-dropdown .option", has_text="王小明（G-77）")
    expect(option).to_be_visible()
    expect(page.locator(".ts-dropdown .optgroup-header", has_text="福林市财政局")).to_be_visible()
    expect(page.locator(".ts-dropdown .option", has_text="干部01")).to_have_count(0)
    option.click()
    page.locator("select[name=sanction]").select_option("admonish")
    page.locator("input[name=source]").fill("纪检")
    page.locator("textarea[name=reason]").fill("诫勉谈话")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".messages")).to_contain_text("已录入")
    assert Adjustment.objects.get().official == wanted


def test_office_edits_rule_steps_in_the_table(live_server: object, page: Page) -> None:
    base = str(live_server)
    UserFactory(username="office", role=Role.OFFICE)
    scheme = SchemeFactory(cycle=CycleFactory(year=2025))
    component = ComponentFactory(scheme=scheme, name="年度实绩", weight=Decimal("100"))
    node = IndicatorFactory(scheme=scheme, component=component, name="招商引资", weight=100)
    _log_in(page, base, "office")
    page.goto(base + reverse("schemes:indicator_edit", args=[node.pk]))
    page.locator("select[name=rule_type]").select_option("steps")
    table = page.locator('.rows-table[data-rows="rp__steps__steps"]')
    expect(table).to_be_visible()
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(1)  # with the script, one blank row to start
    add = table.get_by_role("button", name="添加一行")
    for threshold, rate in (("100", "1"), ("90", "0.9"), ("80", "0.8")):
        last = rows.last
        last.locator("input[name=rp__steps__steps__min]").fill(threshold)
        last.locator("input[name=rp__steps__steps__rate]").fill(rate)
        add.click()
    expect(rows).to_have_count(4)
    rows.nth(1).get_by_role("button", name="删除此行").click()  # drop the 90 step
    expect(rows).to_have_count(3)
    page.locator("select[name=rp__steps__on]").select_option("ratio")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".messages")).to_contain_text("已保存指标")
    node = IndicatorNode.objects.get(pk=node.pk)
    assert node.rule_type == "steps"
    assert node.rule_params == {"steps": [[100.0, 1.0], [80.0, 0.8]], "on": "ratio"}
