"""A declaration under review, shared by the review tests: a unit with two targets (one led by
the 发改委), three stages (业务主管部门 → 考核办 → 分管领导) and one account per role."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from jixiao.accounts.models import Role, User
from jixiao.declarations.drafting import declaration_submit
from jixiao.declarations.models import (
    Declaration,
    DeclarationVersion,
    DeclaredIndicator,
    ReviewerRole,
    ReviewStage,
)
from jixiao.declarations.tests.factories import (
    DeclarationFactory,
    DeclaredIndicatorFactory,
    OpenCycleFactory,
    ReviewStageFactory,
    framework,
)
from jixiao.organisation.models import Unit
from jixiao.organisation.tests.factories import UnitFactory, UserFactory
from jixiao.schemes.models import Cycle


@dataclass
class Review:
    cycle: Cycle
    unit: Unit
    dept: Unit
    declaration: Declaration
    growth: DeclaredIndicator  # led by the 发改委, above last year
    jobs: DeclaredIndicator  # no lead department, below last year's actual (flagged)
    stages: list[ReviewStage]
    liaison: User
    lead: User
    other_lead: User
    office: User
    leader: User
    auditor: User


def submit(declaration: Declaration, *, by: User | None = None, note: str = "") -> DeclarationVersion:
    """Submit through drafting's service (as the unit's liaison, else the office)."""
    actor = by or (
        User.objects.filter(role=Role.LIAISON, unit_id=declaration.unit_id).first()
        or User.objects.filter(role=Role.OFFICE).first()
        or UserFactory(role=Role.OFFICE)
    )
    version = declaration_submit(actor=actor, declaration=declaration, note=note)
    declaration.refresh_from_db()
    return version


def review_setup(*, unit_name: str = "城关镇") -> Review:
    cycle = OpenCycleFactory(year=2026)
    unit = UnitFactory(name=unit_name)
    dept = UnitFactory(name="发改委")
    other = UnitFactory(name="财政局")
    fw = framework(cycle=cycle, unit=unit)
    declaration = DeclarationFactory(cycle=cycle, unit=unit)
    growth = DeclaredIndicatorFactory(
        declaration=declaration,
        parent=fw.economy,
        name="规上工业增加值增速",
        target=Decimal("8.5"),
        last_year_actual=Decimal("7.9"),
        last_year_target=Decimal("8"),
        weight=Decimal("100"),
        lead_department=dept,
    )
    jobs = DeclaredIndicatorFactory(
        declaration=declaration,
        parent=fw.people,
        name="城镇新增就业",
        measure="人",
        target=Decimal("900"),
        last_year_actual=Decimal("1000"),
        weight=Decimal("100"),
    )
    stages = [
        ReviewStageFactory(cycle=cycle, order=1, name="业务部门初审", role=ReviewerRole.LEAD_DEPT),
        ReviewStageFactory(cycle=cycle, order=2, name="考核办审核", role=ReviewerRole.OFFICE),
        ReviewStageFactory(cycle=cycle, order=3, name="分管领导审查", role=ReviewerRole.LEADER),
    ]
    return Review(
        cycle=cycle,
        unit=unit,
        dept=dept,
        declaration=declaration,
        growth=growth,
        jobs=jobs,
        stages=stages,
        liaison=UserFactory(role=Role.LIAISON, unit=unit),
        lead=UserFactory(role=Role.LEAD_DEPT, unit=dept),
        other_lead=UserFactory(role=Role.LEAD_DEPT, unit=other),
        office=UserFactory(role=Role.OFFICE),
        leader=UserFactory(role=Role.LEADER),
        auditor=UserFactory(role=Role.AUDITOR),
    )
