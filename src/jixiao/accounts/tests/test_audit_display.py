"""The audit log page names object types and shows changes field by field, in words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from jixiao.accounts.audit import audit_record
from jixiao.accounts.audit_display import audit_rows
from jixiao.accounts.models import AuditAction, AuditLog, Role, User
from jixiao.evaluations.models import EvaluationEvent
from jixiao.organisation.tests.factories import UnitFactory, UserFactory
from jixiao.schemes.models import RaterGroup
from jixiao.schemes.tests.factories import CycleFactory

pytestmark = pytest.mark.django_db


def test_object_type_is_the_models_name_and_a_diff_reads_old_to_new_with_field_names() -> None:
    user = UserFactory(role=Role.LIAISON)
    unit = UnitFactory(name="市财政局")
    audit_record(
        actor=None, action=AuditAction.UPDATE, obj=user,
        changes={"role": ["liaison", "lead_dept"], "is_active": [True, False], "unit_id": [None, unit.pk]},
    )  # fmt: skip
    row = audit_rows(AuditLog.objects.all())[0]
    assert row.object_type == "用户"
    changes = dict(row.changes)
    active = str(User._meta.get_field("is_active").verbose_name)
    assert changes["角色"] == "单位绩效员 → 牵头单位"
    assert changes[active] == "是 → 否"
    assert changes[str(User._meta.get_field("unit").verbose_name)] == "— → 市财政局"


def test_counts_by_rater_group_code_read_by_group_name_and_times_in_local_time() -> None:
    cycle = CycleFactory(year=2025)
    RaterGroup.objects.create(cycle=cycle, code="public", name="群众", min_ballots=1)
    when = datetime(2025, 12, 1, 1, 30, tzinfo=UTC)
    audit_record(
        actor=None, action=AuditAction.CREATE, obj=cycle,
        changes={"groups": {"public": 24}, "updated": when.isoformat(), "format": "xlsx"},
    )  # fmt: skip
    changes = audit_rows(AuditLog.objects.all())[0].changes
    assert ("评价主体", "群众 24") in changes
    assert ("更新", "2025-12-01 09:30") in changes  # Asia/Shanghai
    assert ("格式", "Excel 表格") in changes


def test_the_audit_page_shows_no_dict_and_no_model_label(client: Client) -> None:
    office = UserFactory(role=Role.OFFICE)
    audit_record(actor=office, action=AuditAction.UPDATE, obj=office, changes={"is_active": [True, True]})
    client.force_login(UserFactory(role=Role.AUDITADMIN))
    page = client.get(reverse("accounts:audit_log")).content.decode()
    assert "accounts.user" not in page and "{&#x27;" not in page
    assert "用户" in page


def test_closing_an_evaluation_reads_its_counts_in_words_and_its_source_by_the_events_name() -> None:
    cycle = CycleFactory(year=2025)
    event = EvaluationEvent.objects.create(
        cycle=cycle, name="2025年度民主测评", closes_at=datetime(2025, 12, 20, tzinfo=UTC)
    )
    audit_record(
        actor=None, action=AuditAction.UPDATE, obj=event,
        changes={"tally_sha256": "ab" * 32, "source": event.source, "withheld_groups": 0, "evaluation_scores": 12},
    )  # fmt: skip
    changes = dict(audit_rows(AuditLog.objects.all())[0].changes)
    assert changes["来源"] == "2025年度民主测评"
    assert changes["计票摘要 SHA-256"] == "ab" * 32
    assert changes["低于最少人数未计入的评价主体数"] == "0"
    assert changes["写入测评得分条数"] == "12"
