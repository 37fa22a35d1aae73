"""A small tracking world for the ranking, race, bulletin, reminder and work-log tests: an open
2026 cycle in the tracking stage, two categories, published declarations with two indicators per
unit, graded reports, and one account per role."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from jixiao.accounts.models import Role, User
from jixiao.declarations.models import Declaration, DeclarationStatus, DeclaredIndicator
from jixiao.organisation.models import Layer, Official, Unit, UnitCategory
from jixiao.organisation.tests.factories import CategoryFactory, OfficialFactory, UnitFactory, UserFactory
from jixiao.schemes.models import ComponentSource, Cycle, CycleStage, CycleStatus
from jixiao.schemes.tests.factories import ComponentFactory, IndicatorFactory, SchemeFactory
from jixiao.tracking.models import ProgressGrade, ProgressReport, ReportStatus

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
YEAR = 2026


@dataclass
class World:
    cycle: Cycle
    category: UnitCategory
    other_category: UnitCategory
    units: list[Unit]
    others: list[Unit]
    indicators: dict[int, list[DeclaredIndicator]]
    office: User
    auditor: User
    leader: User
    liaisons: dict[int, User] = field(default_factory=dict)
    other_liaison: User | None = None


def _declare(cycle: Cycle, unit: Unit, parent: object, lead: Unit | None) -> list[DeclaredIndicator]:
    declaration = Declaration.objects.create(
        cycle=cycle, unit=unit, status=DeclarationStatus.PUBLISHED, version=1, published_version=1
    )
    return [
        DeclaredIndicator.objects.create(
            declaration=declaration,
            parent=parent,  # type: ignore[misc]  # an IndicatorNode from the factory
            name=f"{unit.name}指标{i}",
            rule_type="completion",
            weight=Decimal("50"),
            lead_department=lead,
            order=i,
        )
        for i in range(2)
    ]


def build(units: int = 5, *, stage: str = CycleStage.TRACKING) -> World:
    cycle = Cycle.objects.create(year=YEAR, name=f"{YEAR}年度考核", status=CycleStatus.OPEN, stage=stage)
    category = CategoryFactory(name="县市区")
    other_category = CategoryFactory(name="市直部门")
    parents = {}
    for cat in (category, other_category):
        scheme = SchemeFactory(cycle=cycle, category=cat)
        component = ComponentFactory(
            scheme=scheme, code="routine", name="平时实绩", source=ComponentSource.ROUTINE
        )
        parents[cat.pk] = IndicatorFactory(component=component, level=2)
    mine = [UnitFactory(category=category, name=f"县{i}") for i in range(units)]
    others = [UnitFactory(category=other_category, name=f"部门{i}") for i in range(2)]
    lead = others[0]
    indicators = {u.pk: _declare(cycle, u, parents[u.category_id], lead) for u in [*mine, *others]}
    world = World(
        cycle=cycle,
        category=category,
        other_category=other_category,
        units=mine,
        others=others,
        indicators=indicators,
        office=UserFactory(role=Role.OFFICE),
        auditor=UserFactory(role=Role.AUDITOR),
        leader=UserFactory(role=Role.LEADER),
    )
    for unit in mine:
        world.liaisons[unit.pk] = UserFactory(role=Role.LIAISON, unit=unit)
    world.other_liaison = UserFactory(role=Role.LIAISON, unit=others[1])
    return world


def grade(world: World, unit: Unit, period: date, grades: list[str]) -> None:
    """Graded reports of ``unit`` for ``period``, one per grade (on its indicators in turn)."""
    for indicator, value in zip(world.indicators[unit.pk], grades, strict=False):
        ProgressReport.objects.update_or_create(
            indicator=indicator,
            period=period,
            defaults={"status": ReportStatus.GRADED, "grade": value},
        )


def grade_all(world: World, period: date) -> None:
    """Unit i of the main category gets worse grades as i grows: 县0 first, the last unit last."""
    ladder = [
        [ProgressGrade.COMPLETED, ProgressGrade.COMPLETED],
        [ProgressGrade.COMPLETED, ProgressGrade.ON_SCHEDULE],
        [ProgressGrade.ON_SCHEDULE, ProgressGrade.ON_SCHEDULE],
        [ProgressGrade.ON_SCHEDULE, ProgressGrade.BEHIND],
        [ProgressGrade.BEHIND, ProgressGrade.BEHIND],
    ]
    for i, unit in enumerate(world.units):
        grade(world, unit, period, ladder[min(i, len(ladder) - 1)])
    for unit in world.others:
        grade(world, unit, period, [ProgressGrade.ON_SCHEDULE])


def official_user(unit: Unit, layer: str = Layer.MEMBER) -> tuple[Official, User]:
    official = OfficialFactory(unit=unit, layer=layer)
    return official, UserFactory(role=Role.OFFICIAL, unit=unit, official=official)
