"""Review services: a submitted version passes the stages in order, a stage may send it back,
flagged targets need a reason and keep their flag, and the stage rules and roles hold."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from jixiao.accounts.models import AuditLog
from jixiao.declarations.models import (
    ChangeRequestStatus,
    DeclarationStatus,
    IndicatorComment,
    ReviewDecision,
    ReviewerRole,
    ReviewOutcome,
    ReviewStage,
)
from jixiao.declarations.review import (
    declaration_decide,
    may_decide,
    review_stage_add,
    review_stage_move,
    review_stage_remove,
    review_stages_apply_preset,
)
from jixiao.declarations.review_selectors import comments_for, review_page, review_queue
from jixiao.declarations.tests.factories import ChangeRequestFactory
from jixiao.declarations.tests.review_setup import Review, review_setup, submit
from jixiao.notifications.models import Notification
from jixiao.schemes.lifecycle import CycleLocked, StageClosed
from jixiao.schemes.models import CycleStage, CycleStatus

pytestmark = pytest.mark.django_db

REASON = "受疫情后企业外迁影响，就业目标按实际下调"


def _decide(r: Review, actor: object, outcome: str = ReviewOutcome.APPROVE, **kw: object) -> ReviewDecision:
    r.declaration.refresh_from_db()
    args: dict[str, object] = (
        {"reasons": {str(r.jobs.uid): REASON}} if outcome == ReviewOutcome.APPROVE else {}
    )
    args.update(kw)
    return declaration_decide(
        actor=actor,  # type: ignore[arg-type]
        declaration=r.declaration,
        version=r.declaration.version,
        stage_id=r.declaration.stage_id or -1,
        outcome=outcome,
        **args,  # type: ignore[arg-type]
    )


def test_a_declaration_passes_three_stages_in_order_and_is_approved_at_the_last() -> None:
    r = review_setup()
    submit(r.declaration, by=r.liaison)
    assert r.declaration.stage == r.stages[0]
    assert Notification.objects.filter(recipient=r.lead).count() == 1
    assert not Notification.objects.filter(recipient=r.other_lead).exists()

    _decide(r, r.lead)
    r.declaration.refresh_from_db()
    assert r.declaration.stage == r.stages[1] and r.declaration.status == DeclarationStatus.SUBMITTED
    assert Notification.objects.filter(recipient=r.office).count() == 1

    _decide(r, r.office)
    r.declaration.refresh_from_db()
    assert r.declaration.stage == r.stages[2]
    _decide(r, r.leader)
    r.declaration.refresh_from_db()
    assert r.declaration.status == DeclarationStatus.APPROVED and r.declaration.stage is None
    assert r.declaration.approved_at is not None
    assert Notification.objects.filter(recipient=r.liaison, cause__startswith="review-approved").count() == 1
    logged = AuditLog.objects.filter(object_type="declarations.declaration", object_id=str(r.declaration.pk))
    assert logged.count() == 4  # the submission, then one entry per stage's decision


def test_a_flagged_target_needs_a_reason_and_keeps_its_flag_after_the_last_stage() -> None:
    r = review_setup()
    submit(r.declaration, by=r.liaison)
    with pytest.raises(ValidationError, match="城镇新增就业"):
        _decide(r, r.lead, reasons={})
    assert not ReviewDecision.objects.exists()
    for actor in (r.lead, r.office, r.leader):
        _decide(r, actor)
    r.jobs.refresh_from_db()
    r.growth.refresh_from_db()
    assert r.jobs.low_ambition and r.jobs.ambition_reason == REASON
    assert not r.growth.low_ambition
    assert IndicatorComment.objects.filter(is_ambition_reason=True, indicator_uid=r.jobs.uid).count() == 3


def test_return_and_resubmit_makes_version_2_whose_diff_shows_the_change() -> None:
    r = review_setup()
    submit(r.declaration, by=r.liaison)
    _decide(r, r.lead)
    _decide(
        r,
        r.office,
        ReviewOutcome.RETURN,
        comment="就业目标偏低",
        indicator_comments={str(r.jobs.uid): "不得低于上年实际 1000 人"},
    )
    r.declaration.refresh_from_db()
    assert r.declaration.status == DeclarationStatus.RETURNED and r.declaration.stage is None
    assert Notification.objects.filter(recipient=r.liaison, cause__startswith="review-returned").exists()
    shown = comments_for(r.declaration)
    assert [c.text for c in shown[str(r.jobs.uid)] if not c.is_ambition_reason] == [
        "不得低于上年实际 1000 人"
    ]

    r.jobs.target = Decimal("1100")
    r.jobs.save()
    submit(r.declaration, by=r.liaison)
    assert r.declaration.version == 2 and r.declaration.stage == r.stages[0]
    page = review_page(r.declaration)
    assert page.version is not None and page.version.number == 2
    assert page.previous_diff is not None
    (change,) = page.previous_diff.changed
    assert (change.name, change.changes[0].before, change.changes[0].after) == ("城镇新增就业", "900", "1100")
    assert not page.flagged  # 1100 ≥ last year's 1000: no reason needed any more
    assert [h.version.number for h in page.history] == [2, 1]
    # Version 2 is decided without a reason and the earlier flag does not survive.
    for actor in (r.lead, r.office, r.leader):
        _decide(r, actor, reasons={})
    r.jobs.refresh_from_db()
    assert not r.jobs.low_ambition


def test_returning_needs_a_comment() -> None:
    r = review_setup()
    submit(r.declaration)
    with pytest.raises(ValidationError, match="退回修改须填写"):
        _decide(r, r.lead, ReviewOutcome.RETURN)


def test_a_lead_department_decides_only_declarations_it_leads() -> None:
    r = review_setup()
    submit(r.declaration)
    with pytest.raises(PermissionDenied):
        _decide(r, r.other_lead)
    with pytest.raises(PermissionDenied):
        _decide(r, r.office)  # not the office's stage
    with pytest.raises(PermissionDenied):
        _decide(r, r.auditor)


def test_a_lead_department_stage_waits_until_every_lead_department_has_approved() -> None:
    r = review_setup()
    r.jobs.lead_department = r.other_lead.unit  # the 财政局 now leads the second target
    r.jobs.save(update_fields=["lead_department"])
    submit(r.declaration, by=r.liaison)
    assert set(review_queue(user=r.lead)) == {r.declaration} == set(review_queue(user=r.other_lead))

    _decide(r, r.lead)
    r.declaration.refresh_from_db()
    assert r.declaration.stage == r.stages[0]  # still at the first stage: the 财政局 has not decided
    assert review_page(r.declaration).waiting == ["财政局"]
    assert not list(review_queue(user=r.lead)) and list(review_queue(user=r.other_lead))
    assert not may_decide(r.lead, r.declaration)
    with pytest.raises(ValidationError, match="本部门已审核该版本"):
        _decide(r, r.lead)  # once per department and version
    assert not Notification.objects.filter(recipient=r.office).exists()

    _decide(r, r.other_lead)
    r.declaration.refresh_from_db()
    assert r.declaration.stage == r.stages[1] and review_page(r.declaration).waiting == []
    assert Notification.objects.filter(recipient=r.office).count() == 1
    departments = ReviewDecision.objects.filter(stage=r.stages[0]).values_list("department__name", flat=True)
    assert sorted(departments) == ["发改委", "财政局"]


def test_one_lead_department_returning_sends_the_declaration_back_and_the_new_version_starts_over() -> None:
    r = review_setup()
    r.jobs.lead_department = r.other_lead.unit
    r.jobs.save(update_fields=["lead_department"])
    submit(r.declaration, by=r.liaison)
    _decide(r, r.lead)
    _decide(r, r.other_lead, ReviewOutcome.RETURN, comment="就业目标偏低")
    r.declaration.refresh_from_db()
    assert r.declaration.status == DeclarationStatus.RETURNED and r.declaration.stage is None
    submit(r.declaration, by=r.liaison)
    assert r.declaration.version == 2 and r.declaration.stage == r.stages[0]
    assert may_decide(r.lead, r.declaration) and may_decide(r.other_lead, r.declaration)  # version 2 anew
    assert sorted(review_page(r.declaration).waiting) == ["发改委", "财政局"]


def test_a_stale_stage_or_version_is_refused() -> None:
    r = review_setup()
    submit(r.declaration)
    seen = r.declaration.stage_id
    _decide(r, r.lead)
    r.declaration.refresh_from_db()
    with pytest.raises(ValidationError, match="请刷新页面"):
        declaration_decide(
            actor=r.office,
            declaration=r.declaration,
            version=1,
            stage_id=seen or 0,
            outcome=ReviewOutcome.APPROVE,
            reasons={str(r.jobs.uid): REASON},
        )


def test_decisions_are_refused_outside_the_declaration_and_review_stages_and_in_a_closed_cycle() -> None:
    r = review_setup()
    submit(r.declaration)
    r.cycle.stage = CycleStage.TRACKING
    r.cycle.save()
    with pytest.raises(StageClosed):
        _decide(r, r.lead)
    r.cycle.stage = CycleStage.REVIEW
    r.cycle.status = CycleStatus.CLOSED
    r.cycle.save()
    with pytest.raises(CycleLocked):
        _decide(r, r.lead)


def test_a_change_request_is_reviewed_in_the_tracking_stage_and_ends_approved() -> None:
    r = review_setup()
    r.cycle.stage = CycleStage.TRACKING
    r.cycle.save()
    r.declaration.status = DeclarationStatus.CHANGING
    r.declaration.published_version = 1
    r.declaration.save()
    change = ChangeRequestFactory(declaration=r.declaration)
    submit(r.declaration)
    assert r.declaration.stage == r.stages[0]
    for actor in (r.lead, r.office, r.leader):
        _decide(r, actor)
    r.declaration.refresh_from_db()
    change.refresh_from_db()
    assert r.declaration.status == DeclarationStatus.APPROVED
    assert change.status == ChangeRequestStatus.OPEN  # publication (drafting) closes it


def test_the_office_adds_reorders_and_removes_stages_and_applies_a_preset() -> None:
    r = review_setup()
    ReviewStage.objects.filter(cycle=r.cycle).delete()
    golmud = review_stages_apply_preset(actor=r.office, cycle=r.cycle, preset="golmud")
    assert [s.name for s in golmud] == ["业务部门初审", "考核办审核", "分管领导审查", "领导小组审定"]
    extra = review_stage_add(actor=r.office, cycle=r.cycle, name="专家评议", role=ReviewerRole.OFFICE)
    review_stage_move(actor=r.office, stage=extra, up=True)
    names = list(ReviewStage.objects.filter(cycle=r.cycle).order_by("order").values_list("name", flat=True))
    assert names == ["业务部门初审", "考核办审核", "分管领导审查", "专家评议", "领导小组审定"]
    review_stage_remove(actor=r.office, stage=ReviewStage.objects.get(cycle=r.cycle, name="分管领导审查"))
    orders = list(ReviewStage.objects.filter(cycle=r.cycle).order_by("order").values_list("order", "name"))
    assert orders == [(1, "业务部门初审"), (2, "考核办审核"), (3, "专家评议"), (4, "领导小组审定")]
    xiangxi = review_stages_apply_preset(actor=r.office, cycle=r.cycle, preset="xiangxi")
    assert [s.name for s in xiangxi] == ["初审", "专家和代表评议", "审定"]


def test_stages_are_fixed_once_the_review_stage_begins_or_a_declaration_uses_them() -> None:
    r = review_setup()
    submit(r.declaration)
    with pytest.raises(ValidationError, match="不能删除"):
        review_stage_remove(actor=r.office, stage=r.stages[0])
    with pytest.raises(PermissionDenied):
        review_stage_add(actor=r.lead, cycle=r.cycle, name="x", role=ReviewerRole.OFFICE)
    r.cycle.stage = CycleStage.REVIEW
    r.cycle.save()
    with pytest.raises(StageClosed):
        review_stage_add(actor=r.office, cycle=r.cycle, name="补充环节", role=ReviewerRole.OFFICE)
