"""Excel import of the engine's facts: 指标完成情况, 测评得分, 测评票数, 加减分与否决.

``specs`` declares the four sheets; ``cells`` converts whole columns; ``lookups`` loads the codes
validation needs once; ``kinds`` checks and writes each kind; ``importer`` is the audited service;
``template`` writes the downloadable templates. Reading goes through the registry's calamine
reader (organisation.excel.reader) and writing through its set-based ``persist``.
"""

from __future__ import annotations

from jixiao.facts.excel.importer import facts_import, may_import
from jixiao.facts.excel.specs import SHEETS, SHEETS_BY_KIND, FactKind, FactSheet
from jixiao.facts.excel.template import write_template
from jixiao.organisation.excel import XLSX_CONTENT_TYPE, ImportResult, RowError, SheetCounts

__all__ = [
    "SHEETS",
    "SHEETS_BY_KIND",
    "XLSX_CONTENT_TYPE",
    "FactKind",
    "FactSheet",
    "ImportResult",
    "RowError",
    "SheetCounts",
    "facts_import",
    "may_import",
    "write_template",
]
