"""The multi-stage review of submitted declarations (四级联审, 几上几下): stages and decisions.

The office configures each cycle's 审核环节 (:class:`ReviewStage`: an ordered list, each with a
name and who decides it) while the cycle is in its framework or declaration stage, by hand or from
a preset (Golmud, Xiangxi). A submitted version then passes the stages in order: a stage approves
(a target the ambition check flags needs a reason, kept with the decision), comments per
indicator, or sends it back (退回修改) to the liaison, who revises and resubmits a new version that
starts again at the first stage. Approval at the last stage makes the declaration 审核通过 and
stores the flags on the targets (``low_ambition`` + ``ambition_reason``) for the annual
evaluation. A changed declaration (变更申请) passes the same stages. Every move is audited and
notifies the next stage's reviewers, or the liaison on return and approval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, Max, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, Role, User
from jixiao.declarations import ambition, submission
from jixiao.declarations.models import (
    ChangeRequest,
    ChangeRequestStatus,
    Declaration,
    DeclarationStatus,
    DeclarationVersion,
    DeclaredIndicator,
    IndicatorComment,
    ReviewDecision,
    ReviewerRole,
    ReviewOutcome,
    ReviewStage,
)
from jixiao.hygiene import NOTE_MAX_LENGTH, OPINION_MAX_LENGTH, clean_text
from jixiao.organisation.models import Unit
from jixiao.schemes import lifecycle
from jixiao.schemes.models import Cycle, CycleStage

# The cycle stages in which the office may change the review stages.
STAGE_CONFIG_STAGES = (CycleStage.FRAMEWORK, CycleStage.DECLARATION)
# The cycle stages in which reviewers decide; a change request (after publication) also later.
DECIDE_STAGES = (CycleStage.DECLARATION, CycleStage.REVIEW)
CHANGE_DECIDE_STAGES = (*DECIDE_STAGES, CycleStage.PUBLICATION, CycleStage.TRACKING)
# A declaration waiting for a decision.
IN_REVIEW = (DeclarationStatus.SUBMITTED, DeclarationStatus.CHANGING)
STAGE_NAME_MAX = 50


@dataclass(frozen=True)
class Preset:
    """A ready-made list of review stages the office applies in one click."""

    key: str
    label: object  # a lazy Chinese string
    stages: tuple[tuple[object, ReviewerRole], ...]


PRESETS: dict[str, Preset] = {
    p.key: p
    for p in (
        Preset(
            "golmud",
            gettext_lazy("四级联审（业务部门 → 考核办 → 分管领导 → 领导小组）"),
            (
                (gettext_lazy("业务部门初审"), ReviewerRole.LEAD_DEPT),
                (gettext_lazy("考核办审核"), ReviewerRole.OFFICE),
                (gettext_lazy("分管领导审查"), ReviewerRole.LEADER),
                (gettext_lazy("领导小组审定"), ReviewerRole.OFFICE),
            ),
        ),
        Preset(
            "xiangxi",
            gettext_lazy("三级审核（初审 → 专家和代表评议 → 审定）"),
            (
                (gettext_lazy("初审"), ReviewerRole.OFFICE),
                (gettext_lazy("专家和代表评议"), ReviewerRole.OFFICE),
                (gettext_lazy("审定"), ReviewerRole.LEADER),
            ),
        ),
    )
}


# ---------------------------------------------------------------------------------------------
# Who decides


def acts_for_role(user: User, role: str) -> bool:
    """True when ``user``'s account role is the one that decides stages of reviewer ``role``
    (for 业务主管部门 the unit must still lead an indicator: see :func:`may_decide`)."""
    if not user.is_authenticated or not user.can_write:
        return False
    if role == ReviewerRole.OFFICE:
        return user.is_office
    if role == ReviewerRole.LEADER:
        return user.role == Role.LEADER
    if role == ReviewerRole.LEAD_DEPT:
        return user.role == Role.LEAD_DEPT and user.unit_id is not None
    return False


def reviewer_roles(user: User) -> list[str]:
    """The reviewer roles ``user`` acts for (empty for liaisons, officials, auditors …)."""
    return [r.value for r in ReviewerRole if acts_for_role(user, r.value)]


def may_decide(user: User, declaration: Declaration, stage: ReviewStage | None = None) -> bool:
    """True when ``user`` may decide ``declaration`` at ``stage`` (its current stage by default);
    at a 业务主管部门 stage only while the user's department leads a target and has not yet
    decided this version (one query)."""
    stage = stage if stage is not None else declaration.stage
    if stage is None or not acts_for_role(user, stage.role):
        return False
    if stage.role == ReviewerRole.LEAD_DEPT:
        decided = ReviewDecision.objects.filter(
            version__declaration=declaration,
            version__number=declaration.version,
            stage=stage,
            department_id=user.unit_id,
        )
        return (
            user.unit_id is not None
            and DeclaredIndicator.objects.filter(declaration=declaration, lead_department_id=user.unit_id)
            .exclude(Exists(decided))
            .exists()
        )
    return True


def departments_waiting(declaration: Declaration, stage: ReviewStage, version: int) -> QuerySet[Unit]:
    """The lead departments of ``declaration`` (units leading one of its targets) that have not yet
    approved ``version`` at the 业务主管部门 ``stage``, by name (one query)."""
    leads = DeclaredIndicator.objects.filter(declaration=declaration, lead_department__isnull=False).values(
        "lead_department_id"
    )
    approved = ReviewDecision.objects.filter(
        version__declaration=declaration,
        version__number=version,
        stage=stage,
        outcome=ReviewOutcome.APPROVE,
        department__isnull=False,
    ).values("department_id")
    return Unit.objects.filter(pk__in=leads).exclude(pk__in=approved).order_by("name", "pk")


def reviewers_of(stage: ReviewStage, declaration: Declaration) -> QuerySet[User]:
    """The active accounts that decide ``declaration`` at ``stage`` (drafting's rule, one place)."""
    return submission.stage_reviewers(declaration, stage)


# ---------------------------------------------------------------------------------------------
# Review stages of a cycle


def _assert_stages_editable(cycle: Cycle) -> Cycle:
    return lifecycle.assert_stage(cycle, STAGE_CONFIG_STAGES, _("调整审核环节"))


def _require_office(actor: User) -> None:
    if not (actor.is_office and actor.can_write):
        raise PermissionDenied


def _stage_in_use(stage: ReviewStage) -> bool:
    return (
        Declaration.objects.filter(stage=stage).exists()
        or ReviewDecision.objects.filter(stage=stage).exists()
    )


def _renumber(cycle: Cycle, ordered: Sequence[ReviewStage]) -> None:
    """Give ``ordered`` the orders 1, 2, … (two passes: (cycle, order) is unique)."""
    offset = (ReviewStage.objects.filter(cycle=cycle).aggregate(m=Max("order"))["m"] or 0) + len(ordered) + 1
    for i, stage in enumerate(ordered):
        stage.order = offset + i
        stage.save(update_fields=["order"])
    for i, stage in enumerate(ordered, start=1):
        stage.order = i
        stage.save(update_fields=["order"])


def _stage_audit(actor: User, cycle: Cycle, action: str, **changes: object) -> None:
    stages = [
        f"{s.order}. {s.name}（{s.get_role_display()}）" for s in ReviewStage.objects.filter(cycle=cycle)
    ]
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=cycle,
        changes={"review_stages": action, "stages": stages, **changes},
    )


