"""The facts import service: read → validate every row → write all or nothing → one audit entry."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, AuditLog, Role, User
from jixiao.facts.excel import declared_kind, kinds
from jixiao.facts.excel.cells import parse_sheet
from jixiao.facts.excel.specs import NOTES_SHEET, SHEETS, SHEETS_BY_KIND, FactKind, FactSheet
from jixiao.organisation.excel import ImportResult, SheetCounts
from jixiao.organisation.excel.importer import cyclic_gc_paused
from jixiao.organisation.excel.reader import RawSheet, UnreadableWorkbook, read_workbook
from jixiao.organisation.excel.validate import RowError
from jixiao.schemes.lifecycle import CycleLocked, assert_cycle_editable
from jixiao.schemes.models import Cycle
from jixiao.web.workbooks import WorkbookRefused, read_upload

_KIND_OF_SHEET = {s.name: s for s in SHEETS}
# Observations are inserted, so importing the same file twice would count every score twice.
INSERT_KINDS = frozenset({FactKind.SCORES, FactKind.ADJUSTMENTS})

_STEPS: dict[FactKind, tuple[kinds.Checker, kinds.Writer]] = {
    FactKind.RESULTS: (kinds.check_results, kinds.write_results),
    FactKind.SCORES: (kinds.check_scores, kinds.write_scores),
    FactKind.VOTES: (kinds.check_votes, kinds.write_votes),
    FactKind.ADJUSTMENTS: (kinds.check_adjustments, kinds.write_adjustments),
    FactKind.DECLARED: (declared_kind.check_declared, declared_kind.write_declared),
}


def may_import(user: User, kind: FactKind) -> bool:
    """The office imports every kind; a lead department imports indicator results and declared
    targets' values (and the checks then limit it to those it leads); nobody else imports."""
    if not user.is_authenticated or not user.can_write:
        return False
    if user.is_office:
        return True
    return not SHEETS_BY_KIND[kind].office_only and user.role == Role.LEAD_DEPT and user.unit_id is not None


@dataclass(frozen=True)
class _Upload:
    data: bytes
    sha256: str


def _load(source: str | Path | IO[bytes]) -> _Upload:
    # Bounded: an upload over the size limit is refused before it is read whole.
    data = read_upload(str(source) if isinstance(source, str | Path) else source)
    return _Upload(data, hashlib.sha256(data).hexdigest())


def _file_error(message: str) -> ImportResult:
    return ImportResult(errors=(RowError("", None, "", message),))


def facts_import(
    *,
    actor: User | None,
    cycle: Cycle,
    kind: FactKind,
    source: str | Path | IO[bytes],
    filename: str = "",
) -> ImportResult:
    """Import one kind of facts into ``cycle``. Returns the counts written, or every error found
    (and then writes nothing). A successful import leaves one IMPORT audit entry holding the
    counts and the file's SHA-256; ``actor=None`` is the console (trusted, like the office).

    Raises PermissionDenied when ``actor`` may not import ``kind``; a closed cycle is refused
    as a file error (nothing read, nothing written).
    """
    if actor is not None and not may_import(actor, kind):
        raise PermissionDenied
    try:
        assert_cycle_editable(cycle)
    except CycleLocked as exc:
        return _file_error(exc.messages[0])
    # Borrowed from the registry import (private there): 100,000s of short-lived row tuples set
    # off full cyclic collections; its docstring has the measurement.
    with cyclic_gc_paused():
        return _import(actor=actor, cycle=cycle, kind=kind, source=source, filename=filename)


