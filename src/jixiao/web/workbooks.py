"""Safe reading and writing of Excel workbooks from and for people outside the system.

Reading. python-calamine sizes a sheet from the cells it finds, so one cell at XFD1048576 in a
1.7 KB upload asked for ~549 GB and aborted the process (SIGABRT, nothing logged). Before any
workbook reaches calamine, :func:`check_workbook` looks at it with bounded work only: the upload's
size, the zip directory (member count, each member's and the total decompressed size, the
compression ratio of a zip bomb), encryption, and then a streaming expat scan of each sheet to be
read that finds the extent of the cells holding a value (what calamine allocates: measured, it
ignores ``<dimension ref>``, blank rows and value-less styled cells) and every formula without a
cached value (calamine would read it as empty). Anything out of bounds raises
:class:`WorkbookRefused` with a Chinese message naming the cell; nothing has been read or written.

Writing. xlsxwriter turns a string starting with ``=`` into a live formula and ``http://`` into a
link by default, so a unit named ``=HYPERLINK(...)`` became a formula in the results export.
:func:`safe_workbook` opens every export with those conversions off, so text is always written as
a text cell, unchanged (a re-import reads back exactly what was exported). A text cell that starts
with ``= + - @``, a tab or a carriage return additionally gets Excel's quote prefix (the format
behind a typed leading apostrophe): Excel shows it as text and keeps it text when someone edits
the cell, and a sheet saved as CSV from Excel no longer starts that field with a formula trigger.
"""

from __future__ import annotations

import io
import posixpath
import pyexpat
import re
import zipfile
import zlib
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import xlsxwriter
from django.conf import settings
from django.utils.translation import gettext as _
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

# Defaults of the settings below (config/settings.py reads the environment).
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_UNZIPPED_BYTES = 300 * 1024 * 1024
DEFAULT_MAX_ROWS = 200_000
DEFAULT_MAX_COLUMNS = 200
DEFAULT_MAX_CELLS = 4_000_000
# A text model field without max_length (TextField) still gets this cap at import.
DEFAULT_TEXT_CAP = 2_000

# A workbook of 100 sheets has ~220 members; a zip of thousands is not a workbook we take.
MAX_MEMBERS = 2_000
# Deflate tops out near 1:1030. Highly repetitive XML reaches 1:200 honestly; bombs sit at the top.
MAX_RATIO = 400
# The ratio only tells something once a member is large.
RATIO_FLOOR_BYTES = 1024 * 1024
# Formula cells without a value are listed up to this many, then counted.
MAX_LISTED = 20
_CHUNK = 1024 * 1024

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")
_SHEET_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


@dataclass(frozen=True)
class Problem:
    """One reason to refuse: ``sheet`` and ``row`` (Excel numbering) and ``column`` (a letter)
    where known, else empty/None."""

    message: str
    sheet: str = ""
    row: int | None = None
    column: str = ""


