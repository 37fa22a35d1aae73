"""The system administrator (三权分立) opens a liaison account in a real browser; the liaison logs in, must change the
initial password, and then lands on their own home page (Debian Chromium through Playwright)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from jixiao.accounts.models import Role, User
from jixiao.organisation.tests.factories import UnitFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OFFICE_PASSWORD = "pw-Jixiao-2025"  # the UserFactory default
NEW_PASSWORD = "Zhang-San-2026!"
SCREENSHOT = "/tmp/liaison-home.png"


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "locale": "zh-CN"}


def _log_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base + reverse("accounts:login"))
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("form.stacked button[type=submit]").click()


def test_the_system_admin_opens_a_liaison_account_and_the_liaison_changes_the_password_then_sees_their_home(
    live_server: object, page: Page, browser: Browser
) -> None:
    base = str(live_server)
    UserFactory(username="office", role=Role.SYSADMIN, display_name="系统管理员")
    UnitFactory(name="甲局")
    UnitFactory(name="某县人民政府", short_name="某县")

    _log_in(page, base, "office", OFFICE_PASSWORD)
    page.goto(base + reverse("accounts:user_list"))
    expect(page.locator("h1")).to_have_text("用户账户")
    page.get_by_role("link", name="新增账户").click()
    page.locator("#id_username").fill("jxy_mx")
    page.locator("#id_display_name").fill("张三")
    page.locator("#id_role").select_option(Role.LIAISON.value)
    # The unit select is searchable: type part of the name and pick the match.
    page.locator("#id_unit-ts-control").fill("某县")
    page.locator(".ts-dropdown .option", has_text="某县人民政府").click()
    page.get_by_role("button", name="保存").click()
    expect(page.locator("h1")).to_have_text("账户已开通")
    password = page.locator("#initial-password").inner_text().strip()
    assert re.fullmatch(r"[A-Za-z0-9]{12}", password)
    assert User.objects.get(username="jxy_mx").must_change_password

    liaison = browser.new_page(locale="zh-CN")
    _log_in(liaison, base, "jxy_mx", password)
    expect(liaison.locator("#must-change")).to_be_visible()
    # Any other page sends the liaison back until the password is changed.
    liaison.goto(base + reverse("results:ranking"))
    expect(liaison).to_have_url(re.compile(re.escape(reverse("accounts:password_change")) + "$"))
    liaison.locator("#id_old_password").fill(password)
    liaison.locator("#id_new_password1").fill(NEW_PASSWORD)
    liaison.locator("#id_new_password2").fill(NEW_PASSWORD)
    liaison.get_by_role("button", name="保存").click()
    expect(liaison.locator(".messages")).to_contain_text("密码已修改")
    expect(liaison.locator("h1")).to_have_text("工作台")
    expect(liaison.locator(".lead")).to_contain_text("某县人民政府")
    expect(liaison.locator(".todo-group h2").first).to_be_visible()
    liaison.screenshot(path=SCREENSHOT, full_page=True)
    assert not User.objects.get(username="jxy_mx").must_change_password
    # The page names no raw role code.
    assert "liaison" not in liaison.locator("main").inner_text()
