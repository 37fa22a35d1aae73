"""The office sorts a ranking by its columns in a real browser (Debian Chromium, Playwright): the
header shows the order, clicking it again reverses it, and the search keeps the order."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from jixiao.accounts.models import Role
from jixiao.organisation.tests.factories import UserFactory
from jixiao.results.models import EntityResult
from jixiao.results.tests.test_presentation import scored  # noqa: F401  # the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "locale": "zh-CN", "viewport": {"width": 1280, "height": 900}}


def test_office_sorts_the_officials_ranking_by_score_and_reverses_it(
    live_server: object,
    page: Page,
    scored: dict[str, Any],  # noqa: F811
) -> None:
    base = str(live_server)
    run = scored["run"]
    UserFactory(username="office", role=Role.OFFICE)
    page.goto(base + reverse("accounts:login"))
    page.locator("#id_username").fill("office")
    page.locator("#id_password").fill("pw-Jixiao-2025")
    page.locator("form.stacked button[type=submit]").click()
    page.goto(f"{base}{reverse('results:ranking')}?run={run.pk}&subject=official&category=zcounty:official")
    page.get_by_role("link", name="总分").click()
    header = page.locator("th[aria-sort]")
    expect(header).to_have_attribute("aria-sort", "descending")
    totals = [float(t) for t in page.locator("table.ranking tbody tr td:nth-child(5)").all_inner_texts()]
    assert totals == sorted(totals, reverse=True) and len(totals) == 20
    page.locator("th[aria-sort] a").click()
    expect(page.locator("th[aria-sort]")).to_have_attribute("aria-sort", "ascending")
    lowest = (
        EntityResult.objects.filter(run=run, category="zcounty:official").order_by("total", "rank").first()
    )
    assert lowest is not None
    expect(page.locator("table.ranking tbody tr").first).to_contain_text(lowest.official.name)
    if shot := os.environ.get("JIXIAO_SCREENSHOT"):
        page.get_by_role("link", name="姓名").click()
        expect(page.locator("th[aria-sort]")).to_contain_text("姓名")
        page.screenshot(path=shot, full_page=True)
