from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import AuditLog, Role
from jixiao.facts.models import Adjustment, AdjustmentKind, IndicatorResult
from jixiao.organisation.tests.factories import CategoryFactory, OfficialFactory, UnitFactory, UserFactory
from jixiao.schemes.models import IndicatorNode
from jixiao.schemes.tests.factories import IndicatorFactory, SchemeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting() -> dict[str, object]:
    category = CategoryFactory()
    units = UnitFactory.create_batch(3, category=category)
    stats = UnitFactory()  # the lead department, in another category
    scheme = SchemeFactory(category=category)
    leaf = IndicatorFactory(component__scheme=scheme, rule_type="completion", lead_unit=stats)
    other_leaf = IndicatorFactory(component__scheme=scheme, rule_type="completion")
    return {"units": units, "stats": stats, "leaf": leaf, "other_leaf": other_leaf}


def _url(leaf: IndicatorNode) -> str:
    return reverse("facts:indicator_results", args=[leaf.pk])


def test_lead_department_enters_results_for_its_indicator_and_it_is_audited(
    client: Client, setting: dict
) -> None:
    lead = UserFactory(role=Role.LEAD_DEPT, unit=setting["stats"])
    client.force_login(lead)
    u = setting["units"][0]
    response = client.post(_url(setting["leaf"]), {f"u{u.pk}-value": "95", f"u{u.pk}-target": "100"})
    assert response.status_code == 302
    result = IndicatorResult.objects.get(indicator=setting["leaf"], unit=u)
    assert (result.value, result.target, result.entered_by) == (95.0, 100.0, lead)
    assert AuditLog.objects.filter(object_type="facts.indicatorresult", actor=lead).count() == 1


def test_lead_department_cannot_open_an_indicator_it_does_not_lead(client: Client, setting: dict) -> None:
    client.force_login(UserFactory(role=Role.LEAD_DEPT, unit=setting["stats"]))
    assert client.get(_url(setting["other_leaf"])).status_code == 404


def test_liaison_cannot_see_indicator_entry(client: Client, setting: dict) -> None:
    client.force_login(UserFactory(role=Role.LIAISON, unit=setting["units"][0]))
    assert client.get(_url(setting["leaf"])).status_code == 404
    assert client.get(reverse("facts:indicator_list")).status_code == 403


def test_auditor_reads_results_but_cannot_save(client: Client, setting: dict) -> None:
    client.force_login(UserFactory(role=Role.AUDITOR))
    assert client.get(_url(setting["leaf"])).status_code == 200
    u = setting["units"][0]
    assert client.post(_url(setting["leaf"]), {f"u{u.pk}-value": "1"}).status_code == 403
    assert not IndicatorResult.objects.exists()


def test_a_non_number_is_reported_and_nothing_is_saved(client: Client, setting: dict) -> None:
    client.force_login(UserFactory(role=Role.OFFICE))
    a, b = setting["units"][:2]
    response = client.post(_url(setting["leaf"]), {f"u{a.pk}-value": "80", f"u{b.pk}-value": "八十"})
    assert response.status_code == 200
    assert "八十" in response.content.decode()
    assert not IndicatorResult.objects.exists()


def test_office_records_a_sanction_for_an_official_picked_from_the_list(
    client: Client, setting: dict
) -> None:
    official = OfficialFactory(code="G-9")
    client.force_login(UserFactory(role=Role.OFFICE))
    response = client.post(
        reverse("facts:adjustment_create"),
        {
            "kind": "sanction",
            "official": official.pk,
            "sanction": "admonish",
            "source": "督查",
            "reason": "诫勉谈话",
        },
    )
    assert response.status_code == 302
    adjustment = Adjustment.objects.get()
    assert (adjustment.official, adjustment.kind, adjustment.sanction) == (
        official,
        AdjustmentKind.SANCTION,
        "admonish",
    )


def test_deduction_without_points_is_refused_with_a_message(client: Client, setting: dict) -> None:
    client.force_login(UserFactory(role=Role.OFFICE))
    unit = setting["units"][0]
    response = client.post(
        reverse("facts:adjustment_create"),
        {"kind": "deduction", "unit": unit.pk, "source": "督查", "reason": "x"},
    )
    assert response.status_code == 200
    assert "须填写分值" in response.content.decode()
    assert not Adjustment.objects.exists()


def test_liaison_sees_only_their_units_adjustments_and_cannot_create(client: Client, setting: dict) -> None:
    mine, other = setting["units"][:2]
    office = UserFactory(role=Role.OFFICE)
    cycle_id = setting["leaf"].scheme.cycle_id
    for unit in (mine, other):
        Adjustment.objects.create(
            cycle_id=cycle_id,
            unit=unit,
            kind="deduction",
            points=1,
            source="s",
            reason="r",
            entered_by=office,
        )
    client.force_login(UserFactory(role=Role.LIAISON, unit=mine))
    page = client.get(reverse("facts:adjustment_list")).context["page"]
    assert [a.unit for a in page] == [mine]
    assert client.get(reverse("facts:adjustment_create")).status_code == 403


def test_the_indicator_list_counts_entered_results_per_leaf_in_a_fixed_number_of_queries(
    client: Client, setting: dict
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(UserFactory(role=Role.AUDITOR))
    leaf, other = setting["leaf"], setting["other_leaf"]
    cycle = leaf.scheme.cycle
    IndicatorResult.objects.create(cycle=cycle, indicator=leaf, unit=setting["units"][0], value=1)
    with CaptureQueriesContext(connection) as few:
        page = client.get(reverse("facts:indicator_list"), {"year": cycle.year}).context["page"]
    assert {x.pk: x.entered for x in page} == {leaf.pk: 1, other.pk: 0}
    for unit in setting["units"]:
        IndicatorResult.objects.create(cycle=cycle, indicator=other, unit=unit, value=1)
    IndicatorFactory.create_batch(5, component__scheme=leaf.scheme, rule_type="completion")
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("facts:indicator_list"), {"year": cycle.year}).context["page"]
    assert {x.pk: x.entered for x in page if x.pk in (leaf.pk, other.pk)} == {leaf.pk: 1, other.pk: 3}
    assert len(many) == len(few)


def test_a_liaison_sees_the_adjustments_of_the_units_officials_in_a_fixed_number_of_queries(
    client: Client, setting: dict
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    mine, other = setting["units"][:2]
    cycle_id = setting["leaf"].scheme.cycle_id
    leader, stranger = OfficialFactory(unit=mine), OfficialFactory(unit=other)

    def adjust(**entity: object) -> None:
        Adjustment.objects.create(
            cycle_id=cycle_id, kind="deduction", points=1, source="s", reason="r", **entity
        )

    adjust(official=leader)
    adjust(official=stranger)
    client.force_login(UserFactory(role=Role.LIAISON, unit=mine))
    with CaptureQueriesContext(connection) as few:
        page = client.get(reverse("facts:adjustment_list")).context["page"]
    assert [a.official for a in page] == [leader]
    for _ in range(5):
        adjust(official=OfficialFactory(unit=mine))
        adjust(unit=other)
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("facts:adjustment_list")).context["page"]
    assert len(page) == 6 and all(a.official and a.official.unit == mine for a in page)
    assert len(many) == len(few)
