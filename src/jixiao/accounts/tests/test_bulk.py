"""Bulk-creating accounts from an Excel sheet and handing out the initial passwords once."""

from __future__ import annotations

import io
import re
import zlib
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from jixiao.accounts import bulk
from jixiao.accounts.credentials import SESSION_KEY
from jixiao.accounts.models import AuditAction, AuditLog, Role, User
from jixiao.organisation.excel.reader import read_workbook
from jixiao.organisation.tests.factories import OfficialFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


def _sheet(rows: list[list[Any]], headers: tuple[str, ...] = bulk.HEADERS) -> SimpleUploadedFile:
    workbook = openpyxl.Workbook()
    ws = workbook.active
    assert ws is not None
    ws.title = bulk.SHEET
    ws.append(list(headers))
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("accounts.xlsx", buffer.getvalue())


def _page_count(pdf: bytes) -> int:
    """The /Count of the PDF's page tree (weasyprint compresses it into an object stream)."""
    chunks = [pdf]
    # The stream's data runs to the end-of-line before "endstream"; compressed bytes may end in
    # "\r" themselves (the passwords make every PDF differ), so the data is taken with its line
    # end and a decompressor ignores what follows the deflate stream.
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            chunks.append(zlib.decompressobj().decompress(match.group(1)))
        except zlib.error:
            continue
    pattern = re.compile(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)|/Count\s+(\d+)[^>]*?/Type\s*/Pages\b")
    return max((int(a or b) for chunk in chunks for a, b in pattern.findall(chunk)), default=0)


def _office(client: Client) -> User:
    office = UserFactory(role=Role.SYSADMIN, username="office")
    client.force_login(office)
    return office


def test_template_lists_one_liaison_row_per_unit_without_a_liaison(client: Client) -> None:
    _office(client)
    served = UnitFactory(code="U1")
    UserFactory(role=Role.LIAISON, unit=served)
    UnitFactory(code="U2", name="乙县")
    UnitFactory(code="U3", name="丙县")
    UnitFactory(code="U4", is_active=False)
    response = client.get(reverse("accounts:user_import_template"))
    assert response.status_code == 200
    sheet = read_workbook(io.BytesIO(response.content))[bulk.SHEET]
    assert sheet.headers == list(bulk.HEADERS)
    codes, names, roles = sheet.columns[0], sheet.columns[1], sheet.columns[4]
    assert codes == ["U2", "U3"]
    assert names == ["乙县", "丙县"]
    assert set(roles) == {"单位绩效员"}


