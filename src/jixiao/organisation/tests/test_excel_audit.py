from __future__ import annotations

import io

import pytest

from jixiao.accounts.models import AuditAction, AuditLog, Role
from jixiao.organisation.excel import registry_export, registry_import, template_rows, write_workbook
from jixiao.organisation.tests.factories import OfficialFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


def template() -> io.BytesIO:
    handle = io.BytesIO()
    write_workbook(handle, template_rows())
    handle.seek(0)
    return handle


def test_an_import_leaves_one_audit_entry_with_the_counts() -> None:
    office = UserFactory(role=Role.OFFICE, username="kaohe")
    registry_import(actor=office, source=template(), filename="名册.xlsx")
    entry = AuditLog.objects.get(action=AuditAction.IMPORT)
    assert entry.actor == office
    assert entry.object_repr == "名册.xlsx"
    assert entry.changes["counts"]["领导干部"] == {"created": 1, "updated": 0}
    assert AuditLog.objects.count() == 1  # one entry for the whole import, none per row


def test_a_rejected_import_is_not_audited_as_an_import() -> None:
    registry_import(actor=UserFactory(), source=io.BytesIO(b"junk"), filename="x.xlsx")
    assert not AuditLog.objects.filter(action=AuditAction.IMPORT).exists()


def test_an_export_is_audited_with_its_scope_and_counts() -> None:
    unit = UnitFactory()
    OfficialFactory(unit=unit)
    OfficialFactory()
    liaison = UserFactory(role=Role.LIAISON, unit=unit)
    registry_export(actor=liaison, target=io.BytesIO())
    entry = AuditLog.objects.get(action=AuditAction.EXPORT)
    assert entry.actor == liaison
    assert entry.changes["scope"] == f"unit:{unit.pk}"
    assert entry.changes["counts"]["领导干部"] == 1