@transaction.atomic
def review_stage_add(*, actor: User, cycle: Cycle, name: str, role: str) -> ReviewStage:
    """Append a stage called ``name`` decided by ``role`` to ``cycle``'s review; return it."""
    _require_office(actor)
    cycle = _assert_stages_editable(cycle)
    name = clean_text(name, max_length=STAGE_NAME_MAX, label=_("环节名称"))
    if not name:
        raise ValidationError(_("请填写环节名称"))
    if role not in ReviewerRole.values:
        raise ValidationError(_("请选择审核人"))
    last = ReviewStage.objects.select_for_update().filter(cycle=cycle).aggregate(m=Max("order"))["m"] or 0
    stage = ReviewStage.objects.create(cycle=cycle, order=last + 1, name=name, role=role)
    _stage_audit(actor, cycle, "add", added=name)
    return stage


@transaction.atomic
def review_stage_remove(*, actor: User, stage: ReviewStage) -> None:
    """Remove ``stage`` from its cycle's review; refused once a declaration is at or past it."""
    _require_office(actor)
    cycle = _assert_stages_editable(stage.cycle)
    if _stage_in_use(stage):
        raise ValidationError(
            _("“%(s)s”已有申报在审或已审，不能删除") % {"s": stage.name}, code="stage_in_use"
        )
    name = stage.name
    stage.delete()
    _renumber(cycle, list(ReviewStage.objects.select_for_update().filter(cycle=cycle).order_by("order")))
    _stage_audit(actor, cycle, "remove", removed=name)


