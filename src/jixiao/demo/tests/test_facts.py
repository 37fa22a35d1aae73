"""The ``facts`` step: a year of indicator results, ratings, votes and adjustments per cycle."""

from __future__ import annotations

from collections import Counter

import pytest

from jixiao.demo import catalog
from jixiao.demo.generator import generate, reset_database
from jixiao.facts.models import Adjustment, EvaluationScore, IndicatorResult, SanctionLevel, VoteCount
from jixiao.organisation.models import Official, Unit
from jixiao.results.models import EntityResult
from jixiao.results.services import run_compute
from jixiao.schemes.models import Cycle, IndicatorNode

pytestmark = pytest.mark.django_db

# These tests are about the facts step itself; the opinion steps add their own ratings on top.
UP_TO_FACTS = ["registry", "library", "schemes", "accounts", "facts"]


def _facts() -> dict[str, list[tuple[object, ...]]]:
    return {
        "results": list(IndicatorResult.objects.order_by("id").values_list("cycle__year", "unit__code", "indicator__code", "value", "grade", "target", "last_year")),
        "ratings": list(EvaluationScore.objects.order_by("id").values_list("cycle__year", "unit__code", "official__code", "rater_group", "item", "score")),
        "votes": list(VoteCount.objects.order_by("id").values_list("cycle__year", "official__code", "excellent", "competent", "basic", "incompetent")),
        "adjustments": list(Adjustment.objects.order_by("id").values_list("cycle__year", "unit__code", "official__code", "kind", "points", "sanction", "indicator__code")),
    }  # fmt: skip


def test_every_unit_reports_every_leaf_of_its_scheme_and_every_official_is_rated() -> None:
    ctx = generate(scale="tiny", seed=3, steps=UP_TO_FACTS)

    units = Unit.objects.count()
    officials = Official.objects.filter(is_active=True).count()
    for cycle in Cycle.objects.all():
        leaves = Counter(
            IndicatorNode.objects.filter(scheme__cycle=cycle)
            .exclude(rule_type="")
            .values_list("scheme__category__code", flat=True)
        )
        expected = sum(leaves[code] for code in Unit.objects.values_list("category__code", flat=True))
        results = IndicatorResult.objects.filter(cycle=cycle)
        assert results.count() == expected
        assert results.values("unit", "indicator").distinct().count() == expected
        assert not results.filter(official__isnull=False).exists()
        ratings = EvaluationScore.objects.filter(cycle=cycle)
        assert set(ratings.values_list("ballots", flat=True)) == {1}
        assert ratings.filter(unit__isnull=False).values("unit").distinct().count() == units
        assert ratings.filter(official__isnull=False).values("official").distinct().count() == officials
        assert set(ratings.values_list("rater_group", flat=True)) == {g[0] for g in catalog.RATER_GROUPS}
        assert VoteCount.objects.filter(cycle=cycle).count() == officials
    assert ctx.counts["facts.IndicatorResult"] == IndicatorResult.objects.count()
    assert ctx.counts["facts.EvaluationScore"] == EvaluationScore.objects.count()


def test_values_fit_each_leafs_rule() -> None:
    generate(scale="tiny", seed=3, steps=UP_TO_FACTS)

    for result in IndicatorResult.objects.select_related("indicator"):
        rule, params = result.indicator.rule_type, result.indicator.rule_params
        if rule == "grade_map":
            assert result.grade in params["map"] and result.value is None
        elif rule == "veto":
            assert result.value in (0.0, 1.0)
        elif rule == "yoy_improvement":
            assert result.value is not None and result.last_year is not None
        elif rule in ("completion", "threshold_deduction"):
            assert result.value is not None and result.target is not None and result.target > 0
        else:
            assert result.value is not None and result.value >= 0
    vetoes = IndicatorResult.objects.filter(indicator__rule_type="veto")
    assert vetoes.filter(value=1).count() < vetoes.filter(value=0).count()
    scores = EvaluationScore.objects.values_list("score", flat=True)
    assert min(scores) >= 0 and max(scores) <= 100
    satisfaction = set(
        EvaluationScore.objects.filter(unit__isnull=False, rater_group="public").values_list(
            "score", flat=True
        )
    )
    assert satisfaction <= set(catalog.SATISFACTION_SCALE)


