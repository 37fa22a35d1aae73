"""factory_boy factories for tracked declarations, milestones, reports and evidence.

Minimal declaration factories of their own (the declarations app's arrive with its UI); they build
a published declaration in a cycle in the tracking stage unless told otherwise."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory

from jixiao.declarations.models import Declaration, DeclarationStatus, DeclaredIndicator, Milestone
from jixiao.organisation.tests.factories import UnitFactory
from jixiao.schemes.models import CycleStage, CycleStatus, IndicatorNode, Scheme
from jixiao.schemes.tests.factories import CycleFactory, IndicatorFactory
from jixiao.tracking.models import Evidence, ProgressReport, ReportStatus


class TrackingCycleFactory(CycleFactory):
    year = 2026
    status = CycleStatus.OPEN
    stage = CycleStage.TRACKING


class DeclarationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Declaration

    cycle = factory.SubFactory(TrackingCycleFactory)
    unit = factory.SubFactory(UnitFactory)
    status = DeclarationStatus.PUBLISHED
    version = 1
    published_version = 1


def framework_node(declaration: Declaration) -> IndicatorNode:
    """A level-1 framework node of the declaration's category and cycle (one scheme per pair)."""
    scheme, _created = Scheme.objects.get_or_create(
        cycle=declaration.cycle,
        category=declaration.unit.category,
        defaults={"name": f"{declaration.cycle.year}年{declaration.unit.category.name}考核方案"},
    )
    node: IndicatorNode = IndicatorFactory(component__scheme=scheme)
    return node


class DeclaredIndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeclaredIndicator

    declaration = factory.SubFactory(DeclarationFactory)
    parent = factory.LazyAttribute(lambda o: framework_node(o.declaration))
    name = factory.Sequence(lambda n: f"申报指标{n}")
    measure = "亿元"
    target = Decimal("100")
    rule_type = "ratio"
    weight = Decimal("50")


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    indicator = factory.SubFactory(DeclaredIndicatorFactory)
    due = date(2026, 6, 30)
    expected_percent = Decimal("50")


class ProgressReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgressReport

    indicator = factory.SubFactory(DeclaredIndicatorFactory)
    period = date(2026, 5, 1)
    progress_percent = Decimal("40")
    status = ReportStatus.SUBMITTED


class EvidenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Evidence

    cycle = factory.SubFactory(TrackingCycleFactory)
    unit = factory.SubFactory(UnitFactory)
    file = factory.django.FileField(filename="evidence.pdf", data=b"%PDF-1.4\n%%EOF\n")
    original_name = "材料.pdf"
    content_type = "application/pdf"
    size = 15
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
