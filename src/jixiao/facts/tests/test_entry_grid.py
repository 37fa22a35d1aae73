"""The entry grid keeps every typed cell when one is wrong, marks that cell and saves nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import Role
from jixiao.facts.models import IndicatorResult
from jixiao.organisation.tests.factories import CategoryFactory, UnitFactory, UserFactory
from jixiao.schemes.tests.factories import IndicatorFactory, SchemeFactory

pytestmark = pytest.mark.django_db


def _setting(rule_type: str = "completion", params: dict[str, object] | None = None) -> tuple[list, object]:
    category = CategoryFactory()
    units = sorted(UnitFactory.create_batch(6, category=category), key=lambda u: u.code)
    scheme = SchemeFactory(category=category)
    leaf = IndicatorFactory(component__scheme=scheme, rule_type=rule_type, rule_params=params or {})
    return units, leaf


def test_one_bad_cell_among_many_saves_nothing_keeps_every_value_and_marks_the_cell(client: Client) -> None:
    units, leaf = _setting()
    client.force_login(UserFactory(role=Role.OFFICE))
    data = {}
    for n, unit in enumerate(units):
        data[f"u{unit.pk}-value"] = str(80 + n)
        data[f"u{unit.pk}-target"] = "100"
        data[f"u{unit.pk}-evidence"] = f"统计年报{n}"
    bad = units[3]
    data[f"u{bad.pk}-target"] = "一百"
    response = client.post(reverse("facts:indicator_results", args=[leaf.pk]), data)
    assert response.status_code == 200
    assert not IndicatorResult.objects.exists()
    body = response.content.decode()
    for n, unit in enumerate(units):
        assert f'name="u{unit.pk}-value" value="{80 + n}"' in body
        assert f"统计年报{n}" in body
    assert f'name="u{bad.pk}-target" value="一百"' in body
    rows = response.context["rows"]
    marked = [(row.unit, key) for row in rows for key, cell in row.cells.items() if cell.error]
    assert marked == [(bad, "target")]
    assert "“目标值”须为数字" in body and 'class="cell-bad"' in body
    assert "1 处填写有误" in body


def test_when_every_cell_is_valid_all_rows_are_saved(client: Client) -> None:
    units, leaf = _setting()
    client.force_login(UserFactory(role=Role.OFFICE))
    data = {f"u{u.pk}-value": "1,250.5" if n == 0 else str(n) for n, u in enumerate(units)}
    response = client.post(reverse("facts:indicator_results", args=[leaf.pk]), data)
    assert response.status_code == 302
    assert IndicatorResult.objects.count() == len(units)
    assert IndicatorResult.objects.get(unit=units[0]).value == 1250.5


def test_a_grade_outside_the_qualitative_indicators_map_is_marked_with_the_labels_allowed(
    client: Client,
) -> None:
    units, leaf = _setting("grade_map", {"map": {"好": 1, "较好": 0.85}})
    client.force_login(UserFactory(role=Role.OFFICE))
    response = client.post(
        reverse("facts:indicator_results", args=[leaf.pk]),
        {f"u{units[0].pk}-grade": "好", f"u{units[1].pk}-grade": "优"},
    )
    assert response.status_code == 200
    assert not IndicatorResult.objects.exists()
    assert "等次须为：好、较好" in response.content.decode()


def test_the_grid_names_the_scoring_rule_in_words_not_its_code(client: Client) -> None:
    _units, leaf = _setting("completion", {"cap": 1.2})
    client.force_login(UserFactory(role=Role.OFFICE))
    body = client.get(reverse("facts:indicator_results", args=[leaf.pk])).content.decode()
    assert "完成率计分" in body
    assert "completion" not in body and "{'cap'" not in body
