"""A closed cycle's facts are read-only: entry grid, adjustments and Excel imports refuse."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import Role
from jixiao.facts import services
from jixiao.facts.excel import FactKind, facts_import
from jixiao.facts.models import Adjustment, AdjustmentKind, IndicatorResult
from jixiao.facts.tests.test_excel_setup import World, build_world, results_file
from jixiao.organisation.tests.factories import UserFactory
from jixiao.schemes.lifecycle import CycleLocked, cycle_close, cycle_reopen
from jixiao.schemes.models import Cycle, CycleStatus

pytestmark = pytest.mark.django_db

LOCKED = "2025 年度考核已结束，数据只读；如需修改请由考核办重新开启"


@pytest.fixture
def world() -> World:
    world = build_world()
    Cycle.objects.filter(pk=world.cycle.pk).update(status=CycleStatus.CLOSED)
    world.cycle.refresh_from_db()
    return world


def _entry(world: World, value: float) -> services.ResultEntry:
    return services.ResultEntry(
        unit_id=world.ua1.pk, value=value, grade="", target=100, last_year=None, evidence=""
    )


def test_closed_cycle_refuses_an_indicator_result_entry_by_the_lead_department(world: World) -> None:
    lead = UserFactory(role=Role.LEAD_DEPT, unit=world.stats)
    with pytest.raises(CycleLocked, match=LOCKED):
        services.indicator_results_save(actor=lead, indicator=world.leaf, entries=[_entry(world, 95)])
    assert not IndicatorResult.objects.exists()


def test_lead_department_sees_a_read_only_grid_and_a_post_shows_the_message(
    client: Client, world: World
) -> None:
    client.force_login(UserFactory(role=Role.LEAD_DEPT, unit=world.stats))
    url = reverse("facts:indicator_results", args=[world.leaf.pk])
    page = client.get(url).content.decode()
    assert 'id="cycle-locked"' in page
    assert re.search(rf'<input[^>]*name="u{world.ua1.pk}-value"[^>]*disabled', page)
    assert "保存</button>" not in page
    response = client.post(url, {f"u{world.ua1.pk}-value": "95"}, follow=True)
    assert response.status_code == 200
    assert LOCKED in response.content.decode()
    assert not IndicatorResult.objects.exists()


def test_reopening_the_cycle_lets_the_lead_department_enter_again(world: World) -> None:
    office = UserFactory(role=Role.OFFICE)
    lead = UserFactory(role=Role.LEAD_DEPT, unit=world.stats)
    cycle_reopen(actor=office, cycle=world.cycle, reason="统计局更正财政数据")
    assert services.indicator_results_save(actor=lead, indicator=world.leaf, entries=[_entry(world, 95)]) == 1
    cycle_close(actor=office, cycle=world.cycle)
    with pytest.raises(CycleLocked):
        services.indicator_results_save(actor=lead, indicator=world.leaf, entries=[_entry(world, 96)])
    assert IndicatorResult.objects.get().value == 95


def test_closed_cycle_refuses_an_adjustment_and_its_withdrawal(world: World) -> None:
    office = UserFactory(role=Role.OFFICE)
    with pytest.raises(CycleLocked):
        services.adjustment_create(
            actor=office, cycle_id=world.cycle.pk, kind=AdjustmentKind.DEDUCTION, source="督查",
            reason="迟报", unit=world.ua1, points=1.0,
        )  # fmt: skip
    existing = Adjustment.objects.create(
        cycle=world.cycle, unit=world.ua1, kind=AdjustmentKind.BONUS, points=2, source="表彰", reason="x"
    )
    with pytest.raises(CycleLocked):
        services.adjustment_delete(actor=office, adjustment=existing)
    assert list(Adjustment.objects.values_list("kind", flat=True)) == [AdjustmentKind.BONUS]


def test_adjustment_pages_hide_entry_and_show_the_message_instead_of_a_500(
    client: Client, world: World
) -> None:
    client.force_login(UserFactory(role=Role.OFFICE))
    existing = Adjustment.objects.create(
        cycle=world.cycle, unit=world.ua1, kind=AdjustmentKind.BONUS, points=2, source="表彰", reason="x"
    )
    listing = client.get(reverse("facts:adjustment_list") + "?year=2025").content.decode()
    assert 'id="cycle-locked"' in listing
    assert reverse("facts:adjustment_create") not in listing
    assert reverse("facts:adjustment_delete", args=[existing.pk]) not in listing
    for method in (client.get, client.post):
        response = method(reverse("facts:adjustment_create") + "?year=2025", follow=True)
        assert response.redirect_chain[-1][0] == reverse("facts:adjustment_list") + "?year=2025"
        assert LOCKED in response.content.decode()
    response = client.post(reverse("facts:adjustment_delete", args=[existing.pk]), follow=True)
    assert LOCKED in response.content.decode()
    assert Adjustment.objects.count() == 1


def test_closed_cycle_refuses_a_facts_import(world: World) -> None:
    result = facts_import(
        actor=UserFactory(role=Role.OFFICE),
        cycle=world.cycle,
        kind=FactKind.RESULTS,
        source=results_file(["1.1", "UA1", 95.5, None, 100, 90, "年报"]),
    )
    assert [e.message for e in result.errors] == [LOCKED]
    assert not IndicatorResult.objects.exists()


def test_facts_import_page_and_command_report_the_closed_cycle(
    client: Client, world: World, tmp_path: Path
) -> None:
    client.force_login(UserFactory(role=Role.OFFICE))
    upload = results_file(["1.1", "UA1", 95.5, None, 100, 90, "年报"])
    response = client.post(reverse("facts:import", args=["results"]), {"cycle": 2025, "file": upload})
    assert response.status_code == 422
    assert LOCKED in response.content.decode()
    path = tmp_path / "results.xlsx"
    path.write_bytes(results_file(["1.1", "UA1", 95.5, None, 100, 90, "年报"]).getvalue())
    with pytest.raises(CommandError):
        call_command("import_facts", str(path), cycle=2025, kind="results")
    assert not IndicatorResult.objects.exists()
