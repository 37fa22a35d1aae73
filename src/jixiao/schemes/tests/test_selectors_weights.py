from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import Role
from jixiao.organisation.tests.factories import UserFactory
from jixiao.schemes.models import Component, Subject
from jixiao.schemes.selectors import weight_problems
from jixiao.schemes.tests.factories import CycleFactory, IndicatorFactory, SchemeFactory

pytestmark = pytest.mark.django_db


def test_team_and_official_components_are_checked_separately_and_officials_per_layer() -> None:
    scheme = SchemeFactory()
    Component.objects.create(scheme=scheme, code="annual", name="年度实绩", weight=Decimal("100"))
    Component.objects.create(
        scheme=scheme, code="duty", name="履职", weight=Decimal("50"), subject=Subject.OFFICIAL,
        layer_weights={"head": 70},
    )  # fmt: skip
    Component.objects.create(
        scheme=scheme, code="quality", name="德能勤绩廉", weight=Decimal("50"), subject=Subject.OFFICIAL,
        layer_weights={"head": 30},
    )  # fmt: skip
    assert weight_problems(scheme=scheme) == []


def test_an_official_layer_whose_weights_miss_100_is_reported() -> None:
    scheme = SchemeFactory()
    Component.objects.create(
        scheme=scheme, code="duty", name="履职", weight=Decimal("50"), subject=Subject.OFFICIAL,
        layer_weights={"head": 60},
    )  # fmt: skip
    Component.objects.create(
        scheme=scheme, code="quality", name="德", weight=Decimal("50"), subject=Subject.OFFICIAL
    )
    problems = weight_problems(scheme=scheme)
    assert [p.total for p in problems] == [Decimal("110")]
    assert "班子正职" in problems[0].where


def test_the_cycle_page_checks_every_schemes_weights_without_a_query_per_scheme(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    cycle = CycleFactory()
    for _ in range(6):
        scheme = SchemeFactory(cycle=cycle)
        component = Component.objects.create(
            scheme=scheme, code="annual", name="年度实绩", weight=Decimal("100")
        )
        IndicatorFactory(component=component, weight=Decimal("60"))
    client.force_login(UserFactory(role=Role.OFFICE))
    with django_assert_max_num_queries(10):
        response = client.get(reverse("schemes:cycle_detail", args=[cycle.pk]))
    assert response.status_code == 200
    assert all(row["problems"] for row in response.context["rows"])
