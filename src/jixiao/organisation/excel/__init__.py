"""Excel import and export of the registry (M1).

``specs`` declares the sheets; ``reader`` (python-calamine) and ``writer`` (xlsxwriter) move cells;
``validate`` checks whole columns; ``importer`` and ``exporter`` are the audited services;
``persist`` holds the set-based writes.
"""

from __future__ import annotations

from jixiao.organisation.excel.exporter import can_export, registry_export
from jixiao.organisation.excel.importer import ImportResult, SheetCounts, registry_import
from jixiao.organisation.excel.validate import RowError
from jixiao.organisation.excel.writer import XLSX_CONTENT_TYPE, template_rows, write_workbook

__all__ = [
    "XLSX_CONTENT_TYPE",
    "ImportResult",
    "RowError",
    "SheetCounts",
    "can_export",
    "registry_export",
    "registry_import",
    "template_rows",
    "write_workbook",
]
