"""Reading a workbook with python-calamine into columns of normalised Python values.

calamine is ~10× faster than openpyxl here (RECIPES.md), but its cell types differ: integers come
back as floats, empty cells as ``''``, date cells as ``date`` or ``datetime``. :func:`normalise_column`
is the one place that turns those into ``None`` / ``int`` / ``date`` / stripped ``str``; nothing
downstream looks at raw calamine values.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

import python_calamine
from django.utils.translation import gettext as _

from jixiao.web.workbooks import WorkbookRefused, check_workbook, read_upload


def _bad_file() -> str:
    return _("无法读取文件：不是有效的 Excel 工作簿（.xlsx），文件可能已损坏")


# Excel shows the header on row 1, so the first data row is row 2.
HEADER_ROW = 1


class UnreadableWorkbook(WorkbookRefused):
    """The upload is not a workbook we read (too large, not an xlsx, corrupt, encrypted, formulas
    without values); ``problems`` holds the Chinese reasons."""


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


def read_workbook(source: str | IO[bytes], only: set[str] | None = None) -> dict[str, RawSheet]:
    """Return every sheet (or those named in ``only``) as a :class:`RawSheet`, keyed by name.

    Raises :class:`UnreadableWorkbook` when the file cannot be opened as a workbook or fails the
    bounds of ``web.workbooks.check_workbook`` (checked before calamine sees a byte, since
    calamine aborts the process on a sheet too large to allocate).
    """
    try:
        data = read_upload(source)
        check_workbook(data, sheets=only)
    except WorkbookRefused as exc:
        raise UnreadableWorkbook(exc.problems) from None
    try:
        workbook = python_calamine.load_workbook(io.BytesIO(data))
        names = list(workbook.sheet_names)
    except Exception as exc:  # calamine raises several unrelated types for a bad file
        raise UnreadableWorkbook(_bad_file()) from exc
    sheets: dict[str, RawSheet] = {}
    for name in names:
        if only is not None and name not in only:
            sheets[name] = RawSheet(name, [], [], [])
            continue
        try:
            # skip_empty_area=False keeps A1 at index 0, so list positions map to Excel rows.
            rows: list[list[Any]] = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except Exception as exc:
            raise UnreadableWorkbook(_bad_file()) from exc
        sheets[name] = _to_raw(name, rows)
    return sheets


def _to_raw(name: str, rows: list[list[Any]]) -> RawSheet:
    if not rows:
        return RawSheet(name, [], [], [])
    header_cells = normalise_column(rows[0])
    headers = [str(h) if h is not None else "" for h in header_cells]
    while headers and headers[-1] == "":
        headers.pop()
    width = len(headers)
    body = rows[1:]
    # A row is blank when every cell is ''. any() runs in C and settles almost every row; only
    # rows whose cells are all falsy (0, False, '') need the exact count.
    keep = [i for i, row in enumerate(body) if any(row) or row.count("") != len(row)]
    data = body if len(keep) == len(body) else [body[i] for i in keep]
    numbers = [i + HEADER_ROW + 1 for i in keep]
    # calamine pads every row to the sheet's width, so zip loses nothing; cells beyond the last
    # header are ignored and missing columns read as empty.
    columns = [normalise_column(col) for col in itertools.islice(zip(*data, strict=False), width)]
    columns.extend([None] * len(numbers) for _ in range(width - len(columns)))
    return RawSheet(name, headers, numbers, columns)
