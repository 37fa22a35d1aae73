"""Reading a workbook with python-calamine into columns of normalised Python values.

calamine is ~10× faster than openpyxl here (RECIPES.md), but its cell types differ: integers come
back as floats, empty cells as ``''``, date cells as ``date`` or ``datetime``. :func:`normalise_column`
is the one place that turns those into ``None`` / ``int`` / ``date`` / stripped ``str``; nothing
downstream looks at raw calamine values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

import python_calamine

# Excel shows the header on row 1, so the first data row is row 2.
HEADER_ROW = 1


class UnreadableWorkbook(Exception):
    """The upload is not a workbook calamine can open (not an xlsx, corrupt, encrypted)."""


@dataclass(frozen=True)
class RawSheet:
    """One sheet: its header cells, the Excel row number of each non-blank data row, and the
    data as columns (one list per header cell, aligned with ``row_numbers``)."""

    name: str
    headers: list[str]
    row_numbers: list[int]
    columns: list[list[Any]]


def _cell(value: Any) -> Any:
    if type(value) is str:
        return value.strip() or None
    if type(value) is float:
        return int(value) if value.is_integer() else value
    if type(value) is datetime:
        # No registry column carries a time; a date typed with a time keeps its day.
        return value.date()
    return value


def normalise_column(values: tuple[Any, ...] | list[Any]) -> list[Any]:
    """Return the column with calamine's and openpyxl's cell types made uniform:
    ``''``/whitespace/``None`` → ``None``, integral floats → ``int``, ``datetime`` → ``date``,
    strings stripped; other values unchanged."""
    types = set(map(type, values))
    if types <= {str}:
        # The common case (codes, names, labels): one C-level strip per cell.
        return [s.strip() or None for s in values]
    if types <= {str, date}:
        return [v.strip() or None if type(v) is str else v for v in values]
    return [None if v is None else _cell(v) for v in values]


def _is_blank(row: list[Any]) -> bool:
    return all(v == "" or v is None or (type(v) is str and not v.strip()) for v in row)


def read_workbook(source: str | IO[bytes], only: set[str] | None = None) -> dict[str, RawSheet]:
    """Return every sheet (or those named in ``only``) as a :class:`RawSheet`, keyed by name.

    Raises :class:`UnreadableWorkbook` when the file cannot be opened as a workbook.
    """
    try:
        workbook = python_calamine.load_workbook(source)
        names = list(workbook.sheet_names)
    except Exception as exc:  # calamine raises several unrelated types for a bad file
        raise UnreadableWorkbook(str(exc)) from exc
    sheets: dict[str, RawSheet] = {}
    for name in names:
        if only is not None and name not in only:
            sheets[name] = RawSheet(name, [], [], [])
            continue
        try:
            # skip_empty_area=False keeps A1 at index 0, so list positions map to Excel rows.
            rows: list[list[Any]] = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except Exception as exc:
            raise UnreadableWorkbook(str(exc)) from exc
        sheets[name] = _to_raw(name, rows)
    return sheets


def _to_raw(name: str, rows: list[list[Any]]) -> RawSheet:
    if not rows:
        return RawSheet(name, [], [], [])
    header_cells = normalise_column(rows[0])
    headers = [str(h) if h is not None else "" for h in header_cells]
    while headers and headers[-1] == "":
        headers.pop()
    width = max(len(headers), 1)
    data: list[list[Any]] = []
    numbers: list[int] = []
    for index, row in enumerate(rows[1:], start=HEADER_ROW + 1):
        if row.count("") == len(row) or _is_blank(row):
            continue
        if len(row) < width:
            row = [*row, *([""] * (width - len(row)))]
        data.append(row[:width] if len(row) > width else row)
        numbers.append(index)
    if not data:
        return RawSheet(name, headers, [], [[] for _ in range(width)])
    columns = [normalise_column(col) for col in zip(*data, strict=True)]
    return RawSheet(name, headers, numbers, columns)
