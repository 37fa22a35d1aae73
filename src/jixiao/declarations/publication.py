"""Publishing approved targets (公布目标), change requests after publication (目标变更), and the
per-unit lists of published targets as Excel and PDF.

Published targets are the snapshot of a declaration's ``published_version``, never its working
copy: while a change request is open the unit edits the working copy and the published list
stays what was published until the office republishes the approved change.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, User
from jixiao.accounts.permissions import can_edit_unit
from jixiao.declarations import drafting, snapshot
from jixiao.declarations.drafting import CHANGE_STAGES
from jixiao.declarations.models import (
    ChangeRequest,
    ChangeRequestStatus,
    Declaration,
    DeclarationStatus,
    DeclarationVersion,
    PublicationExport,
)
from jixiao.declarations.submission import notify_liaisons
from jixiao.hygiene import NOTE_MAX_LENGTH, clean_text
from jixiao.organisation.models import Unit, UnitCategory
from jixiao.schemes import lifecycle
from jixiao.schemes.models import Cycle, CycleStage, IndicatorKind
from jixiao.schemes.rule_types import INDICATOR_RULES, params_text
from jixiao.web.workbooks import safe_workbook

PUBLISH_STAGES: tuple[str, ...] = (CycleStage.PUBLICATION, CycleStage.TRACKING, CycleStage.EVALUATION)


def _require_office(actor: User) -> None:
    if not (actor.is_office and actor.can_write):
        raise PermissionDenied


def _publish_locked(*, actor: User, declaration: Declaration) -> None:
    if declaration.status != DeclarationStatus.APPROVED:
        raise ValidationError(
            _("%(unit)s的目标申报现为“%(status)s”，只有审核通过的申报可以公布")
            % {"unit": declaration.unit.name, "status": declaration.get_status_display()}
        )
    now = timezone.now()
    previous = declaration.published_version
    declaration.status = DeclarationStatus.PUBLISHED
    declaration.published_version = declaration.version
    declaration.published_at = now
    declaration.save(update_fields=["status", "published_version", "published_at", "updated_at"])
    change = ChangeRequest.objects.filter(declaration=declaration, status=ChangeRequestStatus.OPEN).first()
    if change is not None:
        change.status = ChangeRequestStatus.APPROVED
        change.to_version = declaration.version
        change.closed_at = now
        change.save(update_fields=["status", "to_version", "closed_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=declaration,
        changes={
            "status": [DeclarationStatus.APPROVED.value, DeclarationStatus.PUBLISHED.value],
            "published_version": [previous, declaration.version],
            "change_request": change.pk if change else None,
        },
    )
    notify_liaisons(
        unit=declaration.unit,
        cause=f"declaration:{declaration.pk}:published:v{declaration.version}",
        title=_("%(cycle)s本单位目标（第 %(v)s 版）已公布")
        % {"cycle": declaration.cycle.name, "v": declaration.version},
        link=reverse("declarations:publication") + f"?year={declaration.cycle.year}",
    )


@transaction.atomic
def declaration_publish(*, actor: User, declaration: Declaration) -> Declaration:
    """Publish one approved declaration (its current version), closing an open change request
    with ``to_version``; office only, stage 公布目标 or later; audited. Returns it."""
    _require_office(actor)
    lifecycle.assert_stage(declaration.cycle_id, PUBLISH_STAGES, _("公布目标"))
    locked = Declaration.objects.select_for_update().select_related("unit", "cycle").get(pk=declaration.pk)
    _publish_locked(actor=actor, declaration=locked)
    return locked


@transaction.atomic
def declarations_publish(*, actor: User, cycle: Cycle, category: UnitCategory | None = None) -> int:
    """Publish every approved declaration of ``cycle`` (of one unit category when given); return
    how many were published. Office only, stage 公布目标 or later; each audited."""
    _require_office(actor)
    lifecycle.assert_stage(cycle, PUBLISH_STAGES, _("公布目标"))
    qs = Declaration.objects.filter(cycle=cycle, status=DeclarationStatus.APPROVED)
    if category is not None:
        qs = qs.filter(unit__category=category)
    count = 0
    for declaration in qs.select_for_update(of=("self",)).select_related("unit", "cycle").order_by("pk"):
        _publish_locked(actor=actor, declaration=declaration)
        count += 1
    return count


@transaction.atomic
def change_request_file(*, actor: User, declaration: Declaration, reason: str) -> ChangeRequest:
    """File a change request on published targets: the declaration becomes 变更中 and its
    working copy editable, to be resubmitted through the same review. One open request at a
    time; stage 公布目标 or 过程跟踪; audited. Returns the request."""
    if not can_edit_unit(actor, declaration.unit_id):
        raise PermissionDenied
    lifecycle.assert_stage(declaration.cycle_id, CHANGE_STAGES, _("申请变更目标"))
    locked = Declaration.objects.select_for_update().select_related("unit", "cycle").get(pk=declaration.pk)
    if ChangeRequest.objects.filter(declaration=locked, status=ChangeRequestStatus.OPEN).exists():
        raise ValidationError(_("已有一项变更申请正在办理，完成后才能再次申请"))
    if locked.status != DeclarationStatus.PUBLISHED or locked.published_version is None:
        raise ValidationError(
            _("目标公布后才能申请变更（现为“%(status)s”）") % {"status": locked.get_status_display()}
        )
    reason = clean_text(reason, max_length=NOTE_MAX_LENGTH, label=_("变更理由"))
    if not reason:
        raise ValidationError({"reason": _("请填写变更理由")})
    change = ChangeRequest.objects.create(
        declaration=locked, reason=reason, from_version=locked.published_version, requested_by=actor
    )
    locked.status = DeclarationStatus.CHANGING
    locked.stage = None
    locked.save(update_fields=["status", "stage", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=change,
        changes={"declaration": locked.pk, "from_version": change.from_version, "reason": reason},
    )
    return change


@transaction.atomic
def change_request_withdraw(*, actor: User, declaration: Declaration) -> ChangeRequest:
    """Withdraw the open change request of ``declaration`` (its unit's editor or the office),
    also while the changed version is in review: the working copy becomes the published version
    again (:func:`snapshot.restore`), the declaration 已公布, the request 已撤回. Refused when a
    target added during the change already carries reports or annual values. Audited."""
    if not (can_edit_unit(actor, declaration.unit_id) or (actor.is_office and actor.can_write)):
        raise PermissionDenied
    lifecycle.assert_stage(declaration.cycle_id, CHANGE_STAGES, _("撤回变更申请"))
    locked = Declaration.objects.select_for_update().select_related("unit", "cycle").get(pk=declaration.pk)
    change = ChangeRequest.objects.filter(declaration=locked, status=ChangeRequestStatus.OPEN).first()
    if change is None or locked.published_version is None:
        raise ValidationError(_("没有正在办理的变更申请"), code="no_open_change")
    published = DeclarationVersion.objects.get(declaration=locked, number=locked.published_version)
    items = list(published.snapshot)
    for row in snapshot.rows_not_in(locked, items):
        drafting.assert_no_recorded_work(row)
    before = locked.status
    snapshot.restore(locked, items)
    locked.status = DeclarationStatus.PUBLISHED
    locked.stage = None
    locked.save(update_fields=["status", "stage", "updated_at"])
    change.status = ChangeRequestStatus.WITHDRAWN
    change.closed_at = timezone.now()
    change.save(update_fields=["status", "closed_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=change,
        changes={
            "status": [ChangeRequestStatus.OPEN.value, change.status],
            "declaration_status": [before, locked.status],
            "published_version": locked.published_version,
        },
    )
    return change


# --- exports ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedUnit:
    """One unit's published targets: the unit, the declaration and its published snapshot."""

    unit: Unit
    declaration: Declaration
    indicators: list[dict[str, Any]]


def rule_text(item: dict[str, Any]) -> str:
    """A snapshot indicator's rule and parameters in words."""
    spec = INDICATOR_RULES.get(str(item.get("rule_type", "")))
    label = str(spec.label) if spec else ""
    params = params_text(str(item.get("rule_type", "")), item.get("rule_params") or {})
    return f"{label}（{params}）" if params else label


def _number(text: str | None) -> str:
    if text in (None, ""):
        return ""
    value = str(text)
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value


def export_rows(item: dict[str, Any]) -> list[str]:
    """One snapshot indicator as the export's cells (also the PDF's)."""
    kind = str(IndicatorKind(item["kind"]).label) if item.get("kind") in IndicatorKind.values else ""
    milestones = "；".join(
        f"{m['due']} {_number(m['expected_percent'])}%" for m in item.get("milestones", [])
    )
    flags = [kind]
    if item.get("is_core"):
        flags.append(str(_("核心")))
    if item.get("is_long_term"):
        flags.append(str(_("潜绩")))
    return [
        str(item.get("parent_name", "")),
        ("　" if item.get("under") else "") + str(item.get("name", "")),
        _number(item.get("weight")),
        " ".join(x for x in (_number(item.get("target")), str(item.get("measure") or "")) if x),
        str(item.get("target_text") or ""),
        rule_text(item),
        str(item.get("lead_department_name") or ""),
        "、".join(f for f in flags if f),
        milestones,
        _number(item.get("last_year_target")),
    ]


def export_headers() -> list[str]:
    return [
        _("框架指标"),
        _("申报指标"),
        _("权重"),
        _("目标值"),
        _("目标说明"),
        _("计分规则"),
        _("牵头部门"),
        _("类型"),
        _("节点目标"),
        _("上年目标"),
    ]


def published_workbook(*, cycle: Cycle, units: Sequence[PublishedUnit]) -> bytes:
    """An .xlsx of the published targets: one sheet listing every unit's targets (unit first)."""
    buffer = io.BytesIO()
    book = safe_workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet(_("公布目标"))
    bold = book.add_format({"bold": True, "bg_color": "#EEF2F7"})
    sheet.write_row(0, 0, [_("单位"), _("公布版本"), *export_headers()], bold)
    row = 1
    for pu in units:
        for item in pu.indicators:
            sheet.write_row(
                row, 0, [pu.unit.name, pu.declaration.published_version or "", *export_rows(item)]
            )
            row += 1
    sheet.freeze_panes(1, 0)
    sheet.set_column(0, 3, 18)
    sheet.set_column(4, 11, 16)
    info = book.add_worksheet(_("说明"))
    info.write_row(0, 0, [_("周期"), cycle.name])
    info.write_row(1, 0, [_("导出时间"), timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")])
    info.write_row(2, 0, [_("单位数"), len(units)])
    info.set_column(0, 1, 30)
    book.close()
    return buffer.getvalue()


def published_pdf(*, cycle: Cycle, units: Sequence[PublishedUnit]) -> bytes:
    """An A4 landscape PDF with one section per unit listing its published targets."""
    from weasyprint import HTML

    html = render_to_string(
        "declarations/drafting/published_pdf.html",
        {
            "cycle": cycle,
            "headers": export_headers(),
            "units": [(pu, [export_rows(i) for i in pu.indicators]) for pu in units],
            "issued": timezone.localtime(),
        },
    )
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


# A list of more units than this is made by the worker (the PDF of a prefecture's 102 units took
# 26 s at load 3.4: longer than a request may take); a shorter one is sent at once.
INLINE_PDF_UNITS = 20


def publication_pdf_start(
    *, actor: User, cycle: Cycle, category: UnitCategory | None, unit: Unit | None, units: int
) -> PublicationExport:
    """Queue the background PDF of the published list ``actor`` sees (``units`` of them) with
    these filters; return its export row. Raises JobBusy (a ValidationError) while another PDF of
    the cycle is being made."""
    from jixiao.jobs.models import JobKind
    from jixiao.jobs.services import job_start

    with transaction.atomic():
        export = PublicationExport.objects.create(
            cycle=cycle, category=category, unit=unit, requested_by=actor, unit_count=units
        )
    try:
        job = job_start(kind=JobKind.PUBLICATION_PDF, actor=actor, cycle=cycle, params={"export": export.pk})
    except ValidationError:
        export.delete()
        raise
    PublicationExport.objects.filter(pk=export.pk).update(job=job)
    export.job = job
    return export


def publication_pdf_job(*, job: Any, progress: Any) -> Any:
    """The background job: render the export's PDF from the requester's visible published list."""
    from django.core.files.base import ContentFile

    from jixiao.declarations import selectors
    from jixiao.jobs.services import JobOutcome

    export = PublicationExport.objects.select_related("cycle", "requested_by").get(
        pk=int(job.params["export"])
    )
    progress(10, _("汇总已公布的目标"))
    declarations = selectors.published_declarations(
        user=export.requested_by, cycle=export.cycle, category_id=export.category_id, unit_id=export.unit_id
    )
    units = selectors.published_units(declarations)
    progress(30, _("排版 %(n)d 个单位的目标清单") % {"n": len(units)})
    pdf = published_pdf(cycle=export.cycle, units=units)
    progress(90, _("保存文件"))
    export.file.save(f"{uuid.uuid4().hex}.pdf", ContentFile(pdf), save=False)
    export.unit_count = len(units)
    export.save(update_fields=["file", "unit_count"])
    return JobOutcome(
        _("目标公布清单 PDF 已生成（%(n)d 个单位）") % {"n": len(units)},
        reverse("declarations:publication_pdf", args=[export.pk]),
    )


def publication_pdf_download(*, actor: User, export: PublicationExport) -> bytes:
    """The export's PDF for its requester (PermissionDenied for anyone else), audited as an export."""
    if export.requested_by_id != actor.pk or not export.file:
        raise PermissionDenied
    with export.file.open("rb") as handle:
        content: bytes = handle.read()
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        obj=export.cycle,
        changes={"what": "published_targets", "format": "pdf", "units": export.unit_count,
                 "category": export.category_id},
    )  # fmt: skip
    return content
