"""The monthly supervision bulletin: figures from the tasks, a PDF made by the background job, the
office's words (editing drops the stale PDF), issuing for every unit, downloads audited."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import AuditAction, AuditLog, Role
from jixiao.jobs.models import JobStatus
from jixiao.organisation.tests.factories import UnitFactory, UserFactory
from jixiao.supervision import bulletin as bulletins
from jixiao.supervision import services
from jixiao.supervision.models import RatingLevel, SupervisionBulletin
from jixiao.tracking.tests.factories import TrackingCycleFactory
from jixiao.tracking.tests.race_world import IMMEDIATE

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings: Any, tmp_path: Path) -> dict:
    settings.TASKS = IMMEDIATE
    settings.MEDIA_ROOT = tmp_path
    cycle = TrackingCycleFactory()
    slow, quick = UnitFactory(name="市交通局"), UnitFactory(name="市文旅局")
    office = UserFactory(role=Role.OFFICE)
    liaison = UserFactory(role=Role.LIAISON, unit=quick)

    def task(title: str, unit: object, deadline: date) -> object:
        return services.task_create(
            actor=office,
            cycle=cycle,
            title=title,
            lead_unit=unit,
            deadline=deadline,
            assigned_on=date(2026, 2, 1),
        )

    task("国省道改造", slow, date(2026, 3, 10))
    task("公交线网优化", slow, date(2026, 3, 20))
    done = task("景区提质", quick, date(2026, 3, 31))
    services.task_sign(actor=liaison, task=done)
    services.task_report(actor=liaison, task=done, text="已完成", progress=100, final=True)
    return {"cycle": cycle, "office": office, "liaison": liaison, "done": done}


def test_the_figures_name_the_overdue_tasks_and_the_slow_units(world: dict) -> None:
    figures = bulletins.bulletin_figures(cycle=world["cycle"], month=date(2026, 3, 1))
    assert figures.as_of == date(2026, 3, 31)
    assert [t.title for t in figures.overdue] == ["国省道改造", "公交线网优化"]
    assert figures.slow_units == [{"lead_unit__name": "市交通局", "n": 2}]
    assert dict(figures.by_status)["已报结待审核"] == 1 and figures.total == 3


def test_generate_edit_and_issue(world: dict) -> None:
    bulletin, job = bulletins.bulletin_start(
        actor=world["office"], cycle=world["cycle"], month=date(2026, 3, 15)
    )
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.message
    bulletin.refresh_from_db()
    assert bulletin.month == date(2026, 3, 1)
    assert bulletin.file.open("rb").read(5) == b"%PDF-"
    liaison = Client()
    liaison.force_login(world["liaison"])
    assert (
        liaison.get(reverse("supervision:bulletin_detail", args=[bulletin.pk])).status_code == 404
    )  # a draft
    edited = bulletins.bulletin_edit(
        actor=world["office"], bulletin=bulletin, highlights="景区提质提前完成", concerns="交通项目滞后"
    )
    assert not edited.file  # the PDF no longer matches the words
    with pytest.raises(ValidationError):
        bulletins.bulletin_publish(actor=world["office"], bulletin=edited)
    bulletins.bulletin_start(actor=world["office"], cycle=world["cycle"], month=date(2026, 3, 1))
    edited.refresh_from_db()
    bulletins.bulletin_publish(actor=world["office"], bulletin=edited)
    page = liaison.get(reverse("supervision:bulletin_detail", args=[bulletin.pk])).content.decode()
    assert "景区提质提前完成" in page and "国省道改造" in page and "市交通局" in page
    download = liaison.get(reverse("supervision:bulletin_download", args=[bulletin.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content)[:5] == b"%PDF-"
    assert (
        AuditLog.objects.filter(
            action=AuditAction.EXPORT, object_type="supervision.supervisionbulletin"
        ).count()
        == 1
    )
    with pytest.raises(ValidationError):
        bulletins.bulletin_edit(actor=world["office"], bulletin=edited, highlights="改", concerns="")
    assert SupervisionBulletin.objects.count() == 1


def test_only_the_office_generates(world: dict) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        bulletins.bulletin_start(actor=world["liaison"], cycle=world["cycle"], month=date(2026, 3, 1))
    assert RatingLevel.objects.exists()
