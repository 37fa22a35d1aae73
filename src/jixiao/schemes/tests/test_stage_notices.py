"""Stage moves notify whoever must act: 单位申报 → the liaisons of active units, 目标审核 → the
reviewers of the cycle's first review stage, 过程跟踪 → the liaisons again; once per cycle and stage."""

from __future__ import annotations

import pytest

from jixiao.accounts.models import Role, User
from jixiao.declarations.models import ReviewerRole, ReviewStage
from jixiao.notifications.models import Notification
from jixiao.organisation.tests.factories import UnitFactory, UserFactory
from jixiao.schemes import lifecycle
from jixiao.schemes.models import Cycle, CycleStage, CycleStatus
from jixiao.schemes.tests.factories import CycleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people() -> dict[str, User]:
    active, inactive = UnitFactory(), UnitFactory(is_active=False)
    return {
        "office": UserFactory(role=Role.OFFICE),
        "liaison": UserFactory(role=Role.LIAISON, unit=active),
        "other_liaison": UserFactory(role=Role.LIAISON, unit=UnitFactory()),
        "idle_liaison": UserFactory(role=Role.LIAISON, unit=inactive),
        "leader": UserFactory(role=Role.LEADER),
    }


def _titles(user: User) -> list[str]:
    return list(Notification.objects.filter(recipient=user).order_by("id").values_list("title", flat=True))


def test_entering_declaration_asks_every_active_units_liaison_once(people: dict[str, User]) -> None:
    cycle: Cycle = CycleFactory(year=2026, status=CycleStatus.OPEN, stage=CycleStage.FRAMEWORK)
    office = people["office"]
    lifecycle.cycle_stage_advance(actor=office, cycle=cycle)
    assert cycle.stage == CycleStage.DECLARATION
    for who in ("liaison", "other_liaison"):
        (title,) = _titles(people[who])
        assert "请填报本单位年度目标" in title
    assert _titles(people["idle_liaison"]) == []
    assert _titles(office) == []
    # Back and forward again: the same cause is not repeated.
    lifecycle.cycle_stage_back(actor=office, cycle=cycle, reason="框架需补充")
    lifecycle.cycle_stage_advance(actor=office, cycle=cycle)
    assert len(_titles(people["liaison"])) == 1


def test_entering_review_notifies_the_first_review_stages_reviewers(people: dict[str, User]) -> None:
    cycle: Cycle = CycleFactory(year=2026, status=CycleStatus.OPEN, stage=CycleStage.DECLARATION)
    ReviewStage.objects.create(cycle=cycle, order=2, name="分管领导审核", role=ReviewerRole.LEADER)
    ReviewStage.objects.create(cycle=cycle, order=1, name="考核办审核", role=ReviewerRole.OFFICE)
    lifecycle.cycle_stage_advance(actor=people["office"], cycle=cycle)
    (title,) = _titles(people["office"])
    assert "目标审核" in title
    assert _titles(people["leader"]) == []
    assert _titles(people["liaison"]) == []


def test_entering_tracking_tells_liaisons_monthly_reporting_starts(people: dict[str, User]) -> None:
    cycle: Cycle = CycleFactory(year=2026, status=CycleStatus.OPEN, stage=CycleStage.PUBLICATION)
    lifecycle.cycle_stage_advance(actor=people["office"], cycle=cycle)
    lifecycle.cycle_stage_back(actor=people["office"], cycle=cycle, reason="补公布")
    lifecycle.cycle_stage_advance(actor=people["office"], cycle=cycle)
    (title,) = _titles(people["liaison"])
    assert "按月填报" in title
    assert _titles(people["office"]) == []
