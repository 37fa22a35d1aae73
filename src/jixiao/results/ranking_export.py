"""Excel export of one category's whole ranking, as the ranking page shows it (its sort, Chinese
headers, grades as their labels, scores rounded as on the page).

A category of up to ``INLINE_ROWS`` rows is sent at once; a larger one (a province's largest
category has 30,000 officials) is written by the job worker into a :class:`RankingExport` that its
requester downloads from the ranking page. Both are scoped like the ranking page
(``selectors.may_see_rankings``, checked again when the job runs and at download) and audited as
exports when the workbook is handed over.
"""

from __future__ import annotations

import io
import itertools
import uuid
from collections.abc import Iterable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, User
from jixiao.results import labels, selectors
from jixiao.results.models import EntityResult, RankingExport, ResultSubject, ScoringRun
from jixiao.web.workbooks import safe_workbook

# Rows sent at once (≈0.2 s of xlsxwriter); a larger category is exported by the worker.
INLINE_ROWS = 2_000
# Rows read (and last year's results looked up) per query while writing.
CHUNK = 2_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def shown_score(value: float | None, decimals: int) -> float | None:
    """``value`` rounded as the page shows it (Django's ``floatformat``: half up on the decimal
    repr, so 84.125 → 84.13, where ``round`` gives 84.12), still a number for Excel."""
    if value is None:
        return None
    exponent = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(value)).quantize(exponent, rounding=ROUND_HALF_UP))


def category_rows(*, user: User, run: ScoringRun, subject: str, category: str, sort: str) -> Any:
    """The whole category's results in the page's order, for ``user`` (PermissionDenied for those
    who may not read rankings: liaisons and officials see only their own results)."""
    if not selectors.may_see_rankings(user):
        raise PermissionDenied
    return selectors.ranking(run=run, subject=subject, category=category, sort=sort)


def ranking_workbook(
    *, run: ScoringRun, subject: str, category: str, rows: Iterable[EntityResult], progress: Any = None,
    total: int = 0,
) -> tuple[bytes, int]:  # fmt: skip
    """Return (.xlsx bytes, rows written): one sheet of the ranking, one of the run's identity."""
    buffer = io.BytesIO()
    book = safe_workbook(buffer, {"in_memory": True})
    category_name = selectors.category_names(codes=[category]).get(category, category)
    sheet = book.add_worksheet(category_name[:31])
    bold = book.add_format({"bold": True, "bg_color": "#EEF2F7"})
    decimals = int(run.parameters.get("score_decimals", 2))
    number = book.add_format({"num_format": "0." + "0" * decimals if decimals else "0"})
    official = subject == ResultSubject.OFFICIAL
    names = selectors.component_names(run=run, category=category)
    chunks = _chunks(iter(rows))
    first = next(chunks, [])
    components = list(first[0].components) if first else []
    headers = [
        _("名次"),
        *((_("单位"), _("工号"), _("姓名")) if official else (_("单位代码"), _("单位"))),
        _("总分"),
        *[names.get(c, c) for c in components],
        _("等次"),
        _("上年名次"),
        _("上年等次"),
        _("提示"),
    ]
    sheet.write_row(0, 0, headers, bold)
    score_columns = range(len(headers) - 4 - len(components) - 1, len(headers) - 4)
    written = 0
    for chunk in itertools.chain([first] if first else [], chunks):
        ids = [(r.official_id or 0) if official else r.unit_id for r in chunk]
        previous = selectors.previous_by_entity(run=run, subject=subject, entity_ids=ids)
        for r, entity_id in zip(chunk, ids, strict=True):
            written += 1
            before = previous.get(entity_id)
            who = (
                [r.unit.name, r.official.code, r.official.name]
                if official and r.official is not None
                else [r.unit.code, r.unit.name]
            )
            values: list[Any] = [
                r.rank if r.rank is not None else "",
                *who,
                shown_score(r.total, decimals),
                *[shown_score(r.components.get(c), decimals) for c in components],
                r.grade or _("不确定等次"),
                before.rank if before is not None and before.rank is not None else "",
                (before.grade or _("不确定等次")) if before is not None else "",
                "、".join(str(labels.FLAGS.get(f, f)) for f in r.flags),
            ]
            for column, value in enumerate(values):
                if value is None:
                    continue
                if column in score_columns:
                    sheet.write_number(written, column, value, number)
                else:
                    sheet.write(written, column, value)
        if progress is not None and total:
            progress(10 + int(80 * written / total), _("已写入 %(n)s / %(total)s 行") % {
                "n": f"{written:,}", "total": f"{total:,}"})  # fmt: skip
    sheet.freeze_panes(1, 0)
    sheet.set_column(0, len(headers) - 1, 12)
    sheet.set_column(1, 2 if official else 1, 24)
    info = book.add_worksheet(_("批次信息"))
    for i, (k, v) in enumerate(
        [
            (_("周期"), run.cycle.name),
            (_("批次"), run.number),
            (_("对象"), ResultSubject(subject).label),
            (_("类别"), category_name),
            (_("行数"), written),
            (_("计算时间"), timezone.localtime(run.created_at).strftime("%Y-%m-%d %H:%M:%S")),
            (_("结果摘要 SHA-256"), run.output_digest),
        ]
    ):
        info.write_row(i, 0, [k, str(v)])
    info.set_column(0, 1, 40)
    book.close()
    return buffer.getvalue(), written


