"""The results template lists the user's own indicators and units by their real codes and
imports back; an indicator of another category's scheme is reported as such."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse

from jixiao.facts.excel import FactKind, facts_import, write_template
from jixiao.facts.excel.template import LOOKUP_SHEET, results_prefill
from jixiao.facts.models import IndicatorResult
from jixiao.facts.tests.test_excel_setup import World, build_world, results_file
from jixiao.organisation.excel.reader import read_workbook

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world()


def _rows(handle: io.BytesIO) -> list[tuple[object, ...]]:
    sheet = read_workbook(handle)["指标完成情况"]
    return list(zip(*sheet.columns, strict=True))


def test_a_lead_departments_template_lists_its_indicators_times_their_units_by_real_codes(
    client: Client, world: World
) -> None:
    IndicatorResult.objects.create(cycle=world.cycle, indicator=world.leaf, unit=world.ua1, value=88)
    client.force_login(world.lead)
    response = client.get(reverse("facts:import_template", args=["results"]) + "?year=2025")
    assert response.status_code == 200
    handle = io.BytesIO(b"".join(response.streaming_content))  # type: ignore[attr-defined]
    rows = {(r[0], r[1]): r for r in _rows(handle)}
    # STATS leads 1.1 in scheme A (UA1, UA2), the uncoded leaf of A, and 1.1 in scheme B (UB1);
    # not OTHER's 1.2.
    assert set(rows) == {
        ("1.1", "UA1"),
        ("1.1", "UA2"),
        ("1.1", "UB1"),
        (f"#{world.uncoded.pk}", "UA1"),
        (f"#{world.uncoded.pk}", "UA2"),
    }
    assert rows[("1.1", "UA1")][2] == 88
    handle.seek(0)
    assert LOOKUP_SHEET in read_workbook(handle)


def test_the_prefilled_template_with_values_typed_in_imports_back(world: World) -> None:
    prefill = results_prefill(user=world.office, cycle=world.cycle)
    for row in prefill.rows:
        row[2] = 70
    handle = io.BytesIO()
    write_template(handle, FactKind.RESULTS, prefill)
    handle.seek(0)
    result = facts_import(actor=world.office, cycle=world.cycle, kind=FactKind.RESULTS, source=handle)
    assert result.ok, [str(e) for e in result.errors]
    assert IndicatorResult.objects.count() == len(prefill.rows) > 0


def test_an_indicator_of_another_categorys_scheme_is_reported_as_such(world: World) -> None:
    result = facts_import(
        actor=world.office,
        cycle=world.cycle,
        kind=FactKind.RESULTS,
        source=results_file(["1.2", "UB1", 80, None, None, None, None]),
    )
    assert not result.ok
    [error] = result.errors
    home, here = world.other_leaf.scheme.category.name, world.ub1.category.name
    assert error.message == f"指标“1.2”属于“{home}”类方案，不适用于单位“UB1”（“{here}”类）"
