"""Publishing approved targets, the 目标公布 page and its exports, change requests after
publication, and dynamic tasks the office assigns."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import AuditAction, AuditLog, Role, User
from jixiao.declarations import drafting, dynamic, publication, submission
from jixiao.declarations.models import (
    ChangeRequest,
    ChangeRequestStatus,
    Declaration,
    DeclarationStatus,
    DeclaredIndicator,
)
from jixiao.declarations.tests.factories import (
    DeclarationFactory,
    DeclaredIndicatorFactory,
    Framework,
    framework,
)
from jixiao.notifications.models import Notification
from jixiao.organisation.excel.reader import read_workbook
from jixiao.organisation.tests.factories import UnitFactory, UserFactory
from jixiao.schemes.models import CycleStage, CycleStatus, IndicatorKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def fw() -> Framework:
    return framework()


@pytest.fixture
def office() -> User:
    user: User = UserFactory(role=Role.OFFICE)
    return user


def _approved(fw: Framework, name: str = "财政收入增长") -> tuple[Declaration, User]:
    """A unit's declaration submitted (no review stages: approved directly) with one indicator."""
    unit = UnitFactory(category=fw.scheme.category)
    liaison: User = UserFactory(role=Role.LIAISON, unit=unit)
    declaration: Declaration = DeclarationFactory(cycle=fw.cycle, unit=unit)
    DeclaredIndicatorFactory(declaration=declaration, parent=fw.economy, name=name, target=Decimal("8.5"))
    submission.declaration_submit(actor=liaison, declaration=declaration)
    declaration.refresh_from_db()
    return declaration, liaison


def _stage(fw: Framework, stage: str) -> None:
    fw.cycle.stage = stage
    fw.cycle.save()


def test_publish_sets_the_published_version_audited(fw: Framework, office: User) -> None:
    declaration, liaison = _approved(fw)
    _stage(fw, CycleStage.PUBLICATION)
    publication.declaration_publish(actor=office, declaration=declaration)
    declaration.refresh_from_db()
    assert (declaration.status, declaration.published_version) == (DeclarationStatus.PUBLISHED, 1)
    assert declaration.published_at is not None
    assert AuditLog.objects.filter(
        object_type="declarations.declaration", object_id=str(declaration.pk)
    ).exists()
    assert Notification.objects.filter(recipient=liaison).exists()


def test_publish_is_refused_before_the_publication_stage(fw: Framework, office: User) -> None:
    declaration, _liaison = _approved(fw)
    with pytest.raises(ValidationError, match="不能公布目标"):
        publication.declaration_publish(actor=office, declaration=declaration)


def test_only_the_office_publishes(fw: Framework) -> None:
    declaration, liaison = _approved(fw)
    _stage(fw, CycleStage.PUBLICATION)
    with pytest.raises(PermissionDenied):
        publication.declaration_publish(actor=liaison, declaration=declaration)


def test_publish_all_of_a_category_counts_the_approved_ones(fw: Framework, office: User) -> None:
    _approved(fw, "甲")
    _approved(fw, "乙")
    DeclarationFactory(cycle=fw.cycle, unit=UnitFactory(category=fw.scheme.category))  # still a draft
    _stage(fw, CycleStage.PUBLICATION)
    assert publication.declarations_publish(actor=office, cycle=fw.cycle, category=fw.scheme.category) == 2


