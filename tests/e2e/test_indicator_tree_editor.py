"""The indicator tree editor in a real browser (Debian Chromium through Playwright)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Locator, Page, expect

from jixiao.accounts.models import Role
from jixiao.organisation.tests.factories import UserFactory
from jixiao.schemes.models import IndicatorNode, Scheme
from jixiao.schemes.tests.factories import ComponentFactory, CycleFactory, IndicatorFactory, SchemeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # A Chinese browser, as our users have: Playwright's default en-US would pick English.
    return {**browser_context_args, "locale": "zh-CN"}


PASSWORD = "pw-Jixiao-2025"  # the UserFactory default
SCREENSHOT = "/tmp/tree-editor.png"


def _scheme() -> Scheme:
    """经济发展 with two children weighing 60 + 20 = 80: one weight problem to start with."""
    scheme = SchemeFactory(cycle=CycleFactory(year=2025), name="2025年县市绩效考核方案")
    component = ComponentFactory(scheme=scheme, name="年度实绩", weight=Decimal("100"))
    root = IndicatorFactory(scheme=scheme, component=component, name="经济发展", order=1)
    for order, (name, weight) in enumerate([("地方财政收入增长", 60), ("固定资产投资", 20)], start=1):
        IndicatorFactory(
            scheme=scheme, component=component, parent=root, name=name, weight=weight, order=order
        )
    return scheme


def _log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(base_url + reverse("accounts:login"))
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form.stacked button[type=submit]").click()
    expect(page.locator(".userbox .who")).to_be_visible()


def _node(page: Page, name: str) -> Locator:
    return page.locator(f'li.tree-item[data-name="{name}"]')


def _slot_form(page: Page, name: str) -> Locator:
    """The form htmx opened in the slot under the node called ``name``."""
    return page.locator(f"#slot-n-{IndicatorNode.objects.get(name=name).pk} form")


def test_office_adds_edits_and_reorders_an_indicator_and_sees_the_weight_check_change(
    live_server: object, page: Page
) -> None:
    base = str(live_server)
    UserFactory(username="office", role=Role.OFFICE, display_name="考核办")
    scheme = _scheme()
    _log_in(page, base, "office")
    page.goto(base + reverse("schemes:scheme_detail", args=[scheme.pk]))

    weight_check = page.locator("#weight-check")
    expect(weight_check).to_have_class("tag bad")
    root_sum = _node(page, "经济发展").locator("> details > summary")
    expect(root_sum).to_contain_text("80 / 100")

    # Add a child to 经济发展 (htmx puts the form into the node's slot).
    _node(page, "经济发展").locator("> .node").get_by_role("link", name="添加下级").click()
    form = _slot_form(page, "经济发展")
    expect(form).to_be_visible()
    form.locator("input[name=name]").fill("科技创新投入")
    form.locator("input[name=weight]").fill("10")
    form.get_by_role("button", name="保存").click()
    expect(_node(page, "科技创新投入")).to_be_visible()
    expect(root_sum).to_contain_text("90 / 100")
    expect(root_sum.locator("span")).to_have_class("sum-bad")

    # Edit its weight and rule: weights now sum to 100 and the warning disappears.
    _node(page, "科技创新投入").locator("> .node").get_by_role("link", name="编辑").click()
    edit = _slot_form(page, "科技创新投入")
    edit.locator("input[name=weight]").fill("20")
    edit.locator("select[name=rule_type]").select_option("completion")
    cap = edit.locator("input[name=rp__completion__cap]")
    expect(cap).to_be_visible()
    expect(edit.locator("input[name=rp__steps__below]")).to_be_hidden()
    cap.fill("1.2")
    edit.get_by_role("button", name="保存").click()
    expect(weight_check).to_have_class("tag ok")
    expect(root_sum).to_contain_text("100 / 100")
    expect(_node(page, "科技创新投入").locator(".rule")).to_contain_text("完成率计分")
    node = IndicatorNode.objects.get(name="科技创新投入")
    assert (node.weight, node.rule_type, node.rule_params) == (Decimal("20"), "completion", {"cap": 1.2})

    # Move it up above 固定资产投资.
    _node(page, "科技创新投入").locator("> .node").get_by_role("button", name="上移").click()
    children = _node(page, "经济发展").locator("> details > ul > li")
    expect(children).to_have_count(3)
    expect(children.nth(1)).to_have_attribute("data-name", "科技创新投入")
    expect(children.nth(2)).to_have_attribute("data-name", "固定资产投资")

    # A bad parameter is shown next to the form and nothing is saved.
    _node(page, "固定资产投资").locator("> .node").get_by_role("link", name="编辑").click()
    bad = _slot_form(page, "固定资产投资")
    bad.locator("select[name=rule_type]").select_option("threshold_deduction")
    bad.locator("input[name=rp__threshold_deduction__per_unit]").fill("很多")
    bad.get_by_role("button", name="保存").click()
    expect(bad.locator(".form-errors")).to_contain_text("“每差 1 扣减得分率”须为数字")
    assert IndicatorNode.objects.get(name="固定资产投资").rule_type == ""

    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=SCREENSHOT, full_page=True)


def test_switching_to_english_translates_the_navigation_and_the_tree_editor(
    live_server: object, page: Page
) -> None:
    base = str(live_server)
    UserFactory(username="office", role=Role.OFFICE)
    scheme = _scheme()
    _log_in(page, base, "office")
    page.goto(base + reverse("schemes:scheme_detail", args=[scheme.pk]))
    expect(page.locator(".mainnav")).to_contain_text("考核方案")
    page.locator("select[name=language]").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".mainnav")).to_contain_text("Schemes")
    expect(_node(page, "经济发展").locator("> .node")).to_contain_text("Add child")
    expect(page.locator("#weight-check")).to_contain_text("Weight check")
