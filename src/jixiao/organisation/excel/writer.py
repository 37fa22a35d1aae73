"""Writing registry workbooks with xlsxwriter in constant-memory mode (rows stream to disk).

Both the blank template and the export go through :func:`write_workbook`, so an export has the
same sheets, headers and cell types as the template and imports back unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import IO, Any

import xlsxwriter
from django.utils.translation import gettext as _

from jixiao.organisation.excel.specs import NOTES_SHEET, SHEETS, YES, Column, Kind, SheetSpec, choice_labels
from jixiao.web.workbooks import safe_workbook

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The last row Excel allows; data validation covers the whole column.
_LAST_ROW = 1_048_575
_WIDTHS = {Kind.DATE: 12, Kind.BOOL: 9, Kind.INT: 8, Kind.CHOICE: 12}

SheetRows = tuple[SheetSpec, Iterable[Sequence[Any]]]


def _options(column: Column) -> list[str]:
    if column.kind is Kind.BOOL:
        return [YES, "否"]
    if column.choices is not None:
        return list(choice_labels(column.choices).values())
    return []


def write_workbook(
    target: str | IO[bytes], sheets: Iterable[SheetRows], *, notes: bool = True
) -> dict[str, int]:
    """Write one worksheet per ``(spec, rows)`` (rows already in export form: codes, Chinese
    labels, dates), plus the notes sheet. Returns the number of data rows written per sheet."""
    workbook = safe_workbook(
        target,
        {
            "constant_memory": True,
            "default_date_format": "yyyy-mm-dd",
            # Cells are data, never formulas or links (a name starting with "=" stays text).
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    header = workbook.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1})
    required = workbook.add_format(
        {"bold": True, "bg_color": "#EEF2F7", "border": 1, "font_color": "#B3261E"}
    )
    text = workbook.add_format({"num_format": "@"})
    if notes:
        _write_notes(workbook, header)
    written: dict[str, int] = {}
    for spec, rows in sheets:
        ws = workbook.add_worksheet(spec.name)
        for col, column in enumerate(spec.columns):
            width = _WIDTHS.get(column.kind, max(12, 2 * len(column.header) + 4))
            # Text format keeps codes such as "001" from turning into numbers when typed.
            ws.set_column(col, col, width, text if column.kind is Kind.TEXT else None)
            if options := _options(column):
                ws.data_validation(
                    1,
                    col,
                    _LAST_ROW,
                    col,
                    # "information" allows the stored codes (head/member/…) as well as the labels.
                    {"validate": "list", "source": options, "error_type": "information"},
                )
        ws.freeze_panes(1, 0)
        for col, column in enumerate(spec.columns):
            ws.write_string(0, col, column.header, required if column.required else header)
        count = 0
        for count, row in enumerate(rows, start=1):
            ws.write_row(count, 0, row)
        written[spec.name] = count
    workbook.close()
    return written


def _write_notes(workbook: xlsxwriter.Workbook, header: Any) -> None:
    ws = workbook.add_worksheet(NOTES_SHEET)
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 16)
    ws.set_column(2, 2, 8)
    ws.set_column(3, 3, 70)
    lines = [
        _("一个文件可包含下列任意几个工作表；工作表名称和列名不可修改，列的顺序可以调整。"),
        _(
            "红色列名为必填项。代码用于相互引用：单位引用类别、区域、功能区的代码，干部、职务、任职引用单位代码。"
        ),
        _("导入时先检查全部数据：只要有一处错误，就不写入任何数据，并列出每个错误所在的工作表、行号和列。"),
        _("代码已存在的记录会被更新，新代码会被新增；导入不会删除系统中已有的记录。"),
        _("示例行仅供参考，导入前请删除或改为真实数据。本说明工作表在导入时会被忽略。"),
    ]
    row = 0
    for line in lines:
        ws.write_string(row, 0, line)
        row += 1
    row += 1
    for col, title in enumerate([_("工作表"), _("列名"), _("必填"), _("说明")]):
        ws.write_string(row, col, title, header)
    row += 1
    for spec in SHEETS:
        ws.write_row(row, 0, [spec.name, "", "", str(spec.help)])
        row += 1
        for column in spec.columns:
            explanation = str(column.help)
            if column.ref is not None and not explanation:
                target = next(s.name for s in SHEETS if s.sheet is column.ref)
                explanation = _("引用“%(sheet)s”中的代码（或系统中已有的代码）") % {"sheet": target}
            ws.write_row(row, 0, ["", column.header, YES if column.required else "", explanation])
            row += 1
    row += 1
    ws.write_string(row, 0, _("层级说明"), header)
    row += 1
    for label, meaning in [
        (_("班子正职"), _("领导班子的主要负责人（如书记、县长、局长）")),
        (_("班子成员"), _("领导班子其他成员（如副县长、副局长）")),
        (_("其他处级干部"), _("不属于领导班子的其他处级干部")),
    ]:
        ws.write_row(row, 0, [str(label), str(meaning)])
        row += 1


def template_rows() -> list[SheetRows]:
    """One example row per sheet, consistent across sheets (the unit exists, the post exists)."""
    out: list[SheetRows] = []
    for spec in SHEETS:
        example = [_example(c) for c in spec.columns]
        out.append((spec, [example]))
    return out


def _example(column: Column) -> Any:
    value = column.example
    if column.kind is Kind.DATE and isinstance(value, str) and value:
        return date.fromisoformat(value)
    return value if value != "" else None