@transaction.atomic
def review_stage_move(*, actor: User, stage: ReviewStage, up: bool) -> None:
    """Move ``stage`` one place earlier (``up``) or later; at either end nothing changes."""
    _require_office(actor)
    cycle = _assert_stages_editable(stage.cycle)
    ordered = list(ReviewStage.objects.select_for_update().filter(cycle=cycle).order_by("order"))
    index = next(i for i, s in enumerate(ordered) if s.pk == stage.pk)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(ordered):
        return
    if Declaration.objects.filter(stage__cycle=cycle, status__in=IN_REVIEW).exists():
        raise ValidationError(_("已有申报正在审核，不能调整环节顺序"), code="stage_in_use")
    ordered[index], ordered[other] = ordered[other], ordered[index]
    _renumber(cycle, ordered)
    _stage_audit(actor, cycle, "move", moved=stage.name)


@transaction.atomic
def review_stages_apply_preset(*, actor: User, cycle: Cycle, preset: str) -> list[ReviewStage]:
    """Replace ``cycle``'s review stages by the preset ``preset``; refused once any stage is in use."""
    _require_office(actor)
    cycle = _assert_stages_editable(cycle)
    chosen = PRESETS.get(preset)
    if chosen is None:
        raise ValidationError(_("请选择一种预设的审核流程"))
    existing = list(ReviewStage.objects.select_for_update().filter(cycle=cycle))
    if any(_stage_in_use(s) for s in existing):
        raise ValidationError(_("已有申报在审或已审，不能整体替换审核环节"), code="stage_in_use")
    ReviewStage.objects.filter(cycle=cycle).delete()
    stages = [
        ReviewStage.objects.create(cycle=cycle, order=i, name=str(name), role=role)
        for i, (name, role) in enumerate(chosen.stages, start=1)
    ]
    _stage_audit(actor, cycle, "preset", preset=str(chosen.label))
    return stages


def first_stage(cycle: Cycle | int) -> ReviewStage | None:
    """The first review stage of ``cycle`` (where a submitted declaration starts), or None."""
    return ReviewStage.objects.filter(cycle=cycle).order_by("order").first()


def next_stage(stage: ReviewStage) -> ReviewStage | None:
    """The stage after ``stage`` in its cycle, or None after the last."""
    return (
        ReviewStage.objects.filter(cycle_id=stage.cycle_id, order__gt=stage.order).order_by("order").first()
    )


# ---------------------------------------------------------------------------------------------
# Decisions


def _open_change(declaration: Declaration) -> ChangeRequest | None:
    return ChangeRequest.objects.filter(declaration=declaration, status=ChangeRequestStatus.OPEN).first()


