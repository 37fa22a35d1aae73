from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import AuditAction, AuditLog, Role
from jixiao.organisation.excel import XLSX_CONTENT_TYPE, template_rows, write_workbook
from jixiao.organisation.excel.reader import read_workbook
from jixiao.organisation.excel.specs import NOTES_SHEET, SHEETS
from jixiao.organisation.models import Official
from jixiao.organisation.tests.factories import OfficialFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


def template_file() -> io.BytesIO:
    handle = io.BytesIO()
    write_workbook(handle, template_rows())
    handle.seek(0)
    handle.name = "名册.xlsx"
    return handle


def download(response: object) -> dict[str, list[list[object]]]:
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    sheets = read_workbook(io.BytesIO(body))
    return {name: [list(r) for r in zip(*s.columns, strict=True)] for name, s in sheets.items()}


@pytest.mark.parametrize("name", ["registry_io:import", "registry_io:template", "registry_io:export"])
def test_anonymous_users_are_sent_to_login(client: Client, name: str) -> None:
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize("role", [Role.LIAISON, Role.AUDITOR, Role.LEADER, Role.OFFICIAL])
def test_only_the_office_may_import(client: Client, role: Role) -> None:
    client.force_login(UserFactory(role=role, unit=UnitFactory()))
    assert client.get(reverse("registry_io:import")).status_code == 403
    assert client.post(reverse("registry_io:import"), {"file": template_file()}).status_code == 403
    assert not Official.objects.exists()


def test_the_office_sees_an_upload_form_with_csrf(client: Client) -> None:
    client.force_login(UserFactory(role=Role.OFFICE))
    response = client.get(reverse("registry_io:import"))
    assert response.status_code == 200
    assert b'enctype="multipart/form-data"' in response.content
    assert b"csrfmiddlewaretoken" in response.content


def test_an_upload_without_the_csrf_token_is_refused() -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(role=Role.OFFICE))
    assert client.post(reverse("registry_io:import"), {"file": template_file()}).status_code == 403


def test_a_clean_upload_shows_the_counts(client: Client) -> None:
    client.force_login(UserFactory(role=Role.OFFICE))
    response = client.post(reverse("registry_io:import"), {"file": template_file()})
    assert response.status_code == 200
    assert response.context["result"].ok
    assert "导入成功" in response.content.decode()
    assert Official.objects.filter(code="G000001").exists()


def test_a_broken_upload_lists_sheet_row_column_and_message(client: Client) -> None:
    client.force_login(UserFactory(role=Role.OFFICE))
    upload = io.BytesIO("不是表格".encode())
    upload.name = "坏文件.xlsx"
    response = client.post(reverse("registry_io:import"), {"file": upload})
    assert response.status_code == 422
    assert "不是有效的 Excel" in response.content.decode()

    handle = io.BytesIO()
    rows = template_rows()
    spec, (example,) = rows[5]
    bad = list(example)
    bad[5] = "科员"
    write_workbook(handle, [(spec, [bad])], notes=False)
    handle.seek(0)
    handle.name = "名册.xlsx"
    response = client.post(reverse("registry_io:import"), {"file": handle})
    html = response.content.decode()
    assert response.status_code == 422
    assert 'class="grid import-errors"' in html
    assert "<td>领导干部</td>" in html and ">2</td>" in html and "<td>层级</td>" in html


def test_the_template_has_every_sheet_headers_an_example_and_notes(client: Client) -> None:
    client.force_login(UserFactory(role=Role.LIAISON, unit=UnitFactory()))
    response = client.get(reverse("registry_io:template"))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert "attachment" in response["Content-Disposition"]
    sheets = download(response)
    assert list(sheets) == [NOTES_SHEET, *(s.name for s in SHEETS)]
    notes = "\n".join(str(c) for row in sheets[NOTES_SHEET] for c in row)
    assert "班子正职" in notes and "其他处级干部" in notes and "层级" in notes
    assert all(len(sheets[s.name]) == 1 for s in SHEETS)


def test_an_auditor_exports_the_whole_registry(client: Client) -> None:
    OfficialFactory(code="G1")
    OfficialFactory(code="G2")
    client.force_login(UserFactory(role=Role.AUDITOR))
    response = client.get(reverse("registry_io:export"))
    assert response.status_code == 200
    assert [r[0] for r in download(response)["领导干部"]] == ["G1", "G2"]
    assert AuditLog.objects.filter(action=AuditAction.EXPORT).count() == 1


def test_a_liaison_exports_only_their_own_unit(client: Client) -> None:
    mine, other = UnitFactory(code="U1"), UnitFactory(code="U2")
    OfficialFactory(code="G1", unit=mine)
    OfficialFactory(code="G2", unit=other)
    client.force_login(UserFactory(role=Role.LIAISON, unit=mine))
    sheets = download(client.get(reverse("registry_io:export")))
    assert [r[0] for r in sheets["领导干部"]] == ["G1"]
    assert [r[0] for r in sheets["单位"]] == ["U1"]


@pytest.mark.parametrize("role", [Role.OFFICIAL, Role.LEAD_DEPT])
def test_other_roles_may_not_export(client: Client, role: Role) -> None:
    client.force_login(UserFactory(role=role, unit=UnitFactory()))
    assert client.get(reverse("registry_io:export")).status_code == 403
