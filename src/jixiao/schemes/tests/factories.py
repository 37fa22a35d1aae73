"""factory_boy factories for cycles, schemes and indicator trees."""

from __future__ import annotations

from decimal import Decimal

import factory

from jixiao.organisation.tests.factories import CategoryFactory
from jixiao.schemes.models import Component, Cycle, IndicatorNode, LibraryEntry, LibraryKind, Scheme


class CycleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cycle
        django_get_or_create = ("year",)

    year = factory.Sequence(lambda n: 2020 + n)
    name = factory.LazyAttribute(lambda o: f"{o.year}年度考核")


class SchemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scheme

    cycle = factory.SubFactory(CycleFactory)
    category = factory.SubFactory(CategoryFactory)
    name = factory.LazyAttribute(lambda o: f"{o.cycle.year}年{o.category.name}考核方案")


class ComponentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Component

    scheme = factory.SubFactory(SchemeFactory)
    code = factory.Sequence(lambda n: f"comp{n}")
    name = factory.Sequence(lambda n: f"构成{n}")
    weight = Decimal("100")


class IndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IndicatorNode

    component = factory.SubFactory(ComponentFactory)
    scheme = factory.LazyAttribute(lambda o: o.component.scheme)
    parent = None
    level = factory.LazyAttribute(lambda o: 1 if o.parent is None else o.parent.level + 1)
    name = factory.Sequence(lambda n: f"指标{n}")
    weight = Decimal("100")
    order = factory.Sequence(lambda n: n)


class LibraryEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LibraryEntry

    kind = LibraryKind.BASIC
    code = factory.Sequence(lambda n: f"lib{n}")
    name = factory.Sequence(lambda n: f"库指标{n}")
    rule_type = "completion"
    rule_params = factory.LazyFunction(lambda: {"cap": 1.2})