def _clean_map(values: Mapping[str, str] | None, uids: set[str], label: str) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for uid, text in (values or {}).items():
        key = str(uid)
        if key not in uids:
            continue
        value = clean_text(text or "", max_length=OPINION_MAX_LENGTH, label=label)
        if value:
            cleaned[key] = value
    return cleaned


@transaction.atomic
def declaration_decide(
    *,
    actor: User,
    declaration: Declaration,
    version: int,
    stage_id: int,
    outcome: str,
    comment: str = "",
    indicator_comments: Mapping[str, str] | None = None,
    reasons: Mapping[str, str] | None = None,
) -> ReviewDecision:
    """Record ``actor``'s decision on version ``version`` of ``declaration`` at stage
    ``stage_id`` (the stage the reviewer saw) and move the declaration on; return the decision.

    Approve: every target the ambition check flags needs a reason in ``reasons`` (uid → text);
    the declaration goes to the next stage, or after the last one becomes 审核通过 with the flags
    stored on its targets. Return (退回修改): needs a comment (overall or on an indicator); the
    declaration becomes 已退回 and leaves the review. ``indicator_comments`` (uid → text) are kept
    either way. Raises PermissionDenied when ``actor`` may not decide, ValidationError (Chinese)
    for a stale version or stage, a closed cycle or a cycle stage that allows no decisions."""
    locked = (
        Declaration.objects.select_for_update(of=("self",))
        .select_related("unit", "stage", "cycle")
        .get(pk=declaration.pk)
    )
    if not actor.can_write:
        raise PermissionDenied
    change = _open_change(locked)
    lifecycle.assert_stage(locked.cycle_id, CHANGE_DECIDE_STAGES if change else DECIDE_STAGES, _("审核目标"))
    if locked.status not in IN_REVIEW or locked.stage is None:
        raise ValidationError(_("该申报当前不在审核中"), code="not_in_review")
    if locked.stage_id != stage_id or locked.version != version:
        raise ValidationError(_("该申报已进入其他环节或已有新版本，请刷新页面后再审核"), code="stale_review")
    stage = locked.stage
    if (
        stage.role == ReviewerRole.LEAD_DEPT
        and actor.unit_id is not None
        and ReviewDecision.objects.filter(
            version__declaration=locked, version__number=version, stage=stage, department_id=actor.unit_id
        ).exists()
    ):
        raise ValidationError(_("本部门已审核该版本，正在等待其他业务主管部门审核"), code="already_decided")
    if not may_decide(actor, locked, stage):
        raise PermissionDenied
    if outcome not in ReviewOutcome.values:
        raise ValidationError(_("请选择审核结论"))
    frozen = DeclarationVersion.objects.get(declaration=locked, number=version)
    snapshot = list(frozen.snapshot)
    uids = {str(item.get("uid")) for item in snapshot}
    comment = clean_text(comment or "", max_length=NOTE_MAX_LENGTH, label=_("审核意见"))
    notes = _clean_map(indicator_comments, uids, _("指标意见"))
    why = _clean_map(reasons, uids, _("目标偏低仍予通过的理由"))
    checks = {row.uid: row for row in ambition.check(snapshot)}
    flagged = {uid for uid, row in checks.items() if row.flagged}

    if outcome == ReviewOutcome.APPROVE:
        missing = [checks[uid].name for uid in checks if uid in flagged and uid not in why]
        if missing:
            raise ValidationError(
                _("以下目标低于上年实际或上级目标，通过须说明理由：%(names)s")
                % {"names": "、".join(missing)},
                code="reason_required",
            )
    elif not (comment or notes):
        raise ValidationError(_("退回修改须填写审核意见或至少一条指标意见"), code="comment_required")

    by_department = stage.role == ReviewerRole.LEAD_DEPT
    decision = ReviewDecision.objects.create(
        version=frozen,
        stage=stage,
        outcome=outcome,
        comment=comment,
        reviewer=actor,
        department_id=actor.unit_id if by_department else None,
    )
    IndicatorComment.objects.bulk_create(
        [
            IndicatorComment(decision=decision, indicator_uid=UUID(uid), text=text)
            for uid, text in notes.items()
        ]
        + [
            IndicatorComment(decision=decision, indicator_uid=UUID(uid), text=text, is_ambition_reason=True)
            for uid, text in why.items()
            if uid in flagged and outcome == ReviewOutcome.APPROVE
        ]
    )

    before = locked.status
    # A 业务主管部门 stage passes once every lead department has approved; until then it stays.
    waiting = list(departments_waiting(locked, stage, version)) if by_department else []
    following = next_stage(stage) if outcome == ReviewOutcome.APPROVE and not waiting else None
    update = ["status", "stage", "updated_at"]
    if outcome == ReviewOutcome.APPROVE and waiting:
        update = ["updated_at"]
    elif outcome == ReviewOutcome.RETURN:
        locked.status = DeclarationStatus.RETURNED
        locked.stage = None
    elif following is not None:
        locked.stage = following
    else:
        locked.status = DeclarationStatus.APPROVED
        locked.stage = None
        locked.approved_at = timezone.now()
        update.append("approved_at")
        _store_flags(locked, flagged, why)
    locked.save(update_fields=update)

    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=locked,
        changes={
            "review": str(ReviewOutcome(outcome).label),
            "stage": stage.name,
            "version": version,
            "status": [before, locked.status],
            "next_stage": following.name if following else "",
            "indicator_comments": len(notes),
            "flagged_passed": sorted(checks[u].name for u in flagged)
            if outcome == ReviewOutcome.APPROVE
            else [],
            "change_request": change.pk if change else None,
            "waiting_departments": len(waiting),
        },
    )
    if not (outcome == ReviewOutcome.APPROVE and waiting):
        _notify_after(locked, stage, following, outcome, version)
    declaration.status, declaration.stage = locked.status, locked.stage
    return decision


