"""A liaison files a monthly report with a photo in a real browser; the lead department grades it;
the office reads every unit's lights on one page and drills into the unit (Debian Chromium)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Page, expect

from jixiao.accounts.models import Role
from jixiao.organisation.tests.factories import CategoryFactory, UnitFactory, UserFactory
from jixiao.tracking.lights import lights_recompute
from jixiao.tracking.models import Evidence, ProgressReport, ReportStatus
from jixiao.tracking.tests.factories import (
    DeclarationFactory,
    DeclaredIndicatorFactory,
    MilestoneFactory,
    ProgressReportFactory,
    TrackingCycleFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-Jixiao-2025"
SCREENSHOTS = Path("/tmp")


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "locale": "zh-CN"}


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _log_in(page: Page, base: str, username: str) -> None:
    page.goto(base + reverse("accounts:login"))
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form.stacked button[type=submit]").click()


def _photo(path: Path) -> Path:
    exif = Image.Exif()
    exif[0x0132] = "2026:05:20 10:15:00"
    exif[0x8825] = {1: "N", 2: (36.0, 25.0, 0.0), 3: "E", 4: (94.0, 54.0, 0.0)}
    Image.new("RGB", (1200, 900), (40, 140, 90)).save(path, "JPEG", exif=exif)
    return path


def test_a_liaison_files_a_monthly_report_with_a_photo_and_the_lead_department_grades_it(
    live_server: object, page: Page, tmp_path: Path
) -> None:
    base = str(live_server)
    year = timezone.localdate().year
    cycle = TrackingCycleFactory(year=year)
    lead = UnitFactory(name="市发改委")
    declaration = DeclarationFactory(cycle=cycle, unit=UnitFactory(name="某县人民政府"))
    indicator = DeclaredIndicatorFactory(
        declaration=declaration, name="重点项目完成投资", target=Decimal("200"), lead_department=lead
    )
    MilestoneFactory(indicator=indicator, due=date(year, 6, 30), expected_percent=Decimal("50"))
    UserFactory(username="liaison", role=Role.LIAISON, unit=declaration.unit)
    UserFactory(username="lead", role=Role.LEAD_DEPT, unit=lead)

    _log_in(page, base, "liaison")
    page.get_by_role("link", name="进展填报").click()
    expect(page.locator("h1")).to_contain_text("某县人民政府")
    row = page.locator("#indicators tr", has_text="重点项目完成投资")
    expect(row).to_contain_text("未填报")
    row.get_by_role("link", name="填报").click()
    expect(page.locator("h1")).to_contain_text("重点项目完成投资")
    page.locator("#id_value_to_date").fill("190")
    page.locator("#id_narrative").fill("三个项目已开工，完成投资 190 亿元")
    page.locator("#id_uploads").set_input_files(str(_photo(tmp_path / "开工现场.jpg")))
    page.get_by_role("button", name="报送").click()
    expect(page.locator(".messages")).to_contain_text("已报送")
    row = page.locator("#indicators tr", has_text="重点项目完成投资")
    expect(row).to_contain_text("已报送")
    expect(row.locator(".light")).to_have_text("绿灯")
    report = ProgressReport.objects.get()
    assert report.status == ReportStatus.SUBMITTED and report.progress_percent == Decimal("95.00")
    photo = Evidence.objects.get()
    assert photo.original_name == "开工现场.jpg" and photo.latitude is not None and photo.thumbnail

    # Until the lead department grades it, the unit may still correct the report.
    row.get_by_role("link", name="填报").click()
    thumb = page.locator("#attached img")
    expect(thumb).to_be_visible()
    assert page.evaluate("(img) => img.naturalWidth", thumb.element_handle()) == 320
    expect(page.locator("#attached")).to_contain_text("拍摄于 2026-05-20 10:15")
    page.screenshot(path=str(SCREENSHOTS / "tracking-report.png"), full_page=True)

    lead_page = page.context.browser.new_page(locale="zh-CN")  # type: ignore[union-attr]
    _log_in(lead_page, base, "lead")
    lead_page.get_by_role("link", name="进展评定").click()
    lead_page.locator("#queue").get_by_role("link", name="评定").click()
    expect(lead_page.locator(".evidence-grid")).to_contain_text("开工现场.jpg")
    lead_page.get_by_label("按进度推进").check()
    lead_page.locator("#id_quality_comment").fill("佐证充分")
    lead_page.get_by_role("button", name="评定").click()
    expect(lead_page.locator(".messages")).to_contain_text("已评定")
    report.refresh_from_db()
    assert report.status == ReportStatus.GRADED and report.quality_comment == "佐证充分"


def test_the_office_reads_every_units_lights_filters_them_and_drills_into_a_unit(
    live_server: object, page: Page
) -> None:
    base = str(live_server)
    year = timezone.localdate().year
    cycle = TrackingCycleFactory(year=year)
    counties, bureaus = CategoryFactory(name="县市区"), CategoryFactory(name="市直部门")
    for name, category, progress in (
        ("甲县", counties, "99"),
        ("乙县", counties, "2"),
        ("丙局", bureaus, "50"),
    ):
        declaration = DeclarationFactory(cycle=cycle, unit=UnitFactory(name=name, category=category))
        ProgressReportFactory(
            indicator=DeclaredIndicatorFactory(declaration=declaration, name=f"{name}重点指标"),
            period=date(year, 1, 1),
            progress_percent=Decimal(progress),
        )
    lights_recompute(cycle=cycle)
    UserFactory(username="office", role=Role.OFFICE)

    _log_in(page, base, "office")
    page.get_by_role("link", name="红黄绿灯").click()
    expect(page.locator("h1")).to_contain_text("红黄绿灯")
    expect(page.locator("#units-red")).to_have_text("2")
    expect(page.locator("#units-green")).to_have_text("1")
    expect(page.locator("#lights tbody tr")).to_have_count(3)
    page.locator("select[name=category]").select_option(label="县市区")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("#lights tbody tr")).to_have_count(2)
    expect(page.locator("#units-green")).to_have_text("1")
    page.screenshot(path=str(SCREENSHOTS / "tracking-lights.png"), full_page=True)
    page.get_by_role("link", name="乙县").click()
    expect(page.locator("h1")).to_contain_text("乙县")
    expect(page.locator("#indicators")).to_contain_text("乙县重点指标")
    expect(page.locator("#indicators .light")).to_have_text("红灯")
    # This month's report is still missing (the one on file is January's).
    expect(page.locator("#indicators")).to_contain_text("未填报")
