"""Declare → send back → revise → approve through three stages → publish, in a real browser
(Debian Chromium through Playwright), each person in their own browser context."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, Page, expect

from jixiao.accounts.models import Role
from jixiao.declarations.models import Declaration, DeclarationStatus, DeclaredIndicator, ReviewerRole
from jixiao.declarations.tests.factories import (
    DeclarationFactory,
    DeclaredIndicatorFactory,
    OpenCycleFactory,
    ReviewStageFactory,
    framework,
)
from jixiao.organisation.tests.factories import UnitFactory, UserFactory
from jixiao.schemes.models import Cycle, CycleStage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-Jixiao-2025"  # the UserFactory default
SCREENSHOT = "/tmp/declaration-review.png"


def _session(browser: Browser, base: str, contexts: list[BrowserContext]) -> Callable[[str], Page]:
    """A function that opens a new Chinese browser context and signs ``username`` in."""

    def sign_in(username: str) -> Page:
        contexts.append(browser.new_context(locale="zh-CN", base_url=base))
        page = contexts[-1].new_page()
        page.on("dialog", lambda dialog: dialog.accept())  # data-confirm buttons
        page.goto(reverse("accounts:login"))
        page.locator("#id_username").fill(username)
        page.locator("#id_password").fill(PASSWORD)
        page.locator("form.stacked button[type=submit]").click()
        expect(page.locator(".userbox .who")).to_be_visible()
        return page

    return sign_in


def _decide(page: Page, declaration: Declaration, outcome: str, **fields: str) -> None:
    page.goto(reverse("review:declaration", args=[declaration.pk]))
    form = page.locator("#decision-form")
    form.get_by_label(outcome).check()
    for name, value in fields.items():
        form.locator(f"[name={name}]").fill(value)
    form.get_by_role("button", name="提交审核结论").click()
    expect(page.locator("body")).to_contain_text("已提交审核结论")


def test_a_declaration_is_sent_back_revised_approved_by_three_stages_and_published(
    live_server: Any, browser: Browser
) -> None:
    base = str(live_server)
    cycle = OpenCycleFactory(year=2026)
    unit = UnitFactory(name="城关镇")
    dept = UnitFactory(name="发改委")
    fw = framework(cycle=cycle, unit=unit)
    declaration = DeclarationFactory(cycle=cycle, unit=unit)
    # Drafted earlier: the growth target, led by the 发改委 (the first stage's reviewer).
    DeclaredIndicatorFactory(
        declaration=declaration,
        parent=fw.economy,
        name="规上工业增加值增速",
        target=Decimal("8.5"),
        last_year_actual=Decimal("7.9"),
        weight=Decimal("100"),
        lead_department=dept,
    )
    for order, (name, role) in enumerate(
        [
            ("业务部门初审", ReviewerRole.LEAD_DEPT),
            ("考核办审核", ReviewerRole.OFFICE),
            ("分管领导审查", ReviewerRole.LEADER),
        ],
        start=1,
    ):
        ReviewStageFactory(cycle=cycle, order=order, name=name, role=role)
    UserFactory(username="liaison", role=Role.LIAISON, unit=unit, display_name="城关镇绩效员")
    UserFactory(username="lead", role=Role.LEAD_DEPT, unit=dept, display_name="发改委")
    UserFactory(username="office", role=Role.OFFICE, display_name="考核办")
    UserFactory(username="leader", role=Role.LEADER, display_name="分管领导")
    contexts: list[BrowserContext] = []
    sign_in = _session(browser, base, contexts)
    try:
        _flow(sign_in, declaration, fw.people.pk, cycle)
    finally:
        for context in contexts:
            context.close()


def _flow(sign_in: Callable[[str], Page], declaration: Declaration, people_pk: int, cycle: Cycle) -> None:

    # The liaison declares a second target (below last year's actual) and submits.
    liaison = sign_in("liaison")
    liaison.goto(reverse("declarations:indicator_create", args=[declaration.pk]) + f"?parent={people_pk}")
    form = liaison.locator("form.node-form")
    form.locator("select[name=parent]").select_option(str(people_pk), force=True)
    form.locator("input[name=name]").fill("城镇新增就业")
    form.locator("input[name=measure]").fill("人")
    form.locator("input[name=target]").fill("900")
    form.locator("input[name=weight]").fill("100")
    form.locator("input[name=last_year_actual]").fill("1000")
    form.locator("select[name=rule_type]").select_option("completion")
    form.get_by_role("button", name="保存").click()
    expect(liaison.locator("table.grid")).to_contain_text("城镇新增就业")
    liaison.get_by_role("button", name="提交", exact=True).click()
    expect(liaison.locator("body")).to_contain_text("业务部门初审")
    jobs = DeclaredIndicator.objects.get(name="城镇新增就业")

    # The business department sees it in its queue and on its home page, and sends it back.
    lead = sign_in("lead")
    expect(lead.locator("body")).to_contain_text("待审核目标 1")
    lead.goto(reverse("review:queue"))
    lead.locator("main").get_by_role("link", name="审核", exact=True).click()
    row = lead.locator('#review-indicators tr[data-name="城镇新增就业"]')
    expect(row).to_contain_text("目标低于上年实际")
    expect(row).to_contain_text("-10")  # growth asked: 900 over 1000
    _decide(lead, declaration, "退回修改", **{f"c_{jobs.uid}": "就业目标不得低于上年实际 1000 人"})

    # The liaison reads the comment next to the indicator, raises the target and resubmits.
    liaison.goto(reverse("declarations:declaration_detail", args=[declaration.pk]))
    expect(liaison.locator("#return-note")).to_contain_text("业务部门初审")
    expect(liaison.locator("table.grid")).to_contain_text("就业目标不得低于上年实际 1000 人")
    liaison.goto(reverse("declarations:indicator_edit", args=[jobs.pk]))
    liaison.locator("form.node-form input[name=target]").fill("1100")
    liaison.locator("form.node-form").get_by_role("button", name="保存").click()
    liaison.get_by_role("button", name="提交", exact=True).click()
    expect(liaison.locator("body")).to_contain_text("第 2 版")

    # Version 2: the diff shows the change; three stages approve.
    lead.goto(reverse("review:declaration", args=[declaration.pk]))
    expect(lead.locator('#review-indicators tr[data-name="城镇新增就业"]')).to_contain_text("本版修改")
    expect(lead.locator("table.diff").first).to_contain_text("1100")
    lead.set_viewport_size({"width": 1400, "height": 1000})
    lead.screenshot(path=SCREENSHOT, full_page=True)
    _decide(lead, declaration, "通过")
    office = sign_in("office")
    _decide(office, declaration, "通过")
    _decide(sign_in("leader"), declaration, "通过")
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.APPROVED and declaration.version == 2

    # The office opens the publication stage (the stage page is another helper's: set here) and publishes.
    Cycle.objects.filter(pk=cycle.pk).update(stage=CycleStage.PUBLICATION)
    office.goto(reverse("declarations:declaration_detail", args=[declaration.pk]))
    office.get_by_role("button", name="公布目标").click()
    expect(office.locator("body")).to_contain_text("已公布")
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.PUBLISHED and declaration.published_version == 2
