"""Checking a parsed workbook against the specs, itself and the database, column by column.

Every conversion and check runs over a whole column (list comprehensions and set lookups), never
row by row through model forms: that is what lets 200,000 rows validate in about a second. Every
problem becomes a :class:`RowError` naming the sheet, the row as Excel numbers it, the column
header and a message in Chinese; validation never stops at the first error.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from jixiao.hygiene import has_control_characters
from jixiao.organisation.excel.reader import HEADER_ROW, RawSheet
from jixiao.organisation.excel.specs import (
    NO,
    NOTES_SHEET,
    SHEETS,
    SHEETS_BY_KEY,
    SHEETS_BY_NAME,
    YES,
    Column,
    Kind,
    SheetKey,
    SheetSpec,
    choice_lookup,
)
from jixiao.web.workbooks import DEFAULT_TEXT_CAP

PositionKey = tuple[str, str]


@dataclass(frozen=True, order=True)
class RowError:
    """One problem in the upload. ``row`` is the row number Excel shows (``None`` for the whole
    file or sheet); ``column`` is the column header (``""`` when no single column is at fault)."""

    sheet: str
    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = " ".join(p for p in (self.sheet, str(self.row or ""), self.column) if p)
        return f"{where}: {self.message}" if where else self.message


@dataclass
class ParsedSheet:
    """A sheet whose cells have been converted to Python values (``None`` where empty or bad)."""

    spec: SheetSpec
    row_numbers: list[int]
    values: dict[str, list[Any]]

    def __len__(self) -> int:
        return len(self.row_numbers)

    def column(self, key: str) -> list[Any]:
        return self.values[key]


@dataclass
class OpenTenure:
    official_code: str
    start: date


@dataclass
class RegistryState:
    """What the database already holds, as plain sets and dicts (loaded by the importer).

    ``codes`` maps a sheet to its existing codes; ``positions`` holds (unit code, title);
    ``tenures`` maps a position to its existing tenures keyed by (official code, start), with
    their end dates.
    """

    codes: dict[SheetKey, set[str]] = field(default_factory=dict)
    region_parents: dict[str, str | None] = field(default_factory=dict)
    positions: set[PositionKey] = field(default_factory=set)
    tenures: dict[PositionKey, dict[tuple[str, date], date | None]] = field(default_factory=dict)


@dataclass
class ParsedWorkbook:
    """The sheets that could be read, the errors so far, and the sheets whose headers were
    wrong (references into those are not checked, so one bad header is one error)."""

    sheets: dict[SheetKey, ParsedSheet]
    errors: list[RowError]
    unreadable: set[SheetKey] = field(default_factory=set)


# --------------------------------------------------------------------------------------------
# Column converters: values in, (typed values, [(index, message)]) out.

Converted = tuple[list[Any], list[tuple[int, str]]]


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _convert_text(values: list[Any], column: Column) -> Converted:
    out = [v if v is None or type(v) is str else _as_text(v) for v in values]
    problems: list[tuple[int, str]] = []
    # ``_x0000_`` escapes in a workbook decode to NUL, which PostgreSQL refuses in text.
    for i, v in enumerate(out):
        if v is not None and has_control_characters(v):
            problems.append((i, _("含有不允许的控制字符")))
            out[i] = None
    # A column without a model limit (a TextField) still has a cap: 100 KB of workbook once
    # stored 100 MB of notes and made every page showing them unusable.
    limit = column.max_length if column.max_length is not None else DEFAULT_TEXT_CAP
    for i, v in enumerate(out):
        if v is not None and len(v) > limit:
            problems.append(
                (i, _("长度为 %(len)s 个字符，超过上限 %(n)s 个字符") % {"len": len(v), "n": limit})
            )
            out[i] = None
    return out, problems


_DATE_TEXT = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$|^(\d{4})(\d{2})(\d{2})$"
)


def _parse_date(value: Any) -> date | None:
    if type(value) is date:
        return value
    if type(value) is str:
        m = _DATE_TEXT.match(value)
        if m:
            y, mo, d = (g for g in m.groups() if g is not None)
            try:
                return date(int(y), int(mo), int(d))
            except ValueError:
                return None
    return None


def _convert_date(values: list[Any], column: Column) -> Converted:
    out: list[Any] = [v if v is None or type(v) is date else _parse_date(v) for v in values]
    message = _("日期格式不正确，应为 2024-01-31 这样的日期")
    problems = [(i, message) for i, v in enumerate(out) if v is None and values[i] is not None]
    return out, problems


def _parse_int(value: Any) -> int | None:
    if type(value) is int:
        return value
    if type(value) is str and value.isdigit():
        return int(value)
    return None


def _convert_int(values: list[Any], column: Column) -> Converted:
    out: list[Any] = [_parse_int(v) if v is not None else None for v in values]
    message = _("应为非负整数")
    problems = [(i, message) for i, v in enumerate(out) if values[i] is not None and (v is None or v < 0)]
    for i, _m in problems:
        out[i] = None
    return out, problems


_BOOLS: dict[Any, bool] = {
    YES: True,
    NO: False,
    "Y": True,
    "N": False,
    "y": True,
    "n": False,
    "true": True,
    "false": False,
    "TRUE": True,
    "FALSE": False,
    "1": True,
    "0": False,
    # int 1/0 also match True/False (equal hashes), the values calamine gives boolean cells.
    1: True,
    0: False,
}


def _convert_bool(values: list[Any], column: Column) -> Converted:
    out: list[Any] = [None if v is None else _BOOLS.get(v) for v in values]
    message = _("应为“是”或“否”")
    problems = [(i, message) for i, v in enumerate(out) if v is None and values[i] is not None]
    return out, problems


def _convert_choice(values: list[Any], column: Column) -> Converted:
    assert column.choices is not None
    lookup = choice_lookup(column.choices)
    out: list[Any] = [None if v is None else lookup.get(v if type(v) is str else _as_text(v)) for v in values]
    options = "、".join(str(label) for label in column.choices.labels)
    problems = [
        (i, _("“%(value)s”不是有效选项，可选：%(options)s") % {"value": values[i], "options": options})
        for i, v in enumerate(out)
        if v is None and values[i] is not None
    ]
    return out, problems


_CONVERTERS: dict[Kind, Callable[[list[Any], Column], Converted]] = {
    Kind.TEXT: _convert_text,
    Kind.DATE: _convert_date,
    Kind.INT: _convert_int,
    Kind.BOOL: _convert_bool,
    Kind.CHOICE: _convert_choice,
}


# --------------------------------------------------------------------------------------------
# Parsing: sheets and headers, then cells.


def parse_workbook(raw: dict[str, RawSheet]) -> ParsedWorkbook:
    """Convert every known sheet's cells and report unknown sheets, bad headers and bad cells.

    Cross-sheet and database checks happen later in :func:`check_references`.
    """
    errors: list[RowError] = []
    sheets: dict[SheetKey, ParsedSheet] = {}
    unreadable: set[SheetKey] = set()
    known = "、".join(s.name for s in SHEETS)
    for name, sheet in raw.items():
        if name == NOTES_SHEET:
            continue
        spec = SHEETS_BY_NAME.get(name.strip())
        if spec is None:
            if sheet.row_numbers or any(sheet.headers):
                errors.append(
                    RowError(
                        name, None, "", _("无法识别的工作表，可导入的工作表为：%(names)s") % {"names": known}
                    )
                )
            continue
        if not any(sheet.headers) and not sheet.row_numbers:
            # A blank sheet (or one of 1 M blank rows) under a known name holds nothing to import.
            continue
        parsed = _parse_sheet(spec, sheet, errors)
        if parsed is None:
            unreadable.add(spec.sheet)
        else:
            sheets[spec.sheet] = parsed
    if not sheets and not errors:
        errors.append(
            RowError(
                "", None, "", _("文件中没有可导入的工作表，可导入的工作表为：%(names)s") % {"names": known}
            )
        )
    elif sheets and not errors and not any(len(s) for s in sheets.values()):
        # Headers only (a blank template): "success, 0 rows" would read as if something happened.
        errors.append(RowError("", None, "", _("文件中没有数据行，没有可导入的内容")))
    return ParsedWorkbook(sheets, errors, unreadable)


def _parse_sheet(spec: SheetSpec, sheet: RawSheet, errors: list[RowError]) -> ParsedSheet | None:
    positions: dict[str, int] = {}
    header_ok = True
    for index, header in enumerate(sheet.headers):
        if header == "":
            continue
        if header in positions:
            errors.append(RowError(spec.name, HEADER_ROW, header, _("列名重复")))
            header_ok = False
        elif header not in {c.header for c in spec.columns}:
            errors.append(RowError(spec.name, HEADER_ROW, header, _("无法识别的列")))
            header_ok = False
        positions[header] = index
    for column in spec.columns:
        if column.header not in positions:
            errors.append(
                RowError(
                    spec.name, HEADER_ROW, column.header, _("缺少列“%(header)s”") % {"header": column.header}
                )
            )
            header_ok = False
    if not header_ok:
        return None

    values: dict[str, list[Any]] = {}
    rows = sheet.row_numbers
    for column in spec.columns:
        raw_values = sheet.columns[positions[column.header]]
        converted, problems = _CONVERTERS[column.kind](raw_values, column)
        errors.extend(RowError(spec.name, rows[i], column.header, message) for i, message in problems)
        if column.required:
            message = _("必填项不能为空")
            errors.extend(
                RowError(spec.name, rows[i], column.header, message)
                for i, v in enumerate(raw_values)
                if v is None
            )
        elif column.default is not None:
            converted = [
                column.default if raw is None else v for raw, v in zip(raw_values, converted, strict=True)
            ]
        values[column.key] = converted
    parsed = ParsedSheet(spec, rows, values)
    _check_duplicates(parsed, errors)
    return parsed


def _keys(parsed: ParsedSheet, keys: Iterable[str]) -> list[tuple[Any, ...]]:
    return list(zip(*(parsed.values[k] for k in keys), strict=True))


def _check_duplicates(parsed: ParsedSheet, errors: list[RowError]) -> None:
    spec = parsed.spec
    header = spec.by_key[spec.key[0]].header
    first: dict[Any, int] = {}
    keys: Iterable[Any] = parsed.values[spec.key[0]] if len(spec.key) == 1 else _keys(parsed, spec.key)
    for i, key in enumerate(keys):
        if key is None or (type(key) is tuple and None in key):
            continue
        seen = first.setdefault(key, i)
        if seen != i:
            errors.append(
                RowError(
                    spec.name,
                    parsed.row_numbers[i],
                    header,
                    _("与第 %(row)s 行重复") % {"row": parsed.row_numbers[seen]},
                )
            )


# --------------------------------------------------------------------------------------------
# References, across sheets and against the database.


def workbook_codes(parsed: ParsedWorkbook, sheet: SheetKey) -> set[str]:
    """Codes a sheet of this workbook defines (its first key column), valid or not."""
    found = parsed.sheets.get(sheet)
    if found is None:
        return set()
    return {v for v in found.values[found.spec.key[0]] if v is not None}


def workbook_positions(parsed: ParsedWorkbook) -> set[PositionKey]:
    found = parsed.sheets.get(SheetKey.POSITION)
    if found is None:
        return set()
    return {(u, t) for u, t in _keys(found, ("unit", "title")) if u is not None and t is not None}


def check_references(parsed: ParsedWorkbook, state: RegistryState) -> None:
    """Append to ``parsed.errors`` every code that resolves neither in the database nor in the
    workbook, every inconsistent tenure and every region cycle."""
    known: dict[SheetKey, set[str]] = {
        key: state.codes.get(key, set()) | workbook_codes(parsed, key) for key in SheetKey
    }
    for sheet in parsed.sheets.values():
        for column in sheet.spec.columns:
            if column.ref is None or column.ref in parsed.unreadable:
                continue
            codes = known[column.ref]
            target = SHEETS_BY_KEY[column.ref].name
            values = sheet.values[column.key]
            parsed.errors.extend(
                RowError(
                    sheet.spec.name,
                    sheet.row_numbers[i],
                    column.header,
                    _("代码“%(code)s”在“%(sheet)s”中不存在（系统和本文件均未找到）")
                    % {"code": v, "sheet": target},
                )
                for i, v in enumerate(values)
                if v is not None and v not in codes
            )
    if SheetKey.REGION in parsed.sheets:
        _check_region_cycles(parsed.sheets[SheetKey.REGION], state, parsed.errors)
    if SheetKey.TENURE in parsed.sheets and not parsed.unreadable & {SheetKey.UNIT, SheetKey.POSITION}:
        _check_tenures(parsed.sheets[SheetKey.TENURE], parsed, state, parsed.errors)


def _check_region_cycles(sheet: ParsedSheet, state: RegistryState, errors: list[RowError]) -> None:
    parents = dict(state.region_parents)
    parents.update(zip(sheet.values["code"], sheet.values["parent"], strict=True))
    header = sheet.spec.by_key["parent"].header
    for i, code in enumerate(sheet.values["code"]):
        if code is None or sheet.values["parent"][i] is None:
            continue
        seen = {code}
        current = parents.get(code)
        while current is not None:
            if current in seen:
                errors.append(RowError(sheet.spec.name, sheet.row_numbers[i], header, _("上级区域形成循环")))
                break
            seen.add(current)
            current = parents.get(current)


def _check_tenures(
    sheet: ParsedSheet, parsed: ParsedWorkbook, state: RegistryState, errors: list[RowError]
) -> None:
    spec = sheet.spec
    rows = sheet.row_numbers
    units, titles, officials = sheet.values["unit"], sheet.values["title"], sheet.values["official"]
    starts, ends = sheet.values["start"], sheet.values["end"]
    end_header, title_header = spec.by_key["end"].header, spec.by_key["title"].header

    positions = state.positions | workbook_positions(parsed)
    unit_codes = state.codes.get(SheetKey.UNIT, set()) | workbook_codes(parsed, SheetKey.UNIT)
    open_in_file: dict[PositionKey, list[int]] = defaultdict(list)
    keys_in_file: dict[PositionKey, set[tuple[str, date]]] = defaultdict(set)
    for i in range(len(sheet)):
        unit, title = units[i], titles[i]
        if unit is None or title is None:
            continue
        post = (unit, title)
        start, end = starts[i], ends[i]
        if start is not None and end is not None and end < start:
            errors.append(RowError(spec.name, rows[i], end_header, _("任职结束日期早于任职开始日期")))
        if post not in positions:
            if unit in unit_codes:  # an unknown unit is already reported on its own column
                errors.append(
                    RowError(
                        spec.name,
                        rows[i],
                        title_header,
                        _("单位“%(unit)s”没有职务“%(title)s”（系统和本文件“职务”表中均未找到）")
                        % {"unit": unit, "title": title},
                    )
                )
            continue
        if officials[i] is not None and start is not None:
            keys_in_file[post].add((officials[i], start))
        if end is None and start is not None:
            open_in_file[post].append(i)

    for post, indexes in open_in_file.items():
        if len(indexes) > 1:
            others = "、".join(str(rows[i]) for i in indexes)
            for i in indexes:
                errors.append(
                    RowError(
                        spec.name,
                        rows[i],
                        end_header,
                        _("职务“%(title)s”同时有多名在任人员（第 %(rows)s 行），只能有一名")
                        % {"title": post[1], "rows": others},
                    )
                )
            continue
        # An open tenure already in the database that this file neither closes nor repeats.
        for (official, start), end in state.tenures.get(post, {}).items():
            if end is None and (official, start) not in keys_in_file[post]:
                i = indexes[0]
                errors.append(
                    RowError(
                        spec.name,
                        rows[i],
                        end_header,
                        _(
                            "职务“%(title)s”已有在任人员（工号 %(code)s，%(start)s 起），请在本表中填写其任职结束日期"
                        )
                        % {"title": post[1], "code": official, "start": start.isoformat()},
                    )
                )
