"""Excel export of a run's results (real .xlsx via xlsxwriter): Chinese headers and names (categories,
components, flags), scores to the scheme's decimals, times in local time (settings.TIME_ZONE)."""

from __future__ import annotations

import io
from collections.abc import Iterable

from django.utils import timezone
from django.utils.translation import gettext as _

from jixiao.results import labels, selectors
from jixiao.results.models import EntityResult, ScoringRun
from jixiao.web.workbooks import safe_workbook


def results_workbook(*, run: ScoringRun, results: Iterable[EntityResult]) -> bytes:
    """Return an .xlsx with one sheet of results: category, rank, name, total, components, grade."""
    buffer = io.BytesIO()
    book = safe_workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet(_("考核结果"))
    bold = book.add_format({"bold": True, "bg_color": "#EEF2F7"})
    rows = list(results)
    order = {c: i for i, c in enumerate(selectors.category_order(sorted({r.category for r in rows})))}
    rows.sort(key=lambda r: (r.subject != "unit", order[r.category], r.rank or 0, r.pk))  # 县市 first
    decimals = int(run.parameters.get("score_decimals", 2))
    components = sorted({c for r in rows for c in r.components})
    categories = selectors.category_names(codes=sorted({r.category for r in rows}))
    names = selectors.all_component_names(run=run)
    headers = [
        _("对象"),
        _("类别"),
        _("名次"),
        _("单位"),
        _("姓名"),
        _("总分"),
        *[names.get(c, c) for c in components],
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
                categories.get(r.category, r.category),
                r.rank if r.rank is not None else "",
                r.unit.name,
                r.official.name if r.official else "",
                _rounded(r.total, decimals),
                *[_rounded(r.components.get(c), decimals) for c in components],
                r.grade or _("不确定等次"),
                "、".join(str(labels.FLAGS.get(f, f)) for f in r.flags),
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
            (_("计算时间"), timezone.localtime(run.created_at).strftime("%Y-%m-%d %H:%M:%S")),
            (_("输入摘要 SHA-256"), run.input_digest),
            (_("结果摘要 SHA-256"), run.output_digest),
        ]
    ):
        info.write_row(i, 0, [k, v])
    info.set_column(0, 1, 40)
    book.close()
    return buffer.getvalue()


def _rounded(value: float | None, decimals: int) -> float | str:
    """A score rounded to the scheme's decimals ("" for none), still a number for Excel."""
    return "" if value is None else round(value, decimals)
