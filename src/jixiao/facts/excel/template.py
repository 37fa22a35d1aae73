"""The downloadable template of each kind: headers, one example row and a 填写说明 sheet.

The results template can instead be prefilled for one user and cycle (:func:`results_prefill`):
one row per indicator they enter and unit of its category, with the real codes and what is
already stored, and a 对照表 sheet naming each code (the importer reads only the data sheet)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Any

import xlsxwriter
from django.utils.translation import gettext as _

from jixiao.accounts.models import Role, User
from jixiao.facts.excel.declared_kind import declared_rows
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
from jixiao.facts.models import IndicatorResult
from jixiao.organisation.models import Unit
from jixiao.schemes.models import Cycle, IndicatorNode
from jixiao.web.workbooks import safe_workbook

# The last row Excel allows; list validation covers the whole column.
_LAST_ROW = 1_048_575
_WIDTHS = {Cell.NUMBER: 10, Cell.COUNT: 8, Cell.CHOICE: 12}


def _options(column: Column) -> list[str]:
    if column.choices is None:
        return []
    return [str(label) for _value, label in column.choices.choices]


LOOKUP_SHEET = "对照表"


_RESULT_KEYS = ("indicator", "unit", "value", "grade", "target", "last_year", "evidence")


@dataclass
class Prefill:
    """Rows for the data sheet (values in ``keys`` order) and (code, name, category) lines of
    对照表; ``grades`` (aligned with ``rows`` when given) lists the grades a row's indicator
    accepts, offered as the 等次/是否 cell's drop-down."""

    rows: list[list[Any]] = field(default_factory=list)
    indicators: list[tuple[str, str, str]] = field(default_factory=list)
    units: list[tuple[str, str, str]] = field(default_factory=list)
    keys: tuple[str, ...] = _RESULT_KEYS
    grades: list[tuple[str, ...]] = field(default_factory=list)


def declared_prefill(
    *, user: User, cycle: Cycle, category_id: int | None = None, unit_id: int | None = None
) -> Prefill:
    """The declared-values rows ``user`` may import (:func:`declared_kind.declared_rows`); the
    rows name their units and targets themselves, so there is no 对照表. Raises TemplateTooLarge."""
    rows = declared_rows(user=user, cycle=cycle, category_id=category_id, unit_id=unit_id)
    return Prefill(
        rows=[r for r, _g in rows],
        keys=tuple(c.key for c in SHEETS_BY_KIND[FactKind.DECLARED].columns),
        grades=[g for _r, g in rows],
    )


def results_prefill(*, user: User, cycle: Cycle) -> Prefill:
    """The results rows ``user`` may import for ``cycle``: every leaf they enter (the office: all;
    a lead department: those it leads) × every active unit of the leaf's category, by code, with
    the values already stored. A leaf without a code, or whose code repeats in its scheme, is
    written as ``#<id>`` (the importer accepts both)."""
    leaves = IndicatorNode.objects.filter(scheme__cycle=cycle, children__isnull=True).select_related(
        "scheme__category"
    )
    if not user.is_office:
        if user.role != Role.LEAD_DEPT or user.unit_id is None:
            return Prefill()
        leaves = leaves.filter(lead_unit_id=user.unit_id)
    leaves = leaves.order_by("scheme__category__order", "scheme__category__code", "code", "id")
    codes = Counter(
        (cat, code)
        for cat, code in IndicatorNode.objects.filter(scheme__cycle=cycle, children__isnull=True)
        .exclude(code="")
        .values_list("scheme__category_id", "code")
    )
    leaf_list = list(leaves)
    categories = {leaf.scheme.category_id for leaf in leaf_list}
    units: dict[int, list[tuple[int, str, str]]] = {}
    for pk, code, name, cat in (
        Unit.objects.filter(category_id__in=categories, is_active=True)
        .order_by("code")
        .values_list("pk", "code", "name", "category_id")
    ):
        units.setdefault(cat, []).append((pk, code, name))
    stored = {
        (r.indicator_id, r.unit_id): r
        for r in IndicatorResult.objects.filter(indicator__in=leaf_list, unit__isnull=False)
    }
    prefill = Prefill()
    seen_units: set[int] = set()
    for leaf in leaf_list:
        category = leaf.scheme.category
        unique = leaf.code and codes[(category.pk, leaf.code)] == 1
        ref = leaf.code if unique else f"{PK_PREFIX}{leaf.pk}"
        prefill.indicators.append((ref, leaf.name, category.name))
        for unit_pk, unit_code, unit_name in units.get(category.pk, []):
            r = stored.get((leaf.pk, unit_pk))
            prefill.rows.append(
                [
                    ref,
                    unit_code,
                    r.value if r else None,
                    r.grade if r else "",
                    r.target if r else None,
                    r.last_year if r else None,
                    r.evidence if r else "",
                ]
            )
            if unit_pk not in seen_units:
                seen_units.add(unit_pk)
                prefill.units.append((unit_code, unit_name, category.name))
    return prefill