def test_publication_page_and_exports(client: Client, fw: Framework, office: User) -> None:
    _declaration, liaison = _approved(fw, "规上工业增加值")
    _approved(fw, "他单位的指标")
    _stage(fw, CycleStage.PUBLICATION)
    publication.declarations_publish(actor=office, cycle=fw.cycle)

    client.force_login(liaison)
    page = client.get(reverse("declarations:publication"), {"year": fw.cycle.year}).content.decode()
    assert "规上工业增加值" in page and "他单位的指标" not in page  # a unit sees its own only

    client.force_login(office)
    page = client.get(reverse("declarations:publication"), {"year": fw.cycle.year}).content.decode()
    assert "规上工业增加值" in page and "他单位的指标" in page
    xlsx = client.get(reverse("declarations:publication_export", args=["xlsx"]), {"year": fw.cycle.year})
    assert xlsx.status_code == 200
    sheets = read_workbook(io.BytesIO(b"".join(xlsx.streaming_content if xlsx.streaming else [xlsx.content])))
    sheet = next(iter(sheets.values()))
    assert sheet.headers[:3] == ["单位", "公布版本", "框架指标"]
    names = sheet.columns[sheet.headers.index("申报指标")]
    assert sorted(names) == ["他单位的指标", "规上工业增加值"]
    pdf = client.get(reverse("declarations:publication_export", args=["pdf"]), {"year": fw.cycle.year})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert AuditLog.objects.filter(action=AuditAction.EXPORT).count() == 2


