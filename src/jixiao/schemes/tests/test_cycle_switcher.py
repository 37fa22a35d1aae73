"""Pages about one cycle default to the latest cycle that has what they show, and switch cycles."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jixiao.accounts.models import Role
from jixiao.evaluations.models import EvaluationEvent
from jixiao.facts.models import Adjustment, AdjustmentKind, IndicatorResult
from jixiao.organisation.models import Unit, UnitCategory
from jixiao.organisation.tests.factories import CategoryFactory, UnitFactory, UserFactory
from jixiao.results.services import run_compute
from jixiao.schemes.models import Component, Cycle, CycleStatus, GradeLevel, GradingPolicy, Subject
from jixiao.schemes.selectors import cycle_for_page, cycles_having
from jixiao.schemes.tests.factories import CycleFactory, IndicatorFactory, SchemeFactory
from jixiao.surveys.tests.factories import SurveyFactory

pytestmark = pytest.mark.django_db


def _computed(year: int, status: CycleStatus, category: UnitCategory, units: list[Unit]) -> Cycle:
    """A cycle with one indicator, a result for each unit and one scoring run."""
    cycle = CycleFactory(year=year, status=status)
    scheme = SchemeFactory(cycle=cycle, category=category)
    component = Component.objects.create(scheme=scheme, code="annual", name="年度实绩", weight=Decimal("100"))
    policy = GradingPolicy.objects.create(scheme=scheme, subject=Subject.TEAM)
    GradeLevel.objects.create(policy=policy, code="first", label="一等", quota_percent=Decimal("20"), order=1)
    GradeLevel.objects.create(policy=policy, code="second", label="二等", order=2)
    leaf = IndicatorFactory(
        component=component, scheme=scheme, rule_type="completion", rule_params={"cap": 1.0}
    )
    for i, unit in enumerate(units):
        IndicatorResult.objects.create(cycle=cycle, unit=unit, indicator=leaf, value=60 + i, target=100)
    run_compute(cycle=cycle, actor=None)
    return cycle


@pytest.fixture
def three_years() -> dict[str, Cycle]:
    """2024 (computed), 2025 (computed, open) and a new empty 2026 draft."""
    category = CategoryFactory(code="county", name="县市")
    units = [UnitFactory(category=category, code=f"C{i}") for i in range(5)]
    c2024 = _computed(2024, CycleStatus.OPEN, category, units)
    c2025 = _computed(2025, CycleStatus.OPEN, category, units)
    return {"2024": c2024, "2025": c2025, "2026": CycleFactory(year=2026)}


def _options(page: str) -> list[tuple[str, bool, str]]:
    """(year, selected, label) of each option of the cycle switcher."""
    switcher = re.search(r'<select name="year" id="cycle-switcher-year".*?</select>', page, re.S)
    assert switcher, "no cycle switcher on the page"
    return [
        (value, bool(selected), label)
        for value, selected, label in re.findall(
            r'<option value="(\d+)"( selected)?>([^<]*)</option>', switcher.group(0)
        )
    ]


def test_results_show_2025_by_default_after_an_empty_2026_draft_and_offer_all_three(
    client: Client, three_years: dict[str, Cycle]
) -> None:
    client.force_login(UserFactory(role=Role.OFFICE))
    response = client.get(reverse("results:ranking"))
    assert response.status_code == 200
    assert response.context["run"].cycle == three_years["2025"]
    assert _options(response.content.decode()) == [
        ("2026", False, "2026 年度（筹备）"),
        ("2025", True, "2025 年度（进行中）"),
        ("2024", False, "2024 年度（进行中）"),
    ]


def test_the_switcher_reaches_2024_results_and_the_draft_says_it_is_not_scored(
    client: Client, three_years: dict[str, Cycle]
) -> None:
    client.force_login(UserFactory(role=Role.OFFICE))
    response = client.get(reverse("results:ranking") + "?year=2024")
    assert response.context["run"].cycle == three_years["2024"]
    response = client.get(reverse("results:ranking") + "?year=2026")
    page = response.content.decode()
    assert "该周期尚未计分" in page
    assert ("2026", True, "2026 年度（筹备）") in _options(page)


def test_run_list_and_compare_default_to_the_latest_scored_cycle(
    client: Client, three_years: dict[str, Cycle]
) -> None:
    client.force_login(UserFactory(role=Role.OFFICE))
    response = client.get(reverse("results:run_list"))
    assert response.context["cycle"] == three_years["2025"]
    assert ("2025", True, "2025 年度（进行中）") in _options(response.content.decode())


def test_cycle_for_page_prefers_the_requested_year_then_the_latest_with_content() -> None:
    c2024 = CycleFactory(year=2024, status=CycleStatus.CLOSED)
    c2025 = CycleFactory(year=2025, status=CycleStatus.OPEN)
    CycleFactory(year=2026)  # an empty draft
    Adjustment.objects.create(
        cycle=c2024, unit=UnitFactory(), kind=AdjustmentKind.BONUS, points=1, source="表彰", reason="x"
    )
    assert cycle_for_page("2026", has="results") == Cycle.objects.get(year=2026)
    assert cycle_for_page("1999", has="results") is None
    assert cycle_for_page(None, has="facts") == c2024
    # Nothing has a run: the latest cycle that is not an empty draft.
    assert cycle_for_page(None, has="results") == c2025
    assert cycle_for_page(None) == c2025
    assert list(cycles_having("any")) == [c2025, c2024]


def test_a_draft_with_schemes_counts_as_a_cycle_but_not_as_one_with_facts() -> None:
    draft = CycleFactory(year=2026)
    SchemeFactory(cycle=draft)
    assert cycle_for_page(None) == draft
    assert cycle_for_page(None, has="facts") == draft  # fallback: no cycle has facts


def test_evaluation_events_list_shows_the_latest_cycle_with_events_and_switches(client: Client) -> None:
    c2025 = CycleFactory(year=2025, status=CycleStatus.OPEN)
    c2026 = CycleFactory(year=2026)
    old = EvaluationEvent.objects.create(
        cycle=c2025, name="2025年度测评", closes_at=timezone.now() + timedelta(days=1)
    )
    client.force_login(UserFactory(role=Role.OFFICE))
    response = client.get(reverse("evaluations:event_list"))
    assert list(response.context["events"]) == [old]
    response = client.get(reverse("evaluations:event_list") + "?year=2026")
    assert list(response.context["events"]) == []
    assert response.context["cycle"] == c2026


def test_entry_grid_and_facts_lists_carry_the_switcher(client: Client) -> None:
    CycleFactory(year=2025, status=CycleStatus.OPEN)
    CycleFactory(year=2026)
    client.force_login(UserFactory(role=Role.OFFICE))
    for name in ("facts:indicator_list", "facts:adjustment_list", "facts:score_list", "facts:vote_list"):
        page = client.get(reverse(name)).content.decode()
        assert re.search(r'<select name="year" class="cycle-select"', page), name
        assert '<option value="2025" selected>2025 年度（进行中）</option>' in page, name


def test_survey_list_shows_the_latest_cycle_with_surveys_and_offers_the_others(client: Client) -> None:
    old = SurveyFactory(cycle=CycleFactory(year=2025, status=CycleStatus.OPEN), title="2025年满意度调查")
    CycleFactory(year=2026)
    client.force_login(UserFactory(role=Role.OFFICE))
    response = client.get(reverse("surveys:survey_list"))
    assert list(response.context["page"]) == [old]
    assert [year for year, _selected, _label in _options(response.content.decode())] == ["2026", "2025"]
    assert list(client.get(reverse("surveys:survey_list") + "?year=2026").context["page"]) == []