def _store_flags(declaration: Declaration, flagged: set[str], why: Mapping[str, str]) -> None:
    """At the last stage: the approved flagged targets keep ``low_ambition`` and the reason given
    there; every other target of the declaration loses an earlier flag."""
    rows = list(DeclaredIndicator.objects.filter(declaration=declaration).only("pk", "uid", "low_ambition"))
    changed = []
    for row in rows:
        uid = str(row.uid)
        low = uid in flagged
        reason = why.get(uid, "") if low else ""
        if row.low_ambition != low or row.ambition_reason != reason:
            row.low_ambition, row.ambition_reason = low, reason
            changed.append(row)
    DeclaredIndicator.objects.bulk_update(changed, ["low_ambition", "ambition_reason"])


def _notify_after(
    declaration: Declaration, stage: ReviewStage, following: ReviewStage | None, outcome: str, version: int
) -> None:
    """The next stage's reviewers (drafting's notification: the same cause as at submission, so
    once per version and stage), or the liaisons on return and final approval."""
    if following is not None:
        submission.notify_stage_reviewers(declaration=declaration, stage=following)
        return
    link = reverse("declarations:declaration_detail", args=[declaration.pk])
    if outcome == ReviewOutcome.RETURN:
        submission.notify_liaisons(
            unit=declaration.unit,
            cause=f"review-returned:{declaration.pk}:v{version}",
            title=_("目标申报被退回修改（第 %(v)d 版，%(stage)s），请按审核意见修改后重新提交")
            % {"v": version, "stage": stage.name},
            link=link,
        )
    else:
        submission.notify_liaisons(
            unit=declaration.unit,
            cause=f"review-approved:{declaration.pk}:v{version}",
            title=_("目标申报已审核通过（第 %(v)d 版）") % {"v": version},
            link=link,
        )
