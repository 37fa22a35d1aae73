"""The office scores a cycle from the runs page: pre-flight first, errors block, warnings need a
tick, the job runs in the background with a polled progress panel, a second start is refused, and
the office is notified with a link to the new run."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import Role
from jixiao.facts.models import IndicatorResult
from jixiao.jobs.models import Job, JobKind, JobStatus
from jixiao.jobs.services import job_execute
from jixiao.notifications.models import Notification
from jixiao.organisation.tests.factories import CategoryFactory, UnitFactory, UserFactory
from jixiao.results.models import ScoringRun

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
START = reverse("results:run_start")


@pytest.fixture
def office(client: Client) -> Any:
    user = UserFactory(role=Role.OFFICE, username="office1")
    client.force_login(user)
    return user


def test_the_runs_page_offers_the_office_to_start_scoring(
    cycle_with_facts: dict, office: Any, client: Client
) -> None:
    page = client.get(reverse("results:run_list") + "?year=2025").content.decode()
    assert "开始计分" in page and f"{START}?year=2025" in page


def test_an_error_blocks_the_start_and_shows_where_to_fix_it(
    cycle_with_facts: dict, office: Any, client: Client, settings: Any
) -> None:
    settings.TASKS = IMMEDIATE
    IndicatorResult.objects.filter(unit=cycle_with_facts["units"][0]).update(target=0)
    page = client.get(START + "?year=2025").content.decode()
    assert "1 个错误" in page and "去修改" in page and "确认开始计分" not in page
    response = client.post(START, {"year": "2025"}, follow=True)
    assert "计分前检查发现错误，未开始计分" in response.content.decode()
    assert not Job.objects.exists() and not ScoringRun.objects.exists()


def test_warnings_must_be_acknowledged_before_the_job_starts(
    cycle_with_facts: dict, office: Any, client: Client, settings: Any
) -> None:
    settings.TASKS = DUMMY
    stray = UnitFactory(category=CategoryFactory(code="stray"))
    IndicatorResult.objects.create(
        cycle=cycle_with_facts["cycle"], unit=stray, indicator=cycle_with_facts["leaf"], value=1, target=1
    )
    assert "我已了解以上提醒" in client.get(START + "?year=2025").content.decode()
    refused = client.post(START, {"year": "2025"}, follow=True).content.decode()
    assert "请勾选" in refused and not Job.objects.exists()
    client.post(START, {"year": "2025", "acknowledge": "1"})
    assert Job.objects.get().status == JobStatus.QUEUED


def test_a_started_job_scores_the_cycle_and_notifies_the_office_with_a_link(
    cycle_with_facts: dict, office: Any, client: Client, settings: Any
) -> None:
    settings.TASKS = IMMEDIATE
    colleague = UserFactory(role=Role.OFFICE)
    liaison = UserFactory(role=Role.LIAISON)
    response = client.post(START, {"year": "2025"}, follow=True)
    assert "已开始计分" in response.content.decode()
    run = ScoringRun.objects.get()
    job = Job.objects.get()
    assert (job.status, job.progress, job.created_by) == (JobStatus.SUCCEEDED, 100, office)
    assert job.link == f"/results/?run={run.pk}" and "23 个对象" in job.message
    notes = Notification.objects.filter(cause=f"job:{job.pk}")
    assert {n.recipient for n in notes} == {office, colleague}
    assert notes.first().link == job.link and not Notification.objects.filter(recipient=liaison).exists()
    panel = response.content.decode()
    assert "计分任务：已完成" in panel and "查看本次结果" in panel and 'hx-trigger="every 2s"' not in panel


def test_a_second_start_while_one_runs_is_refused_with_a_message(
    cycle_with_facts: dict, office: Any, client: Client, settings: Any
) -> None:
    settings.TASKS = DUMMY
    client.post(START, {"year": "2025"})
    response = client.post(START, {"year": "2025"}, follow=True)
    assert "已有“计分”任务在排队或进行中" in response.content.decode()
    assert Job.objects.count() == 1


def test_the_progress_panel_polls_while_active_and_reloads_the_page_once_done(
    cycle_with_facts: dict, office: Any, client: Client, settings: Any
) -> None:
    settings.TASKS = DUMMY
    client.post(START, {"year": "2025"})
    job = Job.objects.get()
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, progress=30, stage="计算得分与等次")
    page = client.get(reverse("results:run_list") + "?year=2025").content.decode()
    assert 'hx-trigger="every 2s"' in page and 'value="30"' in page and "计算得分与等次" in page
    Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, message="指标“甲”：目标值为 0")
    poll = client.get(reverse("results:job_status", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert poll["HX-Refresh"] == "true"
    assert "计分未完成：指标“甲”：目标值为 0" in poll.content.decode()


def test_only_the_office_may_start_scoring_or_watch_the_job(cycle_with_facts: dict, client: Client) -> None:
    job = Job.objects.create(kind=JobKind.COMPUTE, cycle=cycle_with_facts["cycle"], scope="x")
    for role in (Role.LIAISON, Role.AUDITOR, Role.LEADER):
        client.force_login(UserFactory(role=role))
        assert client.get(START + "?year=2025").status_code == 403
        assert client.post(START, {"year": "2025"}).status_code == 403
        assert client.get(reverse("results:job_status", args=[job.pk])).status_code == 403
    assert not ScoringRun.objects.exists()


def test_a_job_that_fails_tells_the_office_why_in_chinese(
    cycle_with_facts: dict, office: Any, client: Client, settings: Any
) -> None:
    settings.TASKS = DUMMY
    client.post(START, {"year": "2025"})
    job = Job.objects.get()
    # The cycle is closed while the job waits in the queue.
    type(cycle_with_facts["cycle"]).objects.filter(pk=cycle_with_facts["cycle"].pk).update(status="closed")
    job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "已结束" in job.message
    note = Notification.objects.get(recipient=office)
    assert note.title == "2025年度考核计分失败" and "已结束" in note.body
    assert not ScoringRun.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_run_started_on_the_page_is_executed_by_the_database_worker(
    cycle_with_facts: dict, client: Client
) -> None:
    # The configured backend (django-tasks-db): the page only queues; `db_worker --batch` runs it.
    office = UserFactory(role=Role.OFFICE)
    client.force_login(office)
    client.post(START, {"year": "2025"})
    job = Job.objects.get()
    assert job.status == JobStatus.QUEUED and not ScoringRun.objects.exists()
    call_command("db_worker", batch=True, verbosity=0)
    job.refresh_from_db()
    run = ScoringRun.objects.get()
    assert (job.status, job.link) == (JobStatus.SUCCEEDED, f"/results/?run={run.pk}")
    assert run.created_by == office and run.entity_count == 23
    assert Notification.objects.get(recipient=office).link == job.link


def test_without_a_year_the_start_page_is_about_the_open_cycle_not_last_years_closed_one(
    cycle_with_facts: dict, office: Any, client: Client
) -> None:
    from jixiao.schemes.models import CycleStatus
    from jixiao.schemes.tests.factories import CycleFactory

    closed = cycle_with_facts["cycle"]
    call_command("compute", "--cycle", str(closed.year))
    type(closed).objects.filter(pk=closed.pk).update(status=CycleStatus.CLOSED)
    CycleFactory(year=closed.year + 1, status=CycleStatus.OPEN)
    response = client.get(START)
    assert response.context["cycle"].year == closed.year + 1