def _import(
    *, actor: User | None, cycle: Cycle, kind: FactKind, source: str | Path | IO[bytes], filename: str
) -> ImportResult:
    spec = SHEETS_BY_KIND[kind]
    try:
        upload = _load(source)
    except WorkbookRefused as exc:
        return _file_error(exc.message)
    if kind in INSERT_KINDS and (previous := _previous_import(spec, cycle, upload.sha256)) is not None:
        return _file_error(previous)
    try:
        raw = _choose_sheet(spec, upload.data)
    except UnreadableWorkbook as exc:
        return ImportResult(errors=tuple(RowError(p.sheet, p.row, p.column, p.message) for p in exc.problems))
    if isinstance(raw, RowError):
        return ImportResult(errors=(raw,))
    if not any(raw.headers) and not raw.row_numbers:
        # A blank sheet (or 1 M blank rows): nothing to import, said as such rather than as
        # missing columns.
        return _file_error(_("工作表“%(sheet)s”是空的，没有可导入的内容") % {"sheet": raw.name})
    errors: list[RowError] = []
    parsed = parse_sheet(spec, raw, errors)
    if parsed is None:
        return ImportResult(errors=tuple(_sorted(spec, errors)))
    if not len(parsed):
        return _file_error(_("工作表“%(sheet)s”没有数据行") % {"sheet": raw.name})
    check, write = _STEPS[kind]
    lead_unit_id = actor.unit_id if actor is not None and not actor.is_office else None
    context = kinds.Context(cycle=cycle, actor=actor, lead_unit_id=lead_unit_id)
    plan = check(parsed, context, errors)
    if errors:
        return ImportResult(errors=tuple(_sorted(spec, errors)))
    try:
        with transaction.atomic():
            # Serialise imports into one cycle, so two uploads of one scores file cannot both pass
            # the digest check (SQLite already serialises writers; PostgreSQL needs the lock).
            Cycle.objects.select_for_update().filter(pk=cycle.pk).exists()
            # Closed while the file was being checked: still refused.
            assert_cycle_editable(cycle)
            if kind in INSERT_KINDS and (previous := _previous_import(spec, cycle, upload.sha256)):
                return _file_error(previous)
            created, updated = write(plan)
            audit_record(
                actor=actor,
                action=AuditAction.IMPORT,
                object_type=spec.model._meta.label_lower,
                object_id=str(cycle.pk),
                object_repr=f"{cycle.name} · {spec.name} · {filename}"[:200],
                changes={
                    "kind": kind.value,
                    "cycle_id": cycle.pk,
                    "year": cycle.year,
                    "file": filename,
                    "sha256": upload.sha256,
                    "rows": len(parsed),
                    "created": created,
                    "updated": updated,
                    **plan.audit,
                },
            )
    except CycleLocked as exc:
        return _file_error(exc.messages[0])
    except (IntegrityError, DatabaseError) as exc:
        # Validation ran against a snapshot; a concurrent edit can still collide at the database.
        return _file_error(_("写入数据库时发生冲突，未写入任何数据，请重试：%(error)s") % {"error": exc})
    return ImportResult(counts=(SheetCounts(spec.name, created, updated),))


def _previous_import(spec: FactSheet, cycle: Cycle, sha256: str) -> str | None:
    """The refusal message when a file with this digest was already imported into ``cycle``."""
    entry = (
        AuditLog.objects.filter(
            action=AuditAction.IMPORT,
            object_type=spec.model._meta.label_lower,
            object_id=str(cycle.pk),
            changes__sha256=sha256,
        )
        .order_by("at", "id")
        .first()
    )
    if entry is None:
        return None
    return _(
        "该文件已于 %(at)s 由 %(who)s 导入过%(cycle)s（内容完全相同），为避免重复计入，不再导入。"
        "如确需补充，请只导入新增的行。"
    ) % {
        "at": timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M"),
        "who": entry.actor_name or _("命令行"),
        "cycle": cycle.name,
    }


def _choose_sheet(spec: FactSheet, data: bytes) -> RawSheet | RowError:
    """The sheet named after the kind; failing that, the workbook's only data sheet (survey
    companies send "Sheet1"). Raises UnreadableWorkbook."""
    sheets = read_workbook(io.BytesIO(data), only={spec.name})
    if spec.name in sheets:
        return sheets[spec.name]
    others = [name for name in sheets if name.strip() != NOTES_SHEET]
    for name in others:
        if (kind := _KIND_OF_SHEET.get(name.strip())) is not None:
            # Another kind's template: its columns would all read as unknown, which helps nobody.
            return RowError(
                name,
                None,
                "",
                _("这是“%(other)s”的文件，请在“%(other)s”的导入页面导入，或使用“%(sheet)s”的模板")
                % {"other": kind.name, "sheet": spec.name},
            )
    if len(others) == 1:
        return read_workbook(io.BytesIO(data), only={others[0]})[others[0]]
    return RowError(
        "",
        None,
        "",
        _("文件中没有名为“%(sheet)s”的工作表（现有工作表：%(names)s）")
        % {"sheet": spec.name, "names": "、".join(sheets) or "—"},
    )


def _sorted(spec: FactSheet, errors: list[RowError]) -> list[RowError]:
    order = {c.header: i for i, c in enumerate(spec.columns)}
    return sorted(errors, key=lambda e: (e.row or 0, order.get(e.column, -1), e.message))
