"""Importing an independent survey firm's results (第三方测评) from Excel into the facts.

One sheet, header on row 1: 单位代码 | 评价项目 | 样本量 | 满意度得分 (0–100). Every problem is
reported as (sheet, row, column, message) and nothing is written when there is any. A good file
lands as one EvaluationScore per row with ``ballots`` = sample size and ``source`` =
``third-party:<first 12 hex of the file's SHA-256>``; importing the same file again replaces its rows.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from dataclasses import dataclass
from typing import Any, Final

from django.db import transaction
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, User
from jixiao.facts.models import EvaluationScore
from jixiao.organisation.excel.reader import HEADER_ROW, UnreadableWorkbook, read_workbook
from jixiao.organisation.models import Unit
from jixiao.schemes.lifecycle import CycleLocked, assert_cycle_editable
from jixiao.schemes.models import Cycle, RaterGroup
from jixiao.surveys.models import ThirdPartyImport, third_party_source

# (key, header as the firm writes it, accepted aliases)
COLUMNS: Final = (
    ("unit", "单位代码", ("unit_code",)),
    ("item", "评价项目", ("item", "项目代码")),
    ("samples", "样本量", ("sample_size", "样本数")),
    ("score", "满意度得分", ("score", "得分")),
)
DEFAULT_GROUP: Final = "third_party"
_ITEM = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True)
class CellError:
    sheet: str
    row: int
    column: str
    message: str


@dataclass(frozen=True)
class Row:
    unit_id: int
    item: str
    samples: int
    score: float


@dataclass(frozen=True)
class ImportOutcome:
    errors: list[CellError]
    record: ThirdPartyImport | None = None


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            parsed = float(value.strip())
        except ValueError:
            return None
        return parsed if math.isfinite(parsed) else None
    return None


def parse(content: bytes) -> tuple[list[Row], list[CellError]]:
    """Return the rows of the workbook ``content`` and every problem found (rows are only
    meaningful when there is no problem)."""
    try:
        sheets = read_workbook(io.BytesIO(content))
    except UnreadableWorkbook as exc:
        return [], [CellError(p.sheet, p.row or 0, p.column, p.message) for p in exc.problems]
    sheet = next((s for s in sheets.values() if s.headers), None)
    if sheet is None:
        return [], [CellError("", 0, "", _("工作簿是空的，没有可导入的内容"))]
    errors: list[CellError] = []
    positions: dict[str, int] = {}
    for key, header, aliases in COLUMNS:
        found = next((i for i, h in enumerate(sheet.headers) if h == header or h in aliases), None)
        if found is None:
            errors.append(CellError(sheet.name, HEADER_ROW, header, _("缺少“%(h)s”列") % {"h": header}))
        else:
            positions[key] = found
    if errors:
        return [], errors
    if not sheet.row_numbers:
        return [], [CellError(sheet.name, HEADER_ROW + 1, "", _("没有数据行"))]
    codes = {str(c) for c in sheet.columns[positions["unit"]] if c is not None}
    unit_ids = dict(Unit.objects.filter(code__in=codes).values_list("code", "pk"))
    rows: list[Row] = []
    seen: dict[tuple[int, str], int] = {}
    for i, number in enumerate(sheet.row_numbers):

        def cell(key: str, i: int = i) -> Any:
            return sheet.columns[positions[key]][i]

        def err(key: str, message: str, number: int = number) -> None:
            header = next(h for k, h, _a in COLUMNS if k == key)
            errors.append(CellError(sheet.name, number, f"{_letter(positions[key])}（{header}）", message))

        code = None if cell("unit") is None else str(cell("unit"))
        unit_id = unit_ids.get(code) if code else None
        if code is None:
            err("unit", _("单位代码为空"))
        elif unit_id is None:
            err("unit", _("没有代码为“%(c)s”的单位") % {"c": code})
        item = "" if cell("item") is None else str(cell("item")).strip()
        if not _ITEM.match(item):
            err("item", _("评价项目代码“%(v)s”只能用小写字母、数字和下划线") % {"v": item})
        samples = _number(cell("samples"))
        if samples is None or not samples.is_integer() or samples < 1:
            err(
                "samples",
                _("样本量须为正整数，现为“%(v)s”")
                % {"v": cell("samples") if cell("samples") is not None else ""},
            )
        score = _number(cell("score"))
        if score is None or not 0 <= score <= 100:
            err(
                "score",
                _("满意度得分须为 0–100 的数，现为“%(v)s”")
                % {"v": cell("score") if cell("score") is not None else ""},
            )
        if unit_id is not None and item:
            first = seen.setdefault((unit_id, item), number)
            if first != number:
                err("item", _("与第 %(n)d 行重复（同一单位、同一项目）") % {"n": first})
        if unit_id is not None and samples is not None and score is not None:
            rows.append(Row(unit_id, item, int(samples), float(score)))
    return rows, errors


def third_party_import(
    *, actor: User, cycle: Cycle, content: bytes, filename: str, rater_group: str = DEFAULT_GROUP
) -> ImportOutcome:
    """Validate and import a firm's workbook; write nothing and return the errors if any (a
    closed cycle is one)."""
    try:
        assert_cycle_editable(cycle)
    except CycleLocked as exc:
        return ImportOutcome([CellError("", 0, "", exc.messages[0])])
    if not RaterGroup.objects.filter(cycle=cycle, code=rater_group).exists():
        return ImportOutcome(
            [
                CellError(
                    "",
                    0,
                    "",
                    _("%(cycle)s没有代码为“%(code)s”的评价主体") % {"cycle": cycle.name, "code": rater_group},
                )
            ]
        )
    rows, errors = parse(content)
    if errors:
        return ImportOutcome(errors)
    digest = hashlib.sha256(content).hexdigest()
    return ImportOutcome(
        [], _persist(actor=actor, cycle=cycle, rows=rows, digest=digest, filename=filename, group=rater_group)
    )


@transaction.atomic
def _persist(
    *, actor: User, cycle: Cycle, rows: list[Row], digest: str, filename: str, group: str
) -> ThirdPartyImport:
    source = third_party_source(digest)
    replaced, _by_model = EvaluationScore.objects.filter(source=source).delete()
    EvaluationScore.objects.bulk_create(
        [
            EvaluationScore(
                cycle=cycle,
                unit_id=r.unit_id,
                rater_group=group,
                item=r.item,
                score=r.score,
                ballots=r.samples,
                source=source,
            )
            for r in rows
        ],
        batch_size=2000,
    )
    record = ThirdPartyImport.objects.create(
        cycle=cycle,
        rater_group=group,
        digest=digest,
        filename=filename[:200],
        rows=len(rows),
        samples=sum(r.samples for r in rows),
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.IMPORT,
        obj=record,
        object_repr=f"第三方测评 {filename}"[:200],
        changes={
            "source": source,
            "rows": len(rows),
            "samples": record.samples,
            "replaced": replaced,
            "cycle_id": cycle.pk,
        },
    )
    return record