def _chunks(rows: Iterator[EntityResult]) -> Iterator[list[EntityResult]]:
    while chunk := list(itertools.islice(rows, CHUNK)):
        yield chunk


def filename(*, run: ScoringRun, category: str) -> str:
    return f"ranking-{run.cycle.year}-{run.number}-{category.replace(':', '-')}.xlsx"


def ranking_export_inline(*, actor: User, run: ScoringRun, subject: str, category: str, sort: str) -> bytes:
    """The workbook of a small category, made now and audited as an export."""
    rows = category_rows(user=actor, run=run, subject=subject, category=category, sort=sort)
    content, written = ranking_workbook(run=run, subject=subject, category=category, rows=rows)
    _audit(actor=actor, run=run, subject=subject, category=category, rows=written)
    return content


def _audit(*, actor: User, run: ScoringRun, subject: str, category: str, rows: int) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        obj=run,
        changes={"what": "ranking", "format": "xlsx", "subject": subject, "category": category, "rows": rows},
    )


def ranking_export_start(
    *, actor: User, run: ScoringRun, subject: str, category: str, sort: str, rows: int
) -> RankingExport:
    """Queue the workbook of a large category for the worker; return its export row. Raises
    JobBusy (a ValidationError) while another ranking export of the cycle is being made."""
    from jixiao.jobs.models import JobKind
    from jixiao.jobs.services import job_start

    if not selectors.may_see_rankings(actor):
        raise PermissionDenied
    with transaction.atomic():
        export = RankingExport.objects.create(
            run=run, subject=subject, category=category, sort=selectors.valid_sort(sort),
            requested_by=actor, row_count=rows,
        )  # fmt: skip
    try:
        job = job_start(kind=JobKind.RANKING_XLSX, actor=actor, cycle=run.cycle, params={"export": export.pk})
    except ValidationError:
        export.delete()
        raise
    RankingExport.objects.filter(pk=export.pk).update(job=job)
    export.job = job
    return export


def ranking_xlsx_job(*, job: Any, progress: Any) -> Any:
    """The background job: write the export's category, scoped to its requester as they are now."""
    from jixiao.jobs.services import JobOutcome

    export = RankingExport.objects.select_related("run__cycle", "requested_by").get(
        pk=int(job.params["export"])
    )
    run = export.run
    progress(5, _("读取排名"))
    rows = category_rows(
        user=export.requested_by, run=run, subject=export.subject, category=export.category, sort=export.sort
    )
    total = rows.count()
    content, written = ranking_workbook(
        run=run, subject=export.subject, category=export.category, rows=rows.iterator(chunk_size=CHUNK),
        progress=progress, total=total,
    )  # fmt: skip
    progress(95, _("保存文件"))
    export.file.save(f"{uuid.uuid4().hex}.xlsx", ContentFile(content), save=False)
    export.row_count = written
    export.save(update_fields=["file", "row_count"])
    return JobOutcome(
        _("排名 Excel 已生成（%(n)s 行）") % {"n": f"{written:,}"},
        reverse("results:ranking_export_file", args=[export.pk]),
    )


def ranking_export_download(*, actor: User, export: RankingExport) -> bytes:
    """The export's workbook for its requester while they may read rankings (PermissionDenied
    otherwise), audited as an export."""
    if export.requested_by_id != actor.pk or not export.file or not selectors.may_see_rankings(actor):
        raise PermissionDenied
    with export.file.open("rb") as handle:
        content: bytes = handle.read()
    _audit(
        actor=actor, run=export.run, subject=export.subject, category=export.category, rows=export.row_count
    )
    return content


def latest_export(*, user: User, run: ScoringRun) -> RankingExport | None:
    """The user's latest background ranking export of ``run`` (for its panel on the page)."""
    return (
        RankingExport.objects.filter(requested_by_id=user.pk, run=run)
        .select_related("job__created_by")
        .first()
    )
