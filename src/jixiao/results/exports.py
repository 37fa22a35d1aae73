"""Excel export of a run's results (real .xlsx via xlsxwriter)."""

from __future__ import annotations

import io
from collections.abc import Iterable

import xlsxwriter
from django.utils.translation import gettext as _

from jixiao.results.models import EntityResult, ScoringRun


def results_workbook(*, run: ScoringRun, results: Iterable[EntityResult]) -> bytes:
    """Return an .xlsx with one sheet of results: category, rank, name, total, components, grade."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet(_("考核结果"))
    bold = book.add_format({"bold": True, "bg_color": "#EEF2F7"})
    rows = list(results)
    components = sorted({c for r in rows for c in r.components})
    headers = [
        _("对象"),
        _("类别"),
        _("名次"),
        _("单位"),
        _("姓名"),
        _("总分"),
        *components,
        _("等次"),
        _("提示"),
    ]
    sheet.write_row(0, 0, headers, bold)
    for i, r in enumerate(rows, start=1):
        sheet.write_row(
            i,
            0,
            [
                r.get_subject_display(),
                r.category,
                r.rank if r.rank is not None else "",
                r.unit.name,
                r.official.name if r.official else "",
                r.total if r.total is not None else "",
                *[r.components.get(c, "") for c in components],
                r.grade or _("不确定等次"),
                "、".join(r.flags),
            ],
        )
    sheet.freeze_panes(1, 0)
    sheet.set_column(0, 4, 14)
    info = book.add_worksheet(_("批次信息"))
    for i, (k, v) in enumerate(
        [
            (_("周期"), run.cycle.name),
            (_("批次"), run.number),
            (_("引擎版本"), run.engine_version),
            (_("计算时间"), run.created_at.isoformat()),
            (_("输入摘要 SHA-256"), run.input_digest),
            (_("结果摘要 SHA-256"), run.output_digest),
        ]
    ):
        info.write_row(i, 0, [k, v])
    info.set_column(0, 1, 40)
    book.close()
    return buffer.getvalue()
