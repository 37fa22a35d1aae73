"""Each broken workbook is reported at the right sheet, Excel row and column, and writes nothing."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from jixiao.organisation.excel import ImportResult, RowError, registry_import
from jixiao.organisation.models import Official, Position, Region, Tenure, Unit
from jixiao.organisation.tests.factories import OfficialFactory, PositionFactory, TenureFactory, UnitFactory

pytestmark = pytest.mark.django_db

Sheets = dict[str, list[list[Any]]]


def valid_sheets() -> Sheets:
    """A small workbook that imports cleanly: header on row 1, data from row 2."""
    return {
        "区域": [["区域代码", "区域名称", "上级区域代码"], ["R1", "示例市", None]],
        "单位类别": [["类别代码", "类别名称", "排序", "说明"], ["C1", "县市区", 1, None]],
        "单位": [
            ["单位代码", "单位名称", "简称", "类别代码", "区域代码", "功能区代码", "参加考核"],
            ["U1", "甲县", None, "C1", "R1", None, "是"],
        ],
        "领导干部": [
            ["工号", "姓名", "性别", "出生日期", "单位代码", "层级", "职级", "职务", "在职"],
            ["G1", "张三", "男", date(1975, 3, 1), "U1", "班子正职", "正处级", "县长", "是"],
            ["G2", "李四", "女", "1980/6/1", "U1", "member", None, None, None],
            ["G3", "王五", None, None, "U1", "其他处级干部", None, None, "否"],
        ],
        "职务": [["单位代码", "职务名称", "层级", "分管工作"], ["U1", "县长", "班子正职", None]],
        "任职": [
            ["单位代码", "职务名称", "工号", "任职开始", "任职结束"],
            ["U1", "县长", "G2", date(2015, 1, 1), date(2020, 12, 31)],
            ["U1", "县长", "G1", date(2021, 1, 1), None],
        ],
    }


def save(sheets: Sheets) -> io.BytesIO:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        ws = workbook.create_sheet(name)
        for row in rows:
            ws.append(row)
    handle = io.BytesIO()
    workbook.save(handle)
    handle.seek(0)
    return handle


def import_with(change: Callable[[Sheets], None]) -> ImportResult:
    sheets = valid_sheets()
    change(sheets)
    return registry_import(actor=None, source=save(sheets))


def where(result: ImportResult) -> list[tuple[str, int | None, str]]:
    return [(e.sheet, e.row, e.column) for e in result.errors]


def assert_nothing_written() -> None:
    assert not Region.objects.exists()
    assert not Unit.objects.exists()
    assert not Official.objects.exists()
    assert not Tenure.objects.exists()


def test_the_valid_workbook_imports() -> None:
    result = registry_import(actor=None, source=save(valid_sheets()))
    assert result.ok, result.errors
    assert Official.objects.get(code="G2").birth_date == date(1980, 6, 1)
    assert Official.objects.get(code="G3").is_active is False


def test_an_unknown_layer_is_reported_on_its_cell() -> None:
    def change(s: Sheets) -> None:
        s["领导干部"][2][5] = "处长"

    result = import_with(change)
    assert where(result) == [("领导干部", 3, "层级")]
    assert "处长" in result.errors[0].message and "班子正职" in result.errors[0].message
    assert_nothing_written()


def test_an_unknown_unit_code_is_reported_on_its_cell() -> None:
    def change(s: Sheets) -> None:
        s["领导干部"][1][4] = "U404"

    result = import_with(change)
    assert where(result) == [("领导干部", 2, "单位代码")]
    assert "U404" in result.errors[0].message
    assert_nothing_written()


def test_a_unit_code_already_in_the_database_resolves() -> None:
    UnitFactory(code="U9")

    def change(s: Sheets) -> None:
        s["领导干部"][1][4] = "U9"

    assert import_with(change).ok
    assert Official.objects.get(code="G1").unit.code == "U9"


def test_a_missing_required_cell_is_reported() -> None:
    def change(s: Sheets) -> None:
        s["领导干部"][1][1] = None
        s["单位"][1][3] = "  "

    result = import_with(change)
    assert where(result) == [("单位", 2, "类别代码"), ("领导干部", 2, "姓名")]
    assert all(e.message == "必填项不能为空" for e in result.errors)
    assert_nothing_written()


def test_a_duplicate_code_is_reported_on_the_later_row() -> None:
    def change(s: Sheets) -> None:
        s["领导干部"][3][0] = "G1"

    result = import_with(change)
    assert where(result) == [("领导干部", 4, "工号")]
    assert "第 2 行" in result.errors[0].message
    assert_nothing_written()


def test_a_bad_date_is_reported() -> None:
    def change(s: Sheets) -> None:
        s["领导干部"][1][3] = "1975-13-01"
        s["任职"][1][3] = "去年"

    result = import_with(change)
    assert where(result) == [("领导干部", 2, "出生日期"), ("任职", 2, "任职开始")]
    assert_nothing_written()


def test_an_end_before_the_start_is_reported() -> None:
    def change(s: Sheets) -> None:
        s["任职"][1][4] = date(2014, 12, 31)

    result = import_with(change)
    assert where(result) == [("任职", 2, "任职结束")]
    assert result.errors[0].message == "任职结束日期早于任职开始日期"
    assert_nothing_written()


def test_two_open_tenures_on_one_post_are_both_reported() -> None:
    def change(s: Sheets) -> None:
        s["任职"][1][4] = None

    result = import_with(change)
    assert where(result) == [("任职", 2, "任职结束"), ("任职", 3, "任职结束")]
    assert_nothing_written()


def test_an_open_tenure_in_the_database_must_be_closed_before_a_successor_starts() -> None:
    post = PositionFactory(unit=UnitFactory(code="U7"), title="局长")
    TenureFactory(position=post, official=OfficialFactory(code="G70"), start=date(2019, 1, 1), end=None)
    sheets = {
        "任职": [
            ["单位代码", "职务名称", "工号", "任职开始", "任职结束"],
            ["U7", "局长", "G70", date(2019, 1, 1), None],
        ],
    }
    OfficialFactory(code="G71")
    sheets["任职"].append(["U7", "局长", "G71", date(2024, 1, 1), None])

    result = registry_import(actor=None, source=save(sheets))
    assert where(result) == [("任职", 2, "任职结束"), ("任职", 3, "任职结束")]

    del sheets["任职"][1]
    result = registry_import(actor=None, source=save(sheets))
    assert where(result) == [("任职", 2, "任职结束")]
    assert "G70" in result.errors[0].message
    assert Tenure.objects.count() == 1


def test_a_tenure_on_an_unknown_post_is_reported() -> None:
    def change(s: Sheets) -> None:
        s["任职"][2][1] = "县委书记"

    result = import_with(change)
    assert where(result) == [("任职", 3, "职务名称")]
    assert_nothing_written()


def test_a_wrong_header_names_both_the_stray_and_the_missing_column() -> None:
    def change(s: Sheets) -> None:
        s["领导干部"][0][1] = "名字"

    result = import_with(change)
    # Only the header is blamed: the tenures' 工号 column is not checked against a sheet that
    # could not be read.
    assert sorted(where(result)) == [("领导干部", 1, "名字"), ("领导干部", 1, "姓名")]
    assert_nothing_written()


def test_a_file_that_is_not_a_workbook_is_one_error() -> None:
    result = registry_import(actor=None, source=io.BytesIO("name,code\n张三,G1\n".encode()))
    assert len(result.errors) == 1
    assert result.errors[0].row is None and "Excel" in result.errors[0].message


def test_an_unknown_sheet_is_reported_and_nothing_is_written() -> None:
    def change(s: Sheets) -> None:
        s["干部名单"] = [["工号"], ["G9"]]

    result = import_with(change)
    assert where(result) == [("干部名单", None, "")]
    assert_nothing_written()


def test_every_bad_row_is_reported_not_just_the_first() -> None:
    def change(s: Sheets) -> None:
        for row in s["领导干部"][1:]:
            row[5] = "科员"

    result = import_with(change)
    assert where(result) == [("领导干部", 2, "层级"), ("领导干部", 3, "层级"), ("领导干部", 4, "层级")]


def test_row_numbers_count_blank_rows_as_excel_does() -> None:
    def change(s: Sheets) -> None:
        s["领导干部"].insert(2, [None] * 9)
        s["领导干部"][4][5] = "科员"

    result = import_with(change)
    assert where(result) == [("领导干部", 5, "层级")]


def test_existing_rows_are_untouched_when_any_row_is_bad(tmp_path: Path) -> None:
    official = OfficialFactory(code="G1", name="原名")

    def change(s: Sheets) -> None:
        s["领导干部"][2][5] = "科员"

    assert not import_with(change).ok
    official.refresh_from_db()
    assert official.name == "原名"
    assert Official.objects.count() == 1


def test_numeric_codes_and_text_dates_are_accepted() -> None:
    def change(s: Sheets) -> None:
        s["领导干部"][3][0] = 1001
        s["领导干部"][3][3] = "1975年3月1日"

    assert import_with(change).ok
    assert Official.objects.get(code="1001").birth_date == date(1975, 3, 1)


def test_a_region_cannot_be_its_own_ancestor() -> None:
    def change(s: Sheets) -> None:
        s["区域"][1][2] = "R2"
        s["区域"].append(["R2", "乙市", "R1"])

    result = import_with(change)
    assert where(result) == [("区域", 2, "上级区域代码"), ("区域", 3, "上级区域代码")]


def test_a_position_key_is_unit_and_title() -> None:
    def change(s: Sheets) -> None:
        s["职务"].append(["U1", "县长", "班子成员", None])

    result = import_with(change)
    assert where(result) == [("职务", 3, "单位代码")]
    assert not Position.objects.exists()


def test_errors_print_as_sheet_row_column_message() -> None:
    assert str(RowError("领导干部", 3, "层级", "错误")) == "领导干部 3 层级: 错误"
