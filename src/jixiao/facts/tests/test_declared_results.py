"""The annual values of a unit's declared targets: an IndicatorResult with ``declared`` (never
also an ``indicator``), entered in a per-unit grid by the office or the target's lead department."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import AuditLog, Role
from jixiao.declarations.models import Declaration, DeclaredIndicator
from jixiao.facts.models import IndicatorResult
from jixiao.organisation.tests.factories import UnitFactory, UserFactory
from jixiao.schemes.models import CycleStatus
from jixiao.schemes.tests.factories import ComponentFactory, CycleFactory, IndicatorFactory, SchemeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting() -> dict[str, object]:
    cycle = CycleFactory(year=2026, status=CycleStatus.OPEN)
    scheme = SchemeFactory(cycle=cycle)
    node = IndicatorFactory(scheme=scheme, component=ComponentFactory(scheme=scheme), name="经济发展")
    unit, other = UnitFactory(category=scheme.category), UnitFactory(category=scheme.category)
    stats = UnitFactory()
    declaration = Declaration.objects.create(cycle=cycle, unit=unit, published_version=1, version=1)
    tax = DeclaredIndicator.objects.create(
        declaration=declaration, parent=node, name="税收收入", rule_type="completion", weight=Decimal("60"),
        target=Decimal("120"), lead_department=stats,
    )  # fmt: skip
    jobs = DeclaredIndicator.objects.create(
        declaration=declaration, parent=node, name="新增就业", rule_type="completion", weight=Decimal("40")
    )
    draft = Declaration.objects.create(cycle=cycle, unit=other)
    DeclaredIndicator.objects.create(
        declaration=draft, parent=node, name="草稿指标", rule_type="completion", weight=Decimal("100")
    )
    return {
        "cycle": cycle,
        "node": node,
        "unit": unit,
        "other": other,
        "stats": stats,
        "tax": tax,
        "jobs": jobs,
    }


def _url(setting: dict[str, object], unit_key: str = "unit") -> str:
    unit = setting[unit_key]
    return reverse("facts:declared_results", args=[unit.pk]) + "?year=2026"  # type: ignore[attr-defined]


def test_a_result_is_for_exactly_one_of_indicator_and_declared(setting: dict[str, object]) -> None:
    cycle, unit = setting["cycle"], setting["unit"]
    with pytest.raises(IntegrityError), transaction.atomic():
        IndicatorResult.objects.create(cycle=cycle, unit=unit, value=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        IndicatorResult.objects.create(
            cycle=cycle, unit=unit, indicator=setting["node"], declared=setting["tax"], value=1
        )
    IndicatorResult.objects.create(cycle=cycle, unit=unit, declared=setting["tax"], value=1)


def test_the_office_enters_a_units_declared_values_in_its_grid_audited(
    client: Client, setting: dict[str, object]
) -> None:
    client.force_login(UserFactory(role=Role.OFFICE))
    tax, jobs = setting["tax"], setting["jobs"]
    page = client.get(_url(setting)).content.decode()
    assert "税收收入" in page and "新增就业" in page and 'value="120.0"' in page
    response = client.post(
        _url(setting),
        {f"d{tax.pk}-value": "130", f"d{tax.pk}-target": "120", f"d{jobs.pk}-value": "900"},  # type: ignore[attr-defined]
    )
    assert response.status_code == 302
    row = IndicatorResult.objects.get(declared=tax)
    assert (row.value, row.target, row.indicator_id, row.unit_id) == (130.0, 120.0, None, setting["unit"].pk)  # type: ignore[attr-defined]
    assert IndicatorResult.objects.get(declared=jobs).value == 900.0
    assert AuditLog.objects.filter(object_type__contains="indicatorresult").count() >= 2


def test_a_bad_value_is_named_and_nothing_is_saved(client: Client, setting: dict[str, object]) -> None:
    client.force_login(UserFactory(role=Role.OFFICE))
    tax, jobs = setting["tax"], setting["jobs"]
    response = client.post(_url(setting), {f"d{tax.pk}-value": "一百", f"d{jobs.pk}-value": "5"})  # type: ignore[attr-defined]
    text = response.content.decode()
    assert response.status_code == 200
    assert "“税收收入”的实际值须为数字" in text
    assert 'value="一百"' in text and 'value="5"' in text
    assert not IndicatorResult.objects.exists()


def test_a_lead_department_enters_only_the_targets_it_leads(
    client: Client, setting: dict[str, object]
) -> None:
    client.force_login(UserFactory(role=Role.LEAD_DEPT, unit=setting["stats"]))
    page = client.get(_url(setting)).content.decode()
    assert "税收收入" in page and "新增就业" not in page
    tax, jobs = setting["tax"], setting["jobs"]
    client.post(_url(setting), {f"d{tax.pk}-value": "1", f"d{jobs.pk}-value": "2"})  # type: ignore[attr-defined]
    assert list(IndicatorResult.objects.values_list("declared_id", "value")) == [(tax.pk, 1.0)]  # type: ignore[attr-defined]


def test_units_without_published_targets_or_outside_the_users_reach_are_404(
    client: Client, setting: dict[str, object]
) -> None:
    client.force_login(UserFactory(role=Role.OFFICE))
    assert client.get(_url(setting, "other")).status_code == 404  # a draft declaration only
    client.force_login(UserFactory(role=Role.LEAD_DEPT, unit=UnitFactory()))
    assert client.get(_url(setting)).status_code == 404
    client.force_login(UserFactory(role=Role.LIAISON, unit=setting["unit"]))
    assert client.get(_url(setting)).status_code == 403


def test_the_auditor_reads_but_cannot_save(client: Client, setting: dict[str, object]) -> None:
    client.force_login(UserFactory(role=Role.AUDITOR))
    assert client.get(_url(setting)).status_code == 200
    assert client.post(_url(setting), {}).status_code == 403


def test_the_unit_list_shows_units_with_published_targets(client: Client, setting: dict[str, object]) -> None:
    client.force_login(UserFactory(role=Role.OFFICE))
    text = client.get(reverse("facts:declared_unit_list") + "?year=2026").content.decode()
    assert setting["unit"].name in text and setting["other"].name not in text  # type: ignore[attr-defined]