def test_adjustments_cover_every_kind_and_use_the_sanction_levels() -> None:
    generate(scale="tiny", seed=3, steps=UP_TO_FACTS)

    kinds = Counter(Adjustment.objects.filter(cycle__year=2025).values_list("kind", flat=True))
    assert set(kinds) == {
        "deduction", "sanction", "veto_excellent", "no_grade", "falsification", "debt_over_limit",
    }  # fmt: skip
    levels = set(Adjustment.objects.exclude(sanction="").values_list("sanction", flat=True))
    assert levels <= set(SanctionLevel.values) and {"admonish", "accountable"} <= levels
    assert not Adjustment.objects.filter(kind="deduction", unit__isnull=True).exists()
    falsified = Adjustment.objects.get(cycle__year=2025, kind="falsification")
    assert falsified.indicator is not None and falsified.indicator.scheme.category == falsified.unit.category  # type: ignore[union-attr]
    debt = Adjustment.objects.get(cycle__year=2025, kind="debt_over_limit")
    assert debt.unit is not None and debt.unit.category.code == "county" and debt.points


def test_the_same_seed_gives_the_same_facts() -> None:
    generate(scale="tiny", seed=11, steps=UP_TO_FACTS)
    first = _facts()
    reset_database()
    generate(scale="tiny", seed=11, steps=UP_TO_FACTS)

    assert _facts() == first
    reset_database()
    generate(scale="tiny", seed=12, steps=UP_TO_FACTS)
    assert _facts()["ratings"] != first["ratings"]


def test_a_tiny_cycle_computes_with_breakdowns() -> None:
    generate(scale="tiny", seed=3, steps=UP_TO_FACTS)

    for cycle in Cycle.objects.order_by("year"):
        run = run_compute(cycle=cycle, actor=None)
        results = EntityResult.objects.filter(run=run)
        assert results.count() == Unit.objects.count() + Official.objects.filter(is_active=True).count()
        official = results.filter(subject="official", official__layer="member").first()
        assert official is not None
        assert {c["component"] for c in official.explanation["components"]} == {
            "duty",
            "portfolio",
            "quality",
        }
        assert {r["group"] for r in official.explanation["raters"]} >= {"org", "peers", "public"}


def test_every_indicator_value_is_plausible_for_its_unit_of_measure_and_its_target() -> None:
    generate(scale="tiny", seed=3, steps=UP_TO_FACTS)

    checked = 0
    for result in IndicatorResult.objects.select_related("indicator"):
        leaf = result.indicator
        measure = catalog.measure_for(leaf.name, leaf.rule_type)
        low, high = measure.bounds
        for field in ("value", "target", "last_year"):
            number = getattr(result, field)
            if number is None:
                continue
            assert low <= number <= high, (leaf.name, field, number, measure.unit)
            if measure.integer:
                assert number == round(number), (leaf.name, field, number)
        # Independently of the classification: a share or a rate is a percentage.
        subject = leaf.name.removesuffix("目标完成率")
        is_share = any(w in subject for w in ("率", "比例", "占比")) and "增速" not in subject
        if is_share and leaf.rule_type not in catalog.RULE_MEASURE:
            assert result.value is None or 0 <= result.value <= 100, (leaf.name, result.value)
            assert result.target is None or 0 <= result.target <= 100, (leaf.name, result.target)
        if result.target and result.value is not None and leaf.rule_type == "completion":
            assert 0.3 <= result.value / result.target <= 2.5, (leaf.name, result.value, result.target)
        if result.last_year and result.value is not None:
            assert 0.5 <= result.value / result.last_year <= 1.5, (leaf.name, result.value, result.last_year)
        checked += 1
    assert checked == IndicatorResult.objects.count() > 1_000
    shares = IndicatorResult.objects.filter(indicator__name__contains="空气质量优良天数比例")
    assert not shares.filter(value__gt=100).exists()


def test_each_leaf_states_its_unit_of_measure_in_its_target_text() -> None:
    generate(scale="tiny", seed=3, steps=["registry", "library", "schemes"])
    leaves = IndicatorNode.objects.exclude(rule_type="").exclude(rule_type="grade_map")
    assert leaves.exists()
    for leaf in leaves:
        assert leaf.target_text.endswith(
            f"（计量单位：{catalog.measure_for(leaf.name, leaf.rule_type).unit}）"
        )
    air = catalog.measure_for("空气质量优良天数比例与最优单位比较", "best_proportion")
    assert (air.unit, air.bounds) == ("%", (0.0, 100.0))
    assert catalog.measure_for("地方一般公共预算收入目标完成率", "completion").unit == "亿元"
