"""Deductions pick the unit, the official (grouped by unit) and the target component from
searchable lists; no code is typed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import Role
from jixiao.facts.models import Adjustment
from jixiao.organisation.tests.factories import CategoryFactory, OfficialFactory, UnitFactory, UserFactory
from jixiao.schemes.models import Subject
from jixiao.schemes.tests.factories import ComponentFactory, CycleFactory, SchemeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(client: Client) -> Client:
    CycleFactory(year=2025)
    client.force_login(UserFactory(role=Role.OFFICE))
    return client


def test_the_official_list_is_searchable_and_grouped_by_unit(office: Client) -> None:
    official = OfficialFactory(name="张三", code="G-1")
    body = office.get(reverse("facts:adjustment_create") + "?year=2025").content.decode()
    assert f'<optgroup label="{official.unit.name}">' in body
    assert "张三（G-1）" in body
    assert 'name="official"' in body and "data-searchable" in body
    assert "official_code" not in body


def test_a_deduction_targets_a_component_chosen_by_name(office: Client) -> None:
    category = CategoryFactory()
    unit = UnitFactory(category=category)
    scheme = SchemeFactory(cycle=CycleFactory(year=2025), category=category)
    ComponentFactory(scheme=scheme, code="annual", name="年度实绩", weight=Decimal("100"))
    url = reverse("facts:adjustment_create") + "?year=2025"
    assert "年度实绩" in office.get(url).content.decode()
    response = office.post(
        url,
        {
            "kind": "deduction",
            "unit": unit.pk,
            "points": "2",
            "component": "annual",
            "source": "督查",
            "reason": "迟报",
        },
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    assert Adjustment.objects.get().component == "annual"


def test_a_component_of_another_categorys_scheme_is_refused_by_name(office: Client) -> None:
    unit = UnitFactory()
    other = SchemeFactory(cycle=CycleFactory(year=2025))
    ComponentFactory(
        scheme=other, code="annual", name="年度实绩", weight=Decimal("100"), subject=Subject.TEAM
    )
    response = office.post(
        reverse("facts:adjustment_create") + "?year=2025",
        {
            "kind": "deduction",
            "unit": unit.pk,
            "points": "2",
            "component": "annual",
            "source": "督查",
            "reason": "迟报",
        },
    )
    assert response.status_code == 200
    assert "所选构成不属于" in str(response.context["form"].errors["component"])
    assert not Adjustment.objects.exists()
