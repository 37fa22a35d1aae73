"""Submitting a declaration into review (提交审核): a frozen version, the first review stage and
its reviewers' notification. :func:`freeze_version`, :func:`stage_reviewers` and
:func:`notify_stage_reviewers` are for the review stages too.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, Role, User
from jixiao.declarations import snapshot
from jixiao.declarations.drafting import (
    assert_editable,
    cap_message,
    core_cap,
    declared_weight_problems,
    require_editor,
    scheme_of,
)
from jixiao.declarations.models import (
    Declaration,
    DeclarationStatus,
    DeclarationVersion,
    DeclaredIndicator,
    ReviewerRole,
    ReviewStage,
)
from jixiao.hygiene import OPINION_MAX_LENGTH, clean_text
from jixiao.organisation.models import Unit


def stage_reviewers(declaration: Declaration, stage: ReviewStage) -> QuerySet[User]:
    """The active accounts that decide ``stage`` for ``declaration``: the office; every leader;
    for a business-department stage, the lead departments of the declaration's indicators."""
    users = User.objects.filter(is_active=True)
    if stage.role == ReviewerRole.OFFICE:
        return users.filter(role=Role.OFFICE)
    if stage.role == ReviewerRole.LEADER:
        return users.filter(role=Role.LEADER)
    leads = DeclaredIndicator.objects.filter(declaration=declaration, lead_department__isnull=False).values(
        "lead_department_id"
    )
    return users.filter(role=Role.LEAD_DEPT, unit_id__in=leads)


def notify_stage_reviewers(*, declaration: Declaration, stage: ReviewStage) -> int:
    """Tell ``stage``'s reviewers that ``declaration``'s current version awaits them (once per
    version and stage); return how many were notified. The review pages reuse it."""
    from jixiao.notifications.services import notify

    title = _("%(unit)s的目标申报（第 %(v)s 版）待“%(stage)s”审核") % {
        "unit": declaration.unit.name,
        "v": declaration.version,
        "stage": stage.name,
    }
    created = notify(
        recipients=stage_reviewers(declaration, stage),
        cause=f"declaration:{declaration.pk}:v{declaration.version}:stage:{stage.pk}",
        title=title,
        # The review page: a lead department cannot open another unit's drafting page.
        link=reverse("review:declaration", args=[declaration.pk]),
    )
    return len(created)


def notify_liaisons(*, unit: Unit, cause: str, title: str, link: str) -> int:
    """Notify the unit's active liaisons once for ``cause``; return how many."""
    from jixiao.notifications.services import notify

    liaisons = User.objects.filter(is_active=True, role=Role.LIAISON, unit=unit)
    return len(notify(recipients=liaisons, cause=cause, title=title, link=link))


def freeze_version(*, actor: User | None, declaration: Declaration, note: str = "") -> DeclarationVersion:
    """Freeze the working copy as the next :class:`DeclarationVersion` and bump
    ``declaration.version`` (saved). Call inside a transaction holding the declaration's lock."""
    number = declaration.version + 1
    version = DeclarationVersion.objects.create(
        declaration=declaration,
        number=number,
        snapshot=snapshot.snapshot_of(declaration),
        note=note[:OPINION_MAX_LENGTH],
        submitted_by=actor if actor is not None and actor.pk else None,
    )
    declaration.version = number
    declaration.submitted_at = version.submitted_at
    declaration.save(update_fields=["version", "submitted_at", "updated_at"])
    return version


@transaction.atomic
def declaration_submit(*, actor: User, declaration: Declaration, note: str = "") -> DeclarationVersion:
    """Submit the working copy: freeze a new version, then status 审核中 at the cycle's first
    review stage (its reviewers notified), or 审核通过 directly when the cycle has no review
    stage. Refused (ValidationError) in a wrong stage or status, with weight problems, with no
    indicator, or beyond the burden cap. Audited; returns the new version."""
    require_editor(actor, declaration)
    declaration = (
        Declaration.objects.select_for_update().select_related("unit", "cycle").get(pk=declaration.pk)
    )
    assert_editable(declaration, _("提交目标申报"))
    if not DeclaredIndicator.objects.filter(declaration=declaration).exists():
        raise ValidationError(_("尚未申报任何指标，不能提交"))
    problems = declared_weight_problems(declaration)
    if problems:
        listed = "；".join(
            _("“%(where)s”下权重合计 %(total)s") % {"where": p.where, "total": p.total.normalize()}
            for p in problems
        )
        raise ValidationError(_("各级指标权重须合计 100，请先调整：%(listed)s") % {"listed": listed})
    cap = core_cap(scheme_of(declaration))
    if DeclaredIndicator.objects.filter(declaration=declaration, is_core=True).count() > cap:
        raise ValidationError(cap_message(cap))
    previous_status = declaration.status
    version = freeze_version(
        actor=actor,
        declaration=declaration,
        note=clean_text(note, max_length=OPINION_MAX_LENGTH, label=_("提交说明")),
    )
    first = ReviewStage.objects.filter(cycle_id=declaration.cycle_id).order_by("order").first()
    now = timezone.now()
    if first is None:
        declaration.status = DeclarationStatus.APPROVED
        declaration.stage = None
        declaration.approved_at = now
    else:
        declaration.status = DeclarationStatus.SUBMITTED
        declaration.stage = first
    declaration.save(update_fields=["status", "stage", "approved_at", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=declaration,
        changes={
            "status": [previous_status, declaration.status],
            "version": version.number,
            "stage": first.name if first else "",
        },
    )
    if first is not None:
        notify_stage_reviewers(declaration=declaration, stage=first)
    return version