def test_the_template_as_downloaded_creates_liaisons_for_all_units_and_the_passwords_download_once(
    client: Client,
) -> None:
    office = _office(client)
    units = [UnitFactory(code=f"X{i}", name=f"县{i}", short_name=f"县{i}简") for i in range(3)]
    template = client.get(reverse("accounts:user_import_template")).content
    response = client.post(
        reverse("accounts:user_import"), {"file": SimpleUploadedFile("accounts.xlsx", template)}
    )
    assert response.status_code == 302
    liaisons = User.objects.filter(role=Role.LIAISON).order_by("username")
    assert [(u.username, u.unit_id, u.display_name) for u in liaisons] == [
        (f"jxy_x{i}", units[i].pk, f"县{i}简绩效员") for i in range(3)
    ]
    assert all(u.must_change_password for u in liaisons)
    # Sealed in the session, not readable there.
    sealed = client.session[SESSION_KEY]
    page = client.get(reverse("accounts:user_import")).content.decode()
    assert "下载可打印的密码通知" in page

    # A GET (a prefetch, a pasted link) does not use up the only copy.
    assert client.get(reverse("accounts:user_credentials", args=["pdf"])).status_code == 405
    pdf = client.post(reverse("accounts:user_credentials", args=["pdf"]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert _page_count(pdf.content) == 1  # three notices fit on one A4 page
    xlsx = client.post(reverse("accounts:user_credentials", args=["xlsx"]))
    rows = list(openpyxl.load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0][:6] == ("单位代码", "单位名称", "姓名", "角色", "用户名", "初始密码")
    by_username = {r[4]: r[5] for r in rows[1:4]}
    for user in liaisons:
        password = by_username[user.username]
        assert password not in sealed["token"]
        assert user.check_password(password)

    # Once each: the second request finds nothing, and the session no longer holds them.
    again = client.post(reverse("accounts:user_credentials", args=["pdf"]))
    assert again.status_code == 302
    assert SESSION_KEY not in client.session
    exports = AuditLog.objects.filter(action=AuditAction.EXPORT, actor=office)
    assert sorted(e.changes["file"] for e in exports) == ["initial-passwords.pdf", "initial-passwords.xlsx"]
    assert all(e.changes["accounts"] == 3 for e in exports)
    assert AuditLog.objects.filter(action=AuditAction.IMPORT, actor=office).get().changes["created"] == 3
    assert AuditLog.objects.filter(action=AuditAction.CREATE, object_type="accounts.user").count() == 3
    for entry in AuditLog.objects.all():
        for password in by_username.values():
            assert password not in str(entry.changes)


def test_one_bad_row_writes_nothing_and_names_the_row_and_column(client: Client) -> None:
    _office(client)
    UnitFactory(code="A1", name="甲县")
    UnitFactory(code="A2", name="乙县")
    upload = _sheet(
        [
            ["A1", "甲县", "张三", "13800138000", "单位绩效员"],
            ["A2", "乙县", "李四", "138", "单位绩效员"],
            ["A9", "", "王五", "", "单位绩效员"],
            ["", "", "赵六", "", "管理员"],
        ]
    )
    response = client.post(reverse("accounts:user_import"), {"file": upload})
    assert response.status_code == 200
    errors = [(e.row, e.column) for e in response.context["errors"]]
    assert errors == [(3, "手机号"), (4, "单位代码"), (5, "角色")]
    page = response.content.decode()
    assert "未开通任何账户" in page and "请填写 11 位手机号" in page
    assert not User.objects.filter(role=Role.LIAISON).exists()
    assert not AuditLog.objects.filter(action=AuditAction.IMPORT).exists()


def test_import_links_an_official_by_name_in_the_unit_and_gives_unique_usernames() -> None:
    office = UserFactory(role=Role.SYSADMIN)  # 三权分立: the system admin opens accounts
    unit = UnitFactory(code="B1", name="市统计局")
    official = OfficialFactory(unit=unit, name="陈明")
    UserFactory(username="jxy_b1", role=Role.LIAISON, unit=unit)
    upload = _sheet(
        [
            ["B1", "", "", "", "单位绩效员"],
            ["", "市统计局", "刘一", "", "牵头单位"],
            ["B1", "", "陈明", "", "领导干部"],
        ]
    )
    outcome = bulk.accounts_import(actor=office, source=upload, filename="a.xlsx")
    assert outcome.ok, outcome.errors
    assert [c.username for c in outcome.created] == ["jxy_b1_2", "qt_b1", "gb_b1"]
    assert User.objects.get(username="gb_b1").official_id == official.pk


def test_an_official_row_naming_nobody_in_the_unit_is_refused() -> None:
    office = UserFactory(role=Role.SYSADMIN)  # 三权分立: the system admin opens accounts
    UnitFactory(code="C1", name="某局")
    outcome = bulk.accounts_import(actor=office, source=_sheet([["C1", "", "无此人", "", "领导干部"]]))
    assert [(e.row, e.column) for e in outcome.errors] == [(2, "姓名")]
    assert "没有名为“无此人”的在职干部" in outcome.errors[0].message


def test_a_sheet_without_the_role_column_is_refused_by_column() -> None:
    office = UserFactory(role=Role.SYSADMIN)  # 三权分立: the system admin opens accounts
    outcome = bulk.accounts_import(
        actor=office, source=_sheet([["C1", "某局", "甲"]], headers=("单位代码", "单位名称", "姓名"))
    )
    assert [(e.row, e.column, e.message) for e in outcome.errors] == [(1, "角色", "缺少此列")]


def test_a_username_taken_by_someone_else_during_the_import_writes_nothing_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    office = UserFactory(role=Role.SYSADMIN)  # 三权分立: the system admin opens accounts
    unit = UnitFactory(code="D1", name="某局")
    UserFactory(username="taken", role=Role.AUDITOR)
    # The names were read before another office user created "taken" (the race, made certain).
    monkeypatch.setattr(bulk, "_usernames", lambda rows: ["taken" for _ in rows])
    outcome = bulk.accounts_import(actor=office, source=_sheet([["D1", "", "", "", "单位绩效员"]]))
    assert not outcome.ok and "请重新导入" in outcome.errors[0].message
    assert not User.objects.filter(unit=unit).exists()
    assert not AuditLog.objects.filter(action=AuditAction.IMPORT).exists()
