"""web.workbooks: the bounds checked before a workbook is read, and text written as text."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from django.test import override_settings

from jixiao.accounts.bulk import Credential
from jixiao.accounts.credentials import credentials_xlsx
from jixiao.organisation.excel import template_rows, write_workbook
from jixiao.organisation.excel.specs import SHEETS_BY_KEY, SheetKey
from jixiao.web.tests import hostile
from jixiao.web.workbooks import Limits, WorkbookRefused, check_workbook, safe_workbook

EVIL = ['=HYPERLINK("http://127.0.0.1/","x")', "+1", "-2+3", "@SUM(A1)", "\tx", "=1+1"]


def _no_formulas(data: bytes) -> list[openpyxl.cell.Cell]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    return cells


def test_strings_that_look_like_formulas_are_written_as_text_with_the_quote_prefix() -> None:
    buffer = io.BytesIO()
    book = safe_workbook(buffer, {"in_memory": True, "strings_to_formulas": True})
    ws = book.add_worksheet("s")
    for i, value in enumerate(EVIL):
        ws.write(i, 0, value)
    book.close()
    cells = _no_formulas(buffer.getvalue())
    assert [c.value for c in cells] == EVIL
    assert all(c.quotePrefix for c in cells)


def test_the_registry_export_and_the_credentials_sheet_keep_formula_like_names_as_text() -> None:
    spec, rows = template_rows()[0]
    target = io.BytesIO()
    write_workbook(target, [(spec, [[EVIL[0], *row[1:]] for row in rows])])
    cells = _no_formulas(target.getvalue())
    assert EVIL[0] in {c.value for c in cells}
    creds = [Credential("u", "p", EVIL[0], "联络员", "=U1", "@单位", "+861")]
    cells = _no_formulas(credentials_xlsx(creds, login_url="http://127.0.0.1/"))
    assert {EVIL[0], "=U1", "@单位", "+861"} <= {c.value for c in cells}


@pytest.mark.parametrize("kind", sorted(hostile.KINDS))
def test_check_workbook_refuses_or_passes_each_hostile_kind_within_bounded_time(kind: str) -> None:
    maker, word = hostile.KINDS[kind]
    data = maker("单位", ["a", "b"])
    try:
        check_workbook(data)
    except WorkbookRefused as exc:
        assert word in exc.message
    else:
        # Harmless to the reader; the import then says there is nothing to import.
        assert kind in {"huge_dimension", "blank_rows", "empty_sheet", "header_only"}


def test_limits_follow_the_settings() -> None:
    data = hostile.book("s", hostile.sheet_xml(hostile.header_row(["a"] * 30)))
    with override_settings(JIXIAO_IMPORT_MAX_COLUMNS=20):
        assert Limits.from_settings().max_columns == 20
        with pytest.raises(WorkbookRefused, match="U1"):
            check_workbook(data)
    check_workbook(data)


def test_a_doctype_is_refused_so_no_entity_can_expand() -> None:
    xml = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet><sheetData/></worksheet>'
    with pytest.raises(WorkbookRefused, match="DTD"):
        check_workbook(hostile.book("s", xml))


def test_an_encrypted_zip_member_is_refused() -> None:
    data = bytearray(hostile.header_only("s", ["a"]))
    # Set the "encrypted" flag bit of every central directory entry.
    at = 0
    while (at := data.find(b"PK\x01\x02", at)) != -1:
        data[at + 8] |= 1
        at += 4
    with pytest.raises(WorkbookRefused, match="加密"):
        check_workbook(bytes(data))


def test_too_many_cells_in_the_rectangle_from_a1_are_refused() -> None:
    rows = hostile.header_row(["a"]) + b'<row r="5000">' + hostile.text_cell("CV5000", "x") + b"</row>"
    with (
        override_settings(JIXIAO_IMPORT_MAX_CELLS=100_000),
        pytest.raises(WorkbookRefused, match="A1:CV5000"),
    ):
        check_workbook(hostile.book("s", hostile.sheet_xml(rows)))


def test_a_sheet_whose_part_cannot_be_resolved_is_still_scanned() -> None:
    rows = b'<row r="1048576">' + hostile.text_cell("XFD1048576", "x") + b"</row>"
    data = hostile.book("s", hostile.sheet_xml(b""))
    # Move the sheet part where the relationship does not point.
    moved = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(moved, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                dst.writestr("xl/elsewhere/sheet1.xml", hostile.sheet_xml(rows))
            else:
                dst.writestr(info, body)
    with pytest.raises(WorkbookRefused, match="XFD1048576"):
        check_workbook(moved.getvalue(), sheets={"s"})


def test_registry_category_spec_caps_a_text_field_without_max_length() -> None:
    description = SHEETS_BY_KEY[SheetKey.CATEGORY].columns[-1]
    assert description.max_length is not None


def test_a_formula_saved_by_openpyxl_without_a_computed_value_is_refused_but_a_computed_one_passes() -> None:
    # openpyxl writes <f>1+1</f><v/>: the empty <v> is no value (it once read as a blank cell).
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["列"])
    ws.append(["=1+1"])
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(WorkbookRefused) as refused:
        check_workbook(buffer.getvalue())
    assert "A2" in refused.value.message and "公式" in refused.value.message
    for cell, refused_too in ((b"<v />", True), (b"<v> </v>", True), (b"<v>2</v>", False)):
        rows = (
            b'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c><c r="B1"><f>1+1</f>'
            + cell
            + b"</c></row>"
        )
        data = hostile.book("s", hostile.sheet_xml(rows))
        if refused_too:
            with pytest.raises(WorkbookRefused, match="B1"):
                check_workbook(data)
        else:
            check_workbook(data)
