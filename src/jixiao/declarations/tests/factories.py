"""factory_boy factories for declarations, their indicators, versions, review stages and tasks.

``FrameworkFactory``-style helpers live as plain functions (:func:`framework`) because a
framework is a small tree, not one row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import factory

from jixiao.declarations.models import (
    ChangeRequest,
    Declaration,
    DeclarationVersion,
    DeclaredIndicator,
    DynamicTask,
    Milestone,
    ReviewerRole,
    ReviewStage,
)
from jixiao.organisation.models import Unit
from jixiao.organisation.tests.factories import UnitFactory
from jixiao.schemes.models import Cycle, CycleStage, CycleStatus, IndicatorNode, Scheme
from jixiao.schemes.tests.factories import ComponentFactory, CycleFactory, IndicatorFactory, SchemeFactory


class OpenCycleFactory(CycleFactory):
    """An open cycle in the declaration stage."""

    status = CycleStatus.OPEN
    stage = CycleStage.DECLARATION


class DeclarationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Declaration

    cycle = factory.SubFactory(OpenCycleFactory)
    unit = factory.SubFactory(UnitFactory)


class DeclaredIndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeclaredIndicator

    declaration = factory.SubFactory(DeclarationFactory)
    parent = factory.SubFactory(IndicatorFactory)
    name = factory.Sequence(lambda n: f"申报指标{n}")
    measure = "%"
    target = Decimal("100")
    rule_type = "completion"
    rule_params = factory.LazyFunction(lambda: {"cap": 1.2})
    weight = Decimal("100")
    is_core = True
    order = factory.Sequence(lambda n: n)


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    indicator = factory.SubFactory(DeclaredIndicatorFactory)
    due = dt.date(2026, 6, 30)
    expected_percent = Decimal("50")


class DeclarationVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeclarationVersion

    declaration = factory.SubFactory(DeclarationFactory)
    number = factory.Sequence(lambda n: n + 1)
    snapshot = factory.LazyFunction(list)


class ReviewStageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewStage

    cycle = factory.SubFactory(OpenCycleFactory)
    order = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"审核环节{n}")
    role = ReviewerRole.OFFICE


class ChangeRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChangeRequest

    declaration = factory.SubFactory(DeclarationFactory)
    reason = "工作调整，目标需变更"
    from_version = 1


class DynamicTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DynamicTask

    cycle = factory.SubFactory(OpenCycleFactory)
    name = factory.Sequence(lambda n: f"动态任务{n}")
    parent = factory.SubFactory(IndicatorFactory)
    weight = Decimal("50")
    rule_type = "completion"
    rule_params = factory.LazyFunction(lambda: {"cap": 1.2})
    effective_from = dt.date(2026, 7, 1)


@dataclass
class Framework:
    """A category's framework: one scheme with a level-1 node and two level-2 nodes (60/40)."""

    cycle: Cycle
    scheme: Scheme
    top: IndicatorNode
    economy: IndicatorNode
    people: IndicatorNode


def framework(*, cycle: Cycle | None = None, unit: Unit | None = None) -> Framework:
    """A framework for ``unit``'s category in ``cycle`` (both made when not given)."""
    cycle = cycle or OpenCycleFactory()
    unit = unit or UnitFactory()
    scheme = SchemeFactory(cycle=cycle, category=unit.category)
    component = ComponentFactory(scheme=scheme, weight=Decimal("100"))
    top = IndicatorFactory(component=component, name="高质量发展", weight=Decimal("100"))
    economy = IndicatorFactory(component=component, parent=top, name="经济发展", weight=Decimal("60"))
    people = IndicatorFactory(component=component, parent=top, name="民生保障", weight=Decimal("40"))
    return Framework(cycle=cycle, scheme=scheme, top=top, economy=economy, people=people)