class WorkbookRefused(Exception):
    """The upload is not a workbook we read: too large, not an xlsx, corrupt, encrypted, or it
    holds formulas without values. ``problems`` says why, in Chinese, for the person who sent it."""

    def __init__(self, problems: Collection[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = Problem(problems)
        self.problems: tuple[Problem, ...] = (problems,) if isinstance(problems, Problem) else tuple(problems)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return "；".join(p.message for p in self.problems)


@dataclass(frozen=True)
class Limits:
    max_bytes: int = DEFAULT_MAX_BYTES
    max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED_BYTES
    max_rows: int = DEFAULT_MAX_ROWS
    max_columns: int = DEFAULT_MAX_COLUMNS
    max_cells: int = DEFAULT_MAX_CELLS

    @classmethod
    def from_settings(cls) -> Limits:
        """Return the limits configured in settings (``JIXIAO_IMPORT_*``)."""
        return cls(
            max_bytes=getattr(settings, "JIXIAO_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES),
            max_unzipped_bytes=getattr(
                settings, "JIXIAO_IMPORT_MAX_UNZIPPED_BYTES", DEFAULT_MAX_UNZIPPED_BYTES
            ),
            max_rows=getattr(settings, "JIXIAO_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS),
            max_columns=getattr(settings, "JIXIAO_IMPORT_MAX_COLUMNS", DEFAULT_MAX_COLUMNS),
            max_cells=getattr(settings, "JIXIAO_IMPORT_MAX_CELLS", DEFAULT_MAX_CELLS),
        )


def text_cap(model: Any, name: str) -> int:
    """Return the longest text the model field ``name`` takes at import: its ``max_length``, or
    :data:`DEFAULT_TEXT_CAP` when it has none (a TextField)."""
    limit = getattr(model._meta.get_field(name), "max_length", None)
    return int(limit) if limit else DEFAULT_TEXT_CAP


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}"


def column_letter(index: int) -> str:
    """Return the Excel letters of the 1-based column ``index`` (1 → A, 27 → AA)."""
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_index(letters: str) -> int:
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    return index


# --------------------------------------------------------------------------------------------
# Reading


def read_upload(source: str | IO[bytes], limits: Limits | None = None) -> bytes:
    """Return the bytes of ``source`` (a path or a binary file), reading at most the size limit
    plus one byte. Raises :class:`WorkbookRefused` when the upload is larger than the limit."""
    limits = limits or Limits.from_settings()
    if isinstance(source, str):
        with open(source, "rb") as handle:
            data = handle.read(limits.max_bytes + 1)
    else:
        if hasattr(source, "seek"):
            source.seek(0)
        data = source.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise WorkbookRefused(
            _("文件超过 %(max)s MB 的上限，请拆分后分批导入") % {"max": _mb(limits.max_bytes)}
        )
    return data


def check_workbook(
    data: bytes, *, sheets: Collection[str] | None = None, limits: Limits | None = None
) -> None:
    """Check that ``data`` is an .xlsx workbook safe to hand to calamine: bounded size, a sound
    zip, not encrypted, and in every sheet to be read (``sheets``, or all) the cells holding a
    value within the row, column and cell limits, and no formula without a cached value.

    Raises :class:`WorkbookRefused` (nothing else) with Chinese messages; returns None when the
    workbook may be read.
    """
    limits = limits or Limits.from_settings()
    if len(data) > limits.max_bytes:
        raise WorkbookRefused(
            _("文件超过 %(max)s MB 的上限，请拆分后分批导入") % {"max": _mb(limits.max_bytes)}
        )
    if not data.strip():
        raise WorkbookRefused(_("文件是空的，没有可导入的内容"))
    if data.startswith(_OLE_MAGIC):
        # Both the old .xls format and every password-protected .xlsx are OLE containers.
        raise WorkbookRefused(
            _(
                "这是设置了密码的工作簿或旧版 .xls 文件，无法读取：请在 Excel 中取消密码并另存为 .xlsx 后再导入"
            )
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise WorkbookRefused(
            _("无法读取文件：不是有效的 Excel 工作簿（.xlsx），文件可能已损坏或不是 Excel 格式")
        ) from None
    with archive:
        members = _check_directory(archive, limits)
        if "xl/workbook.xml" not in members:
            raise WorkbookRefused(_("无法读取文件：压缩包中没有 Excel 工作簿内容（请上传 .xlsx 文件）"))
        paths = _sheet_paths(archive, members)
        names = {name for name, _path in paths}
        if sheets is None or not set(sheets) <= names:
            # Every sheet, also when a wanted name is not mapped to a part (an unusual layout).
            wanted = paths
        else:
            # Parts the workbook does not name (listed by path) are always scanned too.
            wanted = [(name, path) for name, path in paths if name in sheets or name == path]
        problems: list[Problem] = []
        for name, path in wanted:
            if path not in members:
                continue
            problems.extend(_scan_sheet(archive, members[path], name, limits))
        if problems:
            raise WorkbookRefused(problems)


def _check_directory(archive: zipfile.ZipFile, limits: Limits) -> dict[str, zipfile.ZipInfo]:
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise WorkbookRefused(
            _("文件包含的部件过多（%(n)s 个），不是正常的 Excel 工作簿") % {"n": len(infos)}
        )
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise WorkbookRefused(_("文件已加密，无法读取：请取消密码后另存为 .xlsx 再导入"))
        total += info.file_size
        if info.file_size > limits.max_unzipped_bytes or total > limits.max_unzipped_bytes:
            raise WorkbookRefused(
                _("文件解压后超过 %(max)s MB 的上限，请删除多余内容或拆分后分批导入")
                % {"max": _mb(limits.max_unzipped_bytes)}
            )
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise WorkbookRefused(_("文件的压缩比异常（疑似“压缩炸弹”），拒绝读取"))
    return {info.filename: info for info in infos}


def _stream(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> Iterator[bytes]:
    """Yield the member's bytes in chunks; the zip's declared size bounds the output (zipfile
    stops there) and the count below refuses a member that still reads longer."""
    seen = 0
    try:
        with archive.open(info) as handle:
            while chunk := handle.read(_CHUNK):
                seen += len(chunk)
                if seen > limits.max_unzipped_bytes:
                    raise WorkbookRefused(
                        _("文件解压后超过 %(max)s MB 的上限，请删除多余内容或拆分后分批导入")
                        % {"max": _mb(limits.max_unzipped_bytes)}
                    )
                yield chunk
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError):
        # CRC mismatch, a truncated stream, an unknown compression method, an encrypted member.
        raise WorkbookRefused(_("文件已损坏（压缩数据不完整或校验失败），请重新保存后再导入")) from None


def _parser(*, namespaces: bool = True) -> Any:
    parser = pyexpat.ParserCreate(namespace_separator=" ") if namespaces else pyexpat.ParserCreate()

    def no_doctype(*_args: Any) -> None:
        # Office never writes a DOCTYPE; refusing it rules out entity tricks of any size.
        raise WorkbookRefused(_("文件内容格式异常（含有 DTD 声明），拒绝读取"))

    parser.StartDoctypeDeclHandler = no_doctype
    parser.EntityDeclHandler = no_doctype
    return parser


def _parse_small(archive: zipfile.ZipFile, info: zipfile.ZipInfo, parser: Any, limits: Limits) -> None:
    try:
        for chunk in _stream(archive, info, limits):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except pyexpat.ExpatError:
        raise WorkbookRefused(_("文件内容已损坏（XML 格式错误），请在 Excel 中重新保存后再导入")) from None


def _sheet_paths(archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]) -> list[tuple[str, str]]:
    """Return (sheet name, member path) for every sheet the workbook lists, in its order."""
    limits = Limits.from_settings()
    sheets: list[tuple[str, str]] = []
    parser = _parser()

    def on_sheet(name: str, attrs: dict[str, str]) -> None:
        if name == f"{_SHEET_NS_MAIN} sheet" or name.endswith(" sheet") or name == "sheet":
            rid = attrs.get(f"{_REL_NS} id") or next((v for k, v in attrs.items() if k.endswith(" id")), "")
            sheets.append((attrs.get("name", ""), rid))

    parser.StartElementHandler = on_sheet
    _parse_small(archive, members["xl/workbook.xml"], parser, limits)
    targets: dict[str, str] = {}
    rels = members.get("xl/_rels/workbook.xml.rels")
    if rels is not None:
        parser = _parser()

        def on_rel(name: str, attrs: dict[str, str]) -> None:
            if name.endswith("Relationship") and "Id" in attrs and "Target" in attrs:
                target = attrs["Target"]
                path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                targets[attrs["Id"]] = posixpath.normpath(path)

        parser.StartElementHandler = on_rel
        _parse_small(archive, rels, parser, limits)
    found = [(name, targets.get(rid, "")) for name, rid in sheets]
    if any(not path or path not in members for _name, path in found):
        # An unusual package layout: check every worksheet part so nothing escapes the scan.
        # Every XML part then, as the reader may resolve the target in its own way.
        known = {path for _name, path in found}
        found += [(path, path) for path in members if path.endswith(".xml") and path not in known]
    return [(name, path) for name, path in found if path in members and path.endswith(".xml")]


@dataclass
class _Scan:
    name: str
    limits: Limits
    row: int = 0
    column: int = 0
    max_row: int = 0
    max_column: int = 0
    formulas: list[Problem] = field(default_factory=list)
    unlisted: int = 0

    def address(self) -> str:
        return f"{column_letter(self.column)}{self.row}"


def _scan_sheet(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, limits: Limits) -> list[Problem]:
    state = _Scan(name, limits)
    # No namespace processing: tags arrive as written ("c", or "x:c" with a prefix), which is
    # cheaper, and the scan runs once per element of a sheet that may hold millions of cells.
    parser = _parser(namespaces=False)
    row = column = 0
    in_cell = has_value = has_formula = listening = False
    top_row, top_column = limits.max_rows + 1, limits.max_columns
    columns: dict[str, int] = {}

    def close() -> None:
        # A cell ends where the next cell or row starts (or the sheet ends): one handler only.
        nonlocal in_cell
        in_cell = False
        if has_value:
            if row > top_row or column > top_column or row > state.max_row or column > state.max_column:
                state.row, state.column = row, column
                _count_value(state)
        elif has_formula:
            state.row, state.column = row, column
            _formula_without_value(state)

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal row, column, in_cell, has_value, has_formula, listening
        if listening:
            # Only the text directly inside a formula's <v> counts (see formula_value).
            parser.CharacterDataHandler = None
            listening = False
        local = tag if ":" not in tag else tag.rpartition(":")[2]
        if local == "c":
            if in_cell:
                close()
            ref = attrs.get("r")
            if ref:
                letters = ref.rstrip("0123456789")
                index = columns.get(letters)
                digits = ref[len(letters) :]
                if index is None or not digits:
                    match = _CELL_REF.match(ref)
                    if match is None:
                        raise WorkbookRefused(
                            Problem(
                                _("工作表“%(sheet)s”的单元格地址“%(ref)s”无效，文件可能已损坏")
                                % {"sheet": name, "ref": ref[:20]},
                                sheet=name,
                            )
                        )
                    index = columns[letters] = _column_index(match.group(1))
                column = index
                row = int(digits)
            else:
                column += 1
            in_cell, has_value, has_formula = True, False, False
        elif local == "row":
            if in_cell:
                close()
            r = attrs.get("r")
            row = int(r) if r and r.isdigit() else row + 1
            column = 0
        elif in_cell:
            if local == "f":
                has_formula = True
            elif local == "is" or (local == "v" and not has_formula):
                has_value = True
            elif local == "v":
                # openpyxl writes a formula it never computed as <f>…</f><v/>: only text in <v>
                # is a computed value. The text handler is on only until the next element, so
                # the scan of every other cell pays nothing for it.
                parser.CharacterDataHandler = formula_value
                listening = True

    def formula_value(data: str) -> None:
        nonlocal has_value
        if data.strip():
            has_value = True

    parser.StartElementHandler = start
    try:
        for chunk in _stream(archive, info, limits):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
        if in_cell:
            close()
    except pyexpat.ExpatError:
        raise WorkbookRefused(
            Problem(
                _("工作表“%(sheet)s”的内容已损坏（XML 格式错误），请在 Excel 中重新保存后再导入")
                % {"sheet": name},
                sheet=name,
            )
        ) from None
    problems = list(state.formulas)
    if state.unlisted:
        problems.append(
            Problem(
                _("工作表“%(sheet)s”另有 %(n)s 个公式单元格没有计算结果")
                % {"sheet": name, "n": state.unlisted},
                sheet=name,
            )
        )
    return problems


def _count_value(state: _Scan) -> None:
    limits = state.limits
    if state.row > limits.max_rows + 1 or state.column > limits.max_columns:
        raise WorkbookRefused(
            Problem(
                _(
                    "工作表“%(sheet)s”在 %(cell)s 有内容，超出了导入上限（最多 %(rows)s 行数据、%(cols)s 列）："
                    "请删除多余的行和列，或拆分后分批导入"
                )
                % {
                    "sheet": state.name,
                    "cell": state.address(),
                    "rows": f"{limits.max_rows:,}",
                    "cols": limits.max_columns,
                },
                sheet=state.name,
                row=state.row,
                column=column_letter(state.column),
            )
        )
    state.max_row = max(state.max_row, state.row)
    state.max_column = max(state.max_column, state.column)
    # calamine allocates the rectangle from A1 to the last value, not the cells present.
    if state.max_row * state.max_column > limits.max_cells:
        raise WorkbookRefused(
            Problem(
                _(
                    "工作表“%(sheet)s”的数据区域（A1:%(cell)s）超过 %(max)s 个单元格的上限："
                    "请删除多余的行和列，或拆分后分批导入"
                )
                % {
                    "sheet": state.name,
                    "cell": f"{column_letter(state.max_column)}{state.max_row}",
                    "max": f"{limits.max_cells:,}",
                },
                sheet=state.name,
            )
        )


def _formula_without_value(state: _Scan) -> None:
    if len(state.formulas) >= MAX_LISTED:
        state.unlisted += 1
        return
    letter = column_letter(state.column)
    state.formulas.append(
        Problem(
            _(
                "工作表“%(sheet)s”第 %(row)s 行 %(col)s 列（%(cell)s）是公式且没有计算结果，"
                "请在 Excel 中重新计算并保存后再导入"
            )
            % {"sheet": state.name, "row": state.row, "col": letter, "cell": f"{letter}{state.row}"},
            sheet=state.name,
            row=state.row,
            column=letter,
        )
    )


# --------------------------------------------------------------------------------------------
# Writing

_RISKY_START = ("=", "+", "-", "@", "\t", "\r")
_SAFE_OPTIONS: dict[str, Any] = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


class SafeWorksheet(Worksheet):  # type: ignore[misc]  # xlsxwriter has no py.typed: Any to mypy
    """A worksheet whose text cells starting with a formula trigger carry Excel's quote prefix.
    Cells written with a format of their own keep it (still text, as the workbook's options
    never turn strings into formulas)."""

    quote_format: Format | None = None

    def _write_string(self, row: int, col: int, string: str, cell_format: Format | None = None) -> Any:
        if cell_format is None and string.startswith(_RISKY_START):
            cell_format = self.quote_format
        return super()._write_string(row, col, string, cell_format)


class SafeWorkbook(xlsxwriter.Workbook):  # type: ignore[misc]  # as above
    """xlsxwriter's Workbook with formula, link and number conversion of strings off and
    :class:`SafeWorksheet` sheets."""

    def add_worksheet(self, name: str | None = None, worksheet_class: Any = None) -> Any:
        sheet = super().add_worksheet(name, worksheet_class or SafeWorksheet)
        if isinstance(sheet, SafeWorksheet):
            if not hasattr(self, "_quote_format"):
                self._quote_format = self.add_format({"quote_prefix": True})
            sheet.quote_format = self._quote_format
        return sheet


def safe_workbook(target: Any, options: dict[str, Any] | None = None) -> SafeWorkbook:
    """Return a :class:`SafeWorkbook` writing to ``target`` (a path or a binary file) with
    ``options`` plus the string-safety options, which a caller cannot turn back on."""
    return SafeWorkbook(target, {**(options or {}), **_SAFE_OPTIONS})