def write_template(target: str | IO[bytes], kind: FactKind, prefill: Prefill | None = None) -> None:
    """Write the template workbook of ``kind`` to ``target``; with ``prefill`` (results only) its
    rows replace the example row and a 对照表 sheet names the codes."""
    spec = SHEETS_BY_KIND[kind]
    workbook = safe_workbook(
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
        if prefill is not None:
            continue
        example = column.example
        if isinstance(example, str) and example:
            ws.write_string(1, col, example)
        elif isinstance(example, int | float):
            ws.write_number(1, col, example)
    if prefill is not None:
        keys = [c.key for c in spec.columns]
        for row_number, values in enumerate(prefill.rows, start=1):
            by_key = dict(zip(prefill.keys, values, strict=True))
            for col, key in enumerate(keys):
                _write_cell(ws, row_number, col, by_key.get(key))
        if "grade" in keys:
            _grade_lists(ws, keys.index("grade"), prefill.grades)
    ws.freeze_panes(1, 0)
    _write_notes(workbook, header, spec, prefilled=prefill is not None)
    if prefill is not None and (prefill.indicators or prefill.units):
        _write_lookup(workbook, header, prefill)
    workbook.close()


def _grade_lists(ws: Any, col: int, grades: list[tuple[str, ...]]) -> None:
    """A drop-down of the grades on each run of consecutive rows whose targets take the same ones
    (one validation per run, not per cell: a province's sheet would carry 100,000 of them).
    "warning" lets a clerk keep a grade the rule has since dropped; the import still refuses it."""
    start = 0
    for i in range(1, len(grades) + 1):
        if i < len(grades) and grades[i] == grades[start]:
            continue
        if grades[start]:
            ws.data_validation(
                start + 1,
                col,
                i,
                col,
                {"validate": "list", "source": list(grades[start]), "error_type": "warning"},
            )
        start = i


def _write_cell(ws: Any, row: int, col: int, value: Any) -> None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        ws.write_number(row, col, value)
    elif value:
        ws.write_string(row, col, str(value))


def _write_lookup(workbook: xlsxwriter.Workbook, header: Any, prefill: Prefill) -> None:
    ws = workbook.add_worksheet(LOOKUP_SHEET)
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 2, 16)
    ws.set_column(4, 4, 14)
    ws.set_column(5, 5, 30)
    ws.set_column(6, 6, 16)
    for col, title in enumerate(
        [_("指标编号"), _("指标名称"), _("方案类别"), "", _("单位代码"), _("单位名称"), _("单位类别")]
    ):
        if title:
            ws.write_string(0, col, title, header)
    for row, line in enumerate(prefill.indicators, start=1):
        ws.write_row(row, 0, line)
    for row, line in enumerate(prefill.units, start=1):
        ws.write_row(row, 4, line)


def _prefilled_note(spec: FactSheet) -> str:
    if spec.kind is FactKind.DECLARED:
        return _(
            "已列出您负责录入的每个已公布的申报指标（每行一个单位的一个指标，已填入申报的目标值和已录入的数据），"
            "请填写实际值等；不需导入的行可以删除或留空。本说明工作表在导入时会被忽略。"
        )
    return _(
        "已列出您负责录入的每个指标与单位（编号见“对照表”），请填写实际值等；不需导入的行可以删除。本说明工作表和对照表在导入时会被忽略。"
    )


def _write_notes(
    workbook: xlsxwriter.Workbook, header: Any, spec: FactSheet, *, prefilled: bool = False
) -> None:
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
        _prefilled_note(spec)
        if prefilled
        else _("第 2 行是示例，导入前请删除或改为真实数据。本说明工作表在导入时会被忽略。"),
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
