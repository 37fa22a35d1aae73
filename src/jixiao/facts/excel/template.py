"""The downloadable template of each kind: headers, one example row and a 填写说明 sheet."""

from __future__ import annotations

from typing import IO, Any

import xlsxwriter
from django.utils.translation import gettext as _

from jixiao.facts.excel.specs import (
    NOTES_SHEET,
    PK_PREFIX,
    SHEETS_BY_KIND,
    Cell,
    Column,
    EntityType,
    FactKind,
    FactSheet,
)

# The last row Excel allows; list validation covers the whole column.
_LAST_ROW = 1_048_575
_WIDTHS = {Cell.NUMBER: 10, Cell.COUNT: 8, Cell.CHOICE: 12}


def _options(column: Column) -> list[str]:
    if column.choices is None:
        return []
    return [str(label) for _value, label in column.choices.choices]


def write_template(target: str | IO[bytes], kind: FactKind) -> None:
    """Write the template workbook of ``kind`` to ``target``."""
    spec = SHEETS_BY_KIND[kind]
    workbook = xlsxwriter.Workbook(
        target,
        {
            # Cells are data, never formulas or links (a reason starting with "=" stays text).
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
    ws = workbook.add_worksheet(spec.name)
    for col, column in enumerate(spec.columns):
        width = _WIDTHS.get(column.cell, max(12, 2 * len(column.header) + 4))
        # Text format keeps codes such as "001" or "1.10" from turning into numbers when typed.
        ws.set_column(col, col, width, text if column.cell is Cell.TEXT else None)
        if options := _options(column):
            # "information" still lets the stored codes (deduction/bonus/…) through.
            ws.data_validation(
                1, col, _LAST_ROW, col, {"validate": "list", "source": options, "error_type": "information"}
            )
        ws.write_string(0, col, column.header, required if column.required else header)
        example = column.example
        if isinstance(example, str) and example:
            ws.write_string(1, col, example)
        elif isinstance(example, int | float):
            ws.write_number(1, col, example)
    ws.freeze_panes(1, 0)
    _write_notes(workbook, header, spec)
    workbook.close()


def _write_notes(workbook: xlsxwriter.Workbook, header: Any, spec: FactSheet) -> None:
    ws = workbook.add_worksheet(NOTES_SHEET)
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 8)
    ws.set_column(2, 2, 80)
    lines = [
        _(
            "请在“%(sheet)s”工作表中填写，第 1 行为列名，从第 2 行起每行一条记录。列名不可修改，列的顺序可以调整；非必填列可以删除。"
        )
        % {"sheet": spec.name},
        _(
            "红色列名为必填项。导入时先检查全部数据：只要有一处错误，就不写入任何数据，并列出每个错误所在的工作表、行号和列。"
        ),
        str(spec.help),
        _("第 2 行是示例，导入前请删除或改为真实数据。本说明工作表在导入时会被忽略。"),
    ]
    if any(c.key == "indicator" for c in spec.columns):
        lines.append(
            _("指标编号为考核方案中的编号；编号为空或重复的指标填 %(p)s加系统编号，如 %(p)s123。")
            % {"p": PK_PREFIX}
        )
    row = 0
    for line in lines:
        ws.write_string(row, 0, line)
        row += 1
    row += 1
    for col, title in enumerate([_("列名"), _("必填"), _("说明")]):
        ws.write_string(row, col, title, header)
    row += 1
    for column in spec.columns:
        explanation = str(column.help)
        if column.choices is not None and column.choices is not EntityType:
            explanation += _("（可选：%(options)s）") % {"options": "、".join(_options(column))}
        ws.write_row(row, 0, [column.header, _("是") if column.required else "", explanation])
        row += 1
