"""The office scores a cycle from the runs page in a real browser: pre-flight, start, a progress
bar polled by htmx, and the finished run without reloading by hand (Debian Chromium, Playwright)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import Page, expect

from jixiao.accounts.models import Role
from jixiao.jobs.models import Job, JobStatus
from jixiao.organisation.tests.factories import UserFactory
from jixiao.results.models import ScoringRun
from jixiao.results.tests.test_compute import cycle_with_facts  # noqa: F401  # the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "locale": "zh-CN"}


def test_office_starts_scoring_sees_the_progress_bar_and_then_the_new_run(
    live_server: object,
    page: Page,
    cycle_with_facts: dict,  # noqa: F811
) -> None:
    base = str(live_server)
    UserFactory(username="office", role=Role.OFFICE)
    page.goto(base + reverse("accounts:login"))
    page.locator("#id_username").fill("office")
    page.locator("#id_password").fill("pw-Jixiao-2025")
    page.locator("form.stacked button[type=submit]").click()
    page.goto(base + reverse("results:run_list") + "?year=2025")
    page.get_by_role("link", name="开始计分").click()
    expect(page.locator("h1")).to_contain_text("计分前检查")
    expect(page.get_by_text("可以开始计分")).to_be_visible()
    page.get_by_role("button", name="确认开始计分").click()

    expect(page.get_by_text("已开始计分")).to_be_visible()
    expect(page.locator(".job-panel progress")).to_be_visible()
    expect(page.locator(".job-panel")).to_contain_text("等待后台执行")
    job = Job.objects.get()
    assert job.status == JobStatus.QUEUED
    # The worker (here: django-tasks-db's, in this process) picks the job up; the page polls.
    call_command("db_worker", batch=True, verbosity=0)
    expect(page.locator(".job-panel")).to_contain_text("计分任务：已完成", timeout=15_000)
    run = ScoringRun.objects.get()
    expect(page.get_by_role("link", name=str(run))).to_be_visible()
    page.get_by_role("link", name="查看本次结果").click()
    expect(page).to_have_url(f"{base}/results/?run={run.pk}")
    page.goto(base + reverse("notifications:inbox"))
    expect(page.get_by_text("2025年度考核计分已完成")).to_be_visible()
