"""督查督办 services: assignment to rating, each transition audited, refused out of scope, and a
rating's deduction written once as the lead unit's adjustment named after the task."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from jixiao.accounts.models import AuditLog, Role
from jixiao.facts.models import Adjustment, AdjustmentKind
from jixiao.notifications.models import Notification
from jixiao.organisation.tests.factories import UnitFactory, UserFactory
from jixiao.schemes.models import CycleStatus
from jixiao.supervision import services
from jixiao.supervision.models import ExtensionStatus, RatingLevel, SupervisionTask, TaskSource, TaskStatus
from jixiao.tracking.tests.factories import TrackingCycleFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def world() -> dict:
    cycle = TrackingCycleFactory()
    lead, co, other = UnitFactory(), UnitFactory(), UnitFactory()
    return {
        "cycle": cycle,
        "lead": lead,
        "co": co,
        "other": other,
        "office": UserFactory(role=Role.OFFICE),
        "leader": UserFactory(role=Role.LEADER),
        "auditor": UserFactory(role=Role.AUDITOR),
        "lead_liaison": UserFactory(role=Role.LIAISON, unit=lead),
        "co_liaison": UserFactory(role=Role.LIAISON, unit=co),
        "other_liaison": UserFactory(role=Role.LIAISON, unit=other),
    }


def _task(world: dict, **kwargs: object) -> SupervisionTask:
    fields: dict = {
        "actor": world["office"],
        "cycle": world["cycle"],
        "title": "推进老旧小区改造",
        "lead_unit": world["lead"],
        "co_units": [world["co"]],
        "deadline": date(2026, 12, 31),
        "source": TaskSource.MEETING,
        "assigned_on": date(2026, 6, 1),
    }
    fields.update(kwargs)
    return services.task_create(**fields)


def test_a_task_gets_the_next_number_of_its_cycle_and_tells_the_lead_and_co_units(world: dict) -> None:
    first = _task(world)
    second = _task(world, title="第二项")
    assert (first.number, second.number) == ("DB2026-0001", "DB2026-0002")
    assert Notification.objects.filter(
        recipient=world["lead_liaison"], cause=f"supervision:assigned:{first.pk}"
    ).exists()
    assert Notification.objects.filter(
        recipient=world["co_liaison"], cause=f"supervision:co_assigned:{first.pk}"
    ).exists()
    assert not Notification.objects.filter(recipient=world["other_liaison"]).exists()
    assert AuditLog.objects.filter(
        object_type="supervision.supervisiontask", object_id=str(first.pk)
    ).exists()
    assert [lv.label for lv in RatingLevel.objects.filter(cycle=world["cycle"])] == [
        "按时办结",
        "逾期办结",
        "未办结",
    ]


def test_a_leader_assigns_as_themself_and_a_liaison_cannot_assign(world: dict) -> None:
    task = _task(world, actor=world["leader"])
    assert task.leader == world["leader"]
    with pytest.raises(PermissionDenied):
        _task(world, actor=world["lead_liaison"])
    with pytest.raises(PermissionDenied):
        _task(world, actor=world["auditor"])


def test_a_deadline_before_the_assignment_and_the_lead_as_its_own_co_unit_are_refused(world: dict) -> None:
    with pytest.raises(ValidationError) as bad_date:
        _task(world, deadline=date(2026, 5, 1))
    assert "deadline" in bad_date.value.error_dict
    with pytest.raises(ValidationError) as twice:
        _task(world, co_units=[world["lead"]])
    assert "co_units" in twice.value.error_dict
    assert not SupervisionTask.objects.exists()


def test_only_the_lead_units_liaison_signs_and_only_once(world: dict) -> None:
    task = _task(world)
    for stranger in ("co_liaison", "other_liaison", "office"):
        with pytest.raises(PermissionDenied):
            services.task_sign(actor=world[stranger], task=task)
    signed = services.task_sign(actor=world["lead_liaison"], task=task)
    assert signed.status == TaskStatus.SIGNED and signed.signed_by == world["lead_liaison"]
    with pytest.raises(ValidationError):
        services.task_sign(actor=world["lead_liaison"], task=task)


def test_the_lead_reports_after_signing_with_a_file_and_a_final_report_asks_for_rating(
    world: dict, settings, tmp_path
) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    task = _task(world)
    with pytest.raises(ValidationError):
        services.task_report(actor=world["lead_liaison"], task=task, text="开工", progress=10)
    services.task_sign(actor=world["lead_liaison"], task=task)
    upload = SimpleUploadedFile("方案.pdf", PDF, content_type="application/pdf")
    report = services.task_report(
        actor=world["lead_liaison"], task=task, text="完成方案", progress=40, uploads=[upload]
    )
    assert report.evidence.count() == 1
    task.refresh_from_db()
    assert task.progress == 40 and task.status == TaskStatus.SIGNED
    co = services.task_report(actor=world["co_liaison"], task=task, text="配合完成摸底", progress=100)
    task.refresh_from_db()
    assert co.unit == world["co"] and task.progress == 40  # a co-unit's part does not move the task
    with pytest.raises(ValidationError):
        services.task_report(actor=world["co_liaison"], task=task, text="申请办结", progress=100, final=True)
    with pytest.raises(ValidationError):
        services.task_report(actor=world["lead_liaison"], task=task, text="办结", progress=90, final=True)
    services.task_report(actor=world["lead_liaison"], task=task, text="全部完成", progress=100, final=True)
    task.refresh_from_db()
    assert task.status == TaskStatus.SUBMITTED and task.finished_on is not None
    assert Notification.objects.filter(
        recipient=world["office"], cause=f"supervision:submitted:{task.pk}"
    ).exists()
    with pytest.raises(ValidationError):
        services.task_report(actor=world["lead_liaison"], task=task, text="再报", progress=100)


def test_another_units_liaison_cannot_report_on_a_task(world: dict) -> None:
    task = _task(world)
    with pytest.raises(PermissionDenied):
        services.task_report(actor=world["other_liaison"], task=task, text="越权", progress=50)


def test_a_bad_file_saves_no_report(world: dict) -> None:
    task = _task(world)
    services.task_sign(actor=world["lead_liaison"], task=task)
    bad = SimpleUploadedFile(
        "病毒.exe", b"MZ\x90\x00" + b"\x00" * 64, content_type="application/octet-stream"
    )
    with pytest.raises(ValidationError):
        services.task_report(
            actor=world["lead_liaison"], task=task, text="附件有误", progress=30, uploads=[bad]
        )
    assert not task.reports.exists()


def test_an_approved_extension_moves_the_deadline_and_one_request_waits_at_a_time(world: dict) -> None:
    task = _task(world)
    with pytest.raises(ValidationError):
        services.extension_request(
            actor=world["lead_liaison"], task=task, reason="早于原时限", new_deadline=date(2026, 12, 1)
        )
    request = services.extension_request(
        actor=world["lead_liaison"], task=task, reason="资金未到位", new_deadline=date(2027, 1, 31)
    )
    with pytest.raises(ValidationError):
        services.extension_request(
            actor=world["lead_liaison"], task=task, reason="再申请", new_deadline=date(2027, 2, 28)
        )
    with pytest.raises(PermissionDenied):
        services.extension_decide(actor=world["lead_liaison"], request=request, approve=True)
    decided = services.extension_decide(actor=world["office"], request=request, approve=True, comment="同意")
    task.refresh_from_db()
    assert decided.status == ExtensionStatus.APPROVED and task.deadline == date(2027, 1, 31)
    with pytest.raises(ValidationError):
        services.extension_decide(actor=world["office"], request=request, approve=False)


def test_a_rating_writes_its_deduction_once_as_the_lead_units_adjustment_named_after_the_task(
    world: dict,
) -> None:
    task = _task(world)
    late = RatingLevel.objects.get(cycle=world["cycle"], label="逾期办结")
    rated = services.task_rate(actor=world["office"], task=task, level=late, comment="超期一个月")
    adjustment = Adjustment.objects.get()
    assert rated.adjustment == adjustment and rated.status == TaskStatus.RATED
    assert (adjustment.unit, adjustment.kind, adjustment.points) == (
        world["lead"],
        AdjustmentKind.DEDUCTION,
        1.0,
    )
    assert adjustment.source == "督查督办 DB2026-0001"
    assert "推进老旧小区改造" in adjustment.reason and "逾期办结" in adjustment.reason
    undone = RatingLevel.objects.get(cycle=world["cycle"], label="未办结")
    services.task_rate(actor=world["office"], task=task, level=undone)
    assert list(Adjustment.objects.values_list("points", flat=True)) == [3.0]  # replaced, not added
    on_time = RatingLevel.objects.get(cycle=world["cycle"], label="按时办结")
    services.task_rate(actor=world["office"], task=task, level=on_time)
    assert not Adjustment.objects.exists()
    task.refresh_from_db()
    assert task.adjustment is None and task.rating == on_time


def test_only_the_office_rates_and_with_its_cycles_levels(world: dict) -> None:
    task = _task(world)
    level = RatingLevel.objects.filter(cycle=world["cycle"]).first()
    for who in ("leader", "lead_liaison", "auditor"):
        with pytest.raises(PermissionDenied):
            services.task_rate(actor=world[who], task=task, level=level)
    foreign = RatingLevel.objects.create(
        cycle=TrackingCycleFactory(year=2027), label="外周期", deduction=Decimal(1)
    )
    with pytest.raises(ValidationError):
        services.task_rate(actor=world["office"], task=task, level=foreign)


def test_a_closed_cycle_refuses_every_write(world: dict) -> None:
    task = _task(world)
    world["cycle"].status = CycleStatus.CLOSED
    world["cycle"].save()
    with pytest.raises(ValidationError):
        _task(world)
    with pytest.raises(ValidationError):
        services.task_sign(actor=world["lead_liaison"], task=task)
    with pytest.raises(ValidationError):
        services.task_rate(actor=world["office"], task=task, level=RatingLevel.objects.first())


def test_rating_levels_are_edited_by_the_office_and_audited(world: dict) -> None:
    _task(world)
    level = RatingLevel.objects.get(cycle=world["cycle"], label="逾期办结")
    before = {"label": level.label, "deduction": str(level.deduction), "order": level.order}
    level.deduction = Decimal("0.5")
    services.rating_level_save(actor=world["office"], level=level, before=before)
    assert RatingLevel.objects.get(pk=level.pk).deduction == Decimal("0.5")
    assert AuditLog.objects.filter(object_type="supervision.ratinglevel", object_id=str(level.pk)).exists()
    with pytest.raises(PermissionDenied):
        services.rating_level_save(actor=world["leader"], level=level, before=before)


def test_today_after_the_deadline_the_overdue_reminder_reaches_the_office_and_leader_once(
    world: dict,
) -> None:
    from jixiao.supervision.reminders import reminders_run

    task = _task(world, actor=world["leader"], deadline=date(2026, 7, 10))
    assert reminders_run(today=date(2026, 7, 1)) == 0  # 9 days ahead: not yet
    assert reminders_run(today=date(2026, 7, 8)) == 1  # within 3 days: the lead's liaison
    assert reminders_run(today=date(2026, 7, 9)) == 0  # once per deadline
    assert reminders_run(today=date(2026, 7, 11)) == 2  # overdue: the office and the leader
    assert reminders_run(today=date(2026, 7, 12)) == 0
    services.task_rate(actor=world["office"], task=task, level=RatingLevel.objects.first())
    assert reminders_run(today=date(2026, 7, 20)) == 0


def test_the_hourly_job_is_registered() -> None:
    from jixiao.jobs.models import JobKind
    from jixiao.jobs.periodic import PERIODIC

    assert JobKind.SUPERVISION_REMINDERS in {p.kind for p in PERIODIC}
    assert timedelta(hours=1) in {p.every for p in PERIODIC if p.kind == JobKind.SUPERVISION_REMINDERS}
