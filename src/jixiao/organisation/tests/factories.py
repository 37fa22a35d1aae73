"""factory_boy factories for the registry and accounts."""

from __future__ import annotations

import factory

from jixiao.accounts.models import Role, User
from jixiao.organisation.models import (
    FunctionZone,
    Layer,
    LeadershipTeam,
    Official,
    Position,
    Region,
    Tenure,
    Unit,
    UnitCategory,
)


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region

    code = factory.Sequence(lambda n: f"R{n:03d}")
    name = factory.Sequence(lambda n: f"区域{n}")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UnitCategory

    code = factory.Sequence(lambda n: f"C{n:02d}")
    name = factory.Sequence(lambda n: f"类别{n}")
    order = factory.Sequence(lambda n: n)


class FunctionZoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FunctionZone

    code = factory.Sequence(lambda n: f"Z{n:02d}")
    name = factory.Sequence(lambda n: f"功能区{n}")


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    code = factory.Sequence(lambda n: f"U{n:04d}")
    name = factory.Sequence(lambda n: f"测试单位{n}")
    category = factory.SubFactory(CategoryFactory)
    region = factory.SubFactory(RegionFactory)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadershipTeam

    unit = factory.SubFactory(UnitFactory)
    name = factory.LazyAttribute(lambda o: f"{o.unit.name}领导班子")


class OfficialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Official

    code = factory.Sequence(lambda n: f"G{n:06d}")
    name = factory.Sequence(lambda n: f"干部{n}")
    unit = factory.SubFactory(UnitFactory)
    layer = Layer.MEMBER
    rank = "副处级"


class PositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Position

    unit = factory.SubFactory(UnitFactory)
    title = factory.Sequence(lambda n: f"副局长{n}")
    layer = Layer.MEMBER


class TenureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenure

    position = factory.SubFactory(PositionFactory)
    official = factory.SubFactory(OfficialFactory)
    start = factory.Faker("date_between", start_date="-5y", end_date="-1y")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.OFFICE
    password = factory.django.Password("pw-Jixiao-2025")
