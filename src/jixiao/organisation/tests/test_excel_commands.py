from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from jixiao.accounts.models import AuditAction, AuditLog
from jixiao.organisation.excel import template_rows, write_workbook
from jixiao.organisation.excel.specs import SHEETS_BY_NAME
from jixiao.organisation.models import Official
from jixiao.organisation.tests.factories import OfficialFactory

pytestmark = pytest.mark.django_db


def test_import_registry_prints_every_error_and_fails(tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    spec = SHEETS_BY_NAME["领导干部"]
    rows = [
        ["G1", "张三", "男", None, "U404", "班子正职", "", "", "是"],
        ["G2", "", "男", None, "U404", "x", "", "", "是"],
    ]
    write_workbook(str(path), [(spec, rows)], notes=False)
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_registry", str(path), stderr=err)
    assert raised.value.returncode == 1
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("领导干部 2 单位代码: ")
    assert "领导干部 3 姓名: 必填项不能为空" in lines
    assert len(lines) == 4
    assert not Official.objects.exists()


def test_import_registry_prints_counts(tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    write_workbook(str(path), template_rows())
    out = io.StringIO()
    call_command("import_registry", str(path), stdout=out)
    assert "领导干部：新增 1，更新 0" in out.getvalue()


def test_export_registry_writes_a_file_that_imports_back(tmp_path: Path) -> None:
    OfficialFactory(code="G1")
    path = tmp_path / "out.xlsx"
    call_command("export_registry", "--out", str(path), stdout=io.StringIO())
    assert AuditLog.objects.filter(action=AuditAction.EXPORT).exists()
    out = io.StringIO()
    call_command("import_registry", str(path), stdout=out)
    assert "领导干部：新增 0，更新 1" in out.getvalue()