def test_a_long_published_list_becomes_a_background_pdf_only_its_requester_downloads(
    client: Client, fw: Framework, office: User, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jixiao.declarations.models import PublicationExport
    from jixiao.jobs.models import JobStatus

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    monkeypatch.setattr(publication, "INLINE_PDF_UNITS", 1)  # two units count as a long list here
    _approved(fw, "规上工业增加值")
    _approved(fw, "他单位的指标")
    _stage(fw, CycleStage.PUBLICATION)
    publication.declarations_publish(actor=office, cycle=fw.cycle)
    client.force_login(office)
    query = {"year": fw.cycle.year}
    inline = client.get(reverse("declarations:publication_export", args=["pdf"]), query)
    assert inline.status_code == 302  # not rendered during the request
    page = client.get(reverse("declarations:publication"), query).content.decode()
    assert "后台生成 PDF" in page
    started = client.post(f"{reverse('declarations:publication_pdf_start')}?year={fw.cycle.year}")
    assert started.status_code == 302
    export = PublicationExport.objects.get()
    assert export.job is not None and export.job.status == JobStatus.SUCCEEDED and export.unit_count == 2
    page = client.get(reverse("declarations:publication"), query).content.decode()
    assert "下载 PDF（2 个单位" in page
    download = client.get(reverse("declarations:publication_pdf", args=[export.pk]))
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    assert AuditLog.objects.filter(action=AuditAction.EXPORT).count() == 1
    status = client.get(reverse("declarations:publication_pdf_status", args=[export.pk]))
    assert status.status_code == 200 and "已完成" in status.content.decode()

    client.force_login(UserFactory(role=Role.OFFICE))  # another office user: not their list
    assert client.get(reverse("declarations:publication_pdf", args=[export.pk])).status_code == 404
    assert client.get(reverse("declarations:publication_pdf_status", args=[export.pk])).status_code == 404


def test_change_request_flow_republishes_and_closes_the_request(fw: Framework, office: User) -> None:
    declaration, liaison = _approved(fw)
    _stage(fw, CycleStage.PUBLICATION)
    publication.declaration_publish(actor=office, declaration=declaration)
    _stage(fw, CycleStage.TRACKING)

    change = publication.change_request_file(actor=liaison, declaration=declaration, reason="上级调整任务")
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.CHANGING and change.from_version == 1
    with pytest.raises(ValidationError, match="已有一项变更申请"):
        publication.change_request_file(actor=liaison, declaration=declaration, reason="再来一次")

    # The working copy is editable while changing; the published list keeps version 1.
    indicator = DeclaredIndicator.objects.get(declaration=declaration)
    drafting.indicator_update(
        actor=liaison,
        indicator=indicator,
        rule_type="completion",
        rule_params={"cap": 1.2},
        target=Decimal("9"),
        weight=Decimal("100"),
    )
    submission.declaration_submit(actor=liaison, declaration=declaration)  # no review stage: approved
    declaration.refresh_from_db()
    assert declaration.published_version == 1 and declaration.version == 2
    publication.declaration_publish(actor=office, declaration=declaration)
    declaration.refresh_from_db()
    change.refresh_from_db()
    assert declaration.published_version == 2
    assert (change.status, change.to_version) == (ChangeRequestStatus.APPROVED, 2)


def test_withdrawing_a_change_request_restores_the_published_targets_and_keeps_their_rows(
    client: Client, fw: Framework, office: User
) -> None:
    declaration, liaison = _approved(fw)
    _stage(fw, CycleStage.PUBLICATION)
    publication.declaration_publish(actor=office, declaration=declaration)
    _stage(fw, CycleStage.TRACKING)
    kept = DeclaredIndicator.objects.get(declaration=declaration)
    published = (kept.weight, dict(kept.rule_params))
    publication.change_request_file(actor=liaison, declaration=declaration, reason="上级调整任务")
    drafting.indicator_update(
        actor=liaison, indicator=kept, rule_type="completion", rule_params={"cap": 1.5},
        target=Decimal("12"), weight=Decimal("60"), name="改过的名称",
    )  # fmt: skip
    added = drafting.indicator_create(
        actor=liaison, declaration=declaration, parent=fw.economy, rule_type="completion",
        rule_params={}, name="新增指标", target=Decimal("3"), weight=Decimal("40"),
    )  # fmt: skip
    submission.declaration_submit(actor=liaison, declaration=declaration)  # the change in review

    client.force_login(liaison)
    page = client.get(reverse("declarations:declaration_detail", args=[declaration.pk])).content.decode()
    assert "撤回变更申请" in page
    response = client.post(reverse("declarations:change_withdraw", args=[declaration.pk]))
    assert response.status_code == 302
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.PUBLISHED and declaration.published_version == 1
    rows = list(DeclaredIndicator.objects.filter(declaration=declaration))
    assert [r.pk for r in rows] == [kept.pk] and not DeclaredIndicator.objects.filter(pk=added.pk).exists()
    assert (rows[0].name, rows[0].target) == ("财政收入增长", Decimal("8.5"))
    assert (rows[0].weight, rows[0].rule_params) == published
    change = ChangeRequest.objects.get(declaration=declaration)
    assert change.status == ChangeRequestStatus.WITHDRAWN and change.closed_at is not None
    assert AuditLog.objects.filter(
        object_type="declarations.changerequest", action=AuditAction.UPDATE
    ).exists()
    with pytest.raises(ValidationError, match="没有正在办理的变更申请"):
        publication.change_request_withdraw(actor=liaison, declaration=declaration)
    other = UserFactory(role=Role.LIAISON, unit=UnitFactory(category=fw.scheme.category))
    publication.change_request_file(actor=liaison, declaration=declaration, reason="再次调整")
    with pytest.raises(PermissionDenied):
        publication.change_request_withdraw(actor=other, declaration=declaration)


def test_change_request_needs_published_targets(fw: Framework) -> None:
    declaration, liaison = _approved(fw)
    _stage(fw, CycleStage.TRACKING)
    with pytest.raises(ValidationError, match="目标公布后才能申请变更"):
        publication.change_request_file(actor=liaison, declaration=declaration, reason="x")


def test_change_request_page(client: Client, fw: Framework, office: User) -> None:
    declaration, liaison = _approved(fw)
    _stage(fw, CycleStage.PUBLICATION)
    publication.declaration_publish(actor=office, declaration=declaration)
    client.force_login(liaison)
    empty = client.post(reverse("declarations:change_request", args=[declaration.pk]), {"reason": ""})
    assert empty.status_code == 200 and "这个字段是必填项" in empty.content.decode()
    done = client.post(reverse("declarations:change_request", args=[declaration.pk]), {"reason": "机构调整"})
    assert done.status_code == 302 and ChangeRequest.objects.filter(declaration=declaration).exists()


def test_dynamic_task_creates_indicators_and_keeps_published_targets_published(
    fw: Framework, office: User
) -> None:
    published, liaison = _approved(fw)
    _stage(fw, CycleStage.PUBLICATION)
    publication.declaration_publish(actor=office, declaration=published)
    _stage(fw, CycleStage.TRACKING)
    fresh_unit = UnitFactory(category=fw.scheme.category)  # no declaration yet
    task = dynamic.dynamic_task_create(
        actor=office,
        cycle=fw.cycle,
        name="防汛抗旱专项",
        parent=fw.people,
        weight=Decimal("100"),
        rule_type="completion",
        rule_params={},
        effective_from=dt.date(2026, 7, 1),
        units=[published.unit, fresh_unit],
    )
    rows = DeclaredIndicator.objects.filter(task=task)
    assert rows.count() == 2 and {r.kind for r in rows} == {IndicatorKind.DYNAMIC}
    assert Declaration.objects.filter(cycle=fw.cycle, unit=fresh_unit).exists()
    published.refresh_from_db()
    assert (published.status, published.published_version) == (DeclarationStatus.PUBLISHED, 2)
    assert Notification.objects.filter(recipient=liaison, cause=f"dynamic_task:{task.pk}").exists()
    assert AuditLog.objects.filter(object_type="declarations.dynamictask").exists()


def test_dynamic_task_refuses_units_of_another_category(fw: Framework, office: User) -> None:
    with pytest.raises(ValidationError):
        dynamic.dynamic_task_create(
            actor=office,
            cycle=fw.cycle,
            name="x",
            parent=fw.people,
            weight=Decimal("100"),
            rule_type="completion",
            rule_params={},
            effective_from=dt.date(2026, 7, 1),
            units=[UnitFactory()],
        )


def test_dynamic_task_page(client: Client, fw: Framework, office: User) -> None:
    unit = UnitFactory(category=fw.scheme.category)
    client.force_login(office)
    form = client.get(reverse("declarations:task_create"), {"year": fw.cycle.year})
    assert form.status_code == 200
    response = client.post(
        reverse("declarations:task_create") + f"?year={fw.cycle.year}",
        {
            "name": "营商环境专项",
            "parent": fw.people.pk,
            "weight": "100",
            "effective_from": "2026-07-01",
            "units": [unit.pk],
            "rule_type": "completion",
        },
    )
    assert response.status_code == 302
    assert DeclaredIndicator.objects.filter(declaration__unit=unit, kind=IndicatorKind.DYNAMIC).exists()
    listing = client.get(reverse("declarations:task_list"), {"year": fw.cycle.year}).content.decode()
    assert "营商环境专项" in listing and unit.name in listing


def test_closed_cycle_refuses_publication_and_tasks(fw: Framework, office: User) -> None:
    declaration, _liaison = _approved(fw)
    fw.cycle.stage = CycleStage.PUBLICATION
    fw.cycle.status = CycleStatus.CLOSED
    fw.cycle.save()
    with pytest.raises(ValidationError, match="已结束"):
        publication.declaration_publish(actor=office, declaration=declaration)


def _queries(client: Client, url: str, params: dict[str, object]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params).status_code == 200
    return len(ctx.captured_queries)


def test_list_and_publication_pages_keep_a_constant_number_of_queries(
    client: Client, fw: Framework, office: User
) -> None:
    _approved(fw, "甲")
    _stage(fw, CycleStage.PUBLICATION)
    publication.declarations_publish(actor=office, cycle=fw.cycle)
    client.force_login(office)
    params = {"year": fw.cycle.year}
    before = {
        name: _queries(client, reverse(name), params)
        for name in ("declarations:home", "declarations:publication")
    }
    for label in ("乙", "丙", "丁"):
        _stage(fw, CycleStage.DECLARATION)
        _approved(fw, label)
    _stage(fw, CycleStage.PUBLICATION)
    publication.declarations_publish(actor=office, cycle=fw.cycle)
    after = {
        name: _queries(client, reverse(name), params)
        for name in ("declarations:home", "declarations:publication")
    }
    assert after == before


def test_declaration_page_keeps_a_constant_number_of_queries(client: Client, fw: Framework) -> None:
    declaration, liaison = _approved(fw)
    client.force_login(liaison)
    url = reverse("declarations:declaration_detail", args=[declaration.pk])
    before = _queries(client, url, {})
    for i in range(5):
        DeclaredIndicatorFactory(declaration=declaration, parent=fw.people, name=f"指标{i}")
    assert _queries(client, url, {}) == before
