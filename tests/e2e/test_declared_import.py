"""The declared targets' Excel import from the unit's entry page, in a real browser (Debian
Chromium through Playwright): a file with a wrong code comes back with the error's row and column
and the upload form again, and nothing is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, expect

from jixiao.facts.models import IndicatorResult
from jixiao.facts.tests.test_excel_declared import Setting, row, workbook

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-Jixiao-2025"  # the UserFactory default
SCREENSHOT = "/tmp/declared-import-error.png"


def test_an_upload_with_a_wrong_code_shows_the_row_and_column_and_the_form_again(
    live_server: Any, browser: Browser, tmp_path: Path
) -> None:
    s = Setting()
    bad = tmp_path / "申报指标完成情况.xlsx"
    bad.write_bytes(workbook(row("CTY1", "1.1-1", 95), row("CTY1", "9.9-9", 10)).getvalue())
    context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    try:
        page = context.new_page()
        page.goto(reverse("accounts:login"))
        page.locator("#id_username").fill(s.office.username)
        page.locator("#id_password").fill(PASSWORD)
        page.locator("form.stacked button[type=submit]").click()
        expect(page.locator(".userbox .who")).to_be_visible()
        page.goto(reverse("facts:declared_results", args=[s.unit.pk]) + "?year=2026")
        section = page.locator("#declared-import")
        expect(section.get_by_role("button", name="下载本单位的导入模板")).to_be_visible()
        section.locator("#declared-import-file").set_input_files(str(bad))
        section.get_by_role("button", name="检查并导入").click()
        errors = page.locator("table.import-errors tbody tr")
        expect(errors).to_have_count(1)
        expect(errors.first).to_contain_text("申报指标编号")
        expect(errors.first).to_contain_text("没有编号为“9.9-9”的指标")
        expect(errors.first.locator("td").nth(1)).to_have_text("3")
        expect(page.locator("#reimport input[type=file]")).to_be_visible()
        page.screenshot(path=SCREENSHOT, full_page=True)
        assert not IndicatorResult.objects.exists()
    finally:
        context.close()
