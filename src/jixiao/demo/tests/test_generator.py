"""The demo generator: counts, weights, rule parameters and determinism."""

from __future__ import annotations

from collections import Counter

import pytest

from jixiao.demo import catalog
from jixiao.demo.generator import STEPS, generate, register_step, reset_database
from jixiao.demo.pipeline import Context, Step
from jixiao.organisation.models import Layer, Official, Region, Tenure, Unit, UnitCategory
from jixiao.schemes.models import (
    Cycle,
    GradeLevel,
    GradingRule,
    IndicatorKind,
    IndicatorNode,
    LibraryEntry,
    Scheme,
    Subject,
)
from jixiao.schemes.rule_types import INDICATOR_RULES, validate_rule_params
from jixiao.schemes.selectors import weight_problems

pytestmark = pytest.mark.django_db


def _fingerprint() -> dict[str, list[tuple[object, ...]]]:
    return {
        "units": list(Unit.objects.order_by("code").values_list("code", "name", "category__code", "function_zone__code")),
        "officials": list(Official.objects.order_by("code").values_list("code", "name", "layer", "rank", "title", "birth_date")),
        "tenures": list(Tenure.objects.order_by("official__code", "start").values_list("official__code", "position__title", "start", "end")),
        "indicators": list(IndicatorNode.objects.order_by("scheme__cycle__year", "scheme__category__order", "component__order", "code").values_list("code", "name", "weight", "rule_type", "rule_params")),
    }  # fmt: skip


def test_tiny_scale_has_every_category_and_a_team_head_per_unit() -> None:
    ctx = generate(scale="tiny", seed=1)

    assert UnitCategory.objects.count() == 8
    assert Unit.objects.count() == ctx.scale.units == 9
    assert set(Unit.objects.values_list("category__code", flat=True)) == {c[0] for c in catalog.CATEGORIES}
    assert Official.objects.count() == ctx.scale.officials
    heads = Counter(Official.objects.filter(layer=Layer.HEAD, is_active=True).values_list("unit", flat=True))
    assert set(heads.values()) == {1} and len(heads) == 9
    assert Scheme.objects.count() == 24  # 2024, 2025 and the 2026 year in progress


def test_the_same_seed_gives_the_same_names_codes_and_weights() -> None:
    generate(scale="tiny", seed=42, steps=["registry", "library", "schemes"])
    first = _fingerprint()
    reset_database()
    generate(scale="tiny", seed=42, steps=["registry", "library", "schemes"])

    assert _fingerprint() == first


def test_another_seed_gives_other_people() -> None:
    generate(scale="tiny", seed=1, steps=["registry"])
    first = _fingerprint()["officials"]
    reset_database()
    generate(scale="tiny", seed=2, steps=["registry"])

    assert _fingerprint()["officials"] != first


def test_a_registered_step_runs_after_the_others_with_the_context() -> None:
    seen: list[int] = []

    def count_units(ctx: Context) -> None:
        seen.append(len(ctx.units))

    register_step(Step("probe", count_units))
    try:
        generate(scale="tiny", seed=1, steps=["registry", "probe"])
    finally:
        STEPS[:] = [s for s in STEPS if s.name != "probe"]

    assert seen == [9]


@pytest.mark.prefecture
def test_prefecture_scale_matches_the_sources() -> None:
    ctx = generate(scale="prefecture", seed=2025, steps=["registry", "library", "schemes"])

    # Registry: 8 categories, 8 counties + 94 prefecture units, ~1,700 officials with history.
    assert UnitCategory.objects.count() == 8
    assert Unit.objects.filter(category__code="county").count() == 8
    assert Unit.objects.exclude(category__code="county").count() == 94
    assert Region.objects.filter(parent__isnull=False).count() == 8
    assert not Unit.objects.filter(category__code="county", function_zone__isnull=True).exists()
    assert 1650 <= Official.objects.count() <= 1750
    by_unit = Counter(
        Official.objects.filter(is_active=True, layer=Layer.MEMBER).values_list("unit", flat=True)
    )
    assert min(by_unit.values()) >= 3 and max(by_unit.values()) <= 8
    assert Official.objects.filter(is_active=True, layer=Layer.OTHER).count() > 500
    assert Tenure.objects.filter(end__isnull=False).count() > 50
    assert Official.objects.filter(is_active=False).exists()
    assert Unit.objects.filter(name="市统计局").exists() and Unit.objects.filter(name="市财政局").exists()

    # Schemes: 2 cycles × 8 categories, the Xiangxi component weights, quotas and grading rules.
    assert list(Cycle.objects.order_by("year").values_list("year", flat=True)) == [2024, 2025]
    assert Scheme.objects.count() == 16
    county = Scheme.objects.get(cycle__year=2025, category__code="county")
    assert [str(c.weight) for c in county.components.filter(subject=Subject.TEAM).order_by("order")] == [
        "20.00",
        "45.00",
        "20.00",
        "15.00",
    ]
    unit = Scheme.objects.get(cycle__year=2025, category__code="economic")
    team_weights = unit.components.filter(subject=Subject.TEAM).order_by("order")
    assert [str(c.weight) for c in team_weights] == ["15.00", "50.00", "15.00", "20.00"]
    official = {c.code: c.layer_weights for c in unit.components.filter(subject=Subject.OFFICIAL)}
    assert official["duty"] == {"head": 70, "member": 50, "other": 50}
    assert {layer: sum(w[layer] for w in official.values()) for layer in ("head", "member", "other")} == {
        "head": 100, "member": 100, "other": 100,
    }  # fmt: skip
    quotas = GradeLevel.objects.filter(policy__scheme=unit).order_by("policy__subject", "order")
    assert [(q.label, int(q.quota_percent or 0)) for q in quotas] == [
        ("优秀", 15), ("称职", 0), ("基本称职", 4), ("不称职", 1), ("一等", 15), ("二等", 0), ("三等", 5),
    ]  # fmt: skip
    rules = GradingRule.objects.filter(policy__scheme=unit, policy__subject=Subject.OFFICIAL)
    assert {r.rule_type: r.params for r in rules}["bottom_share"]["share"] == 0.05
    county_annual = county.indicators.filter(level=1, component__code="annual")
    assert list(county_annual.order_by("order").values_list("name", flat=True)) == [
        "重点工作", "特色工作", "民生工作", "经济发展", "社会发展", "可持续发展", "行政效能", "公共责任", "临时工作",
    ]  # fmt: skip
    assert unit.indicators.filter(level=1, component__code="annual").count() == 5

    # Weights sum to 100 at every level of every scheme: team components, officials' components per
    # layer and every indicator level. (weight_problems adds team and official components together,
    # so its whole-scheme line is checked here per subject instead.)
    for scheme in Scheme.objects.all():
        assert [p for p in weight_problems(scheme=scheme) if p.where != str(scheme)] == [], scheme.name
        team = scheme.components.filter(subject=Subject.TEAM, parent__isnull=True)
        assert sum(c.weight for c in team) == 100
        layers = [c.layer_weights for c in scheme.components.filter(subject=Subject.OFFICIAL)]
        assert {sum(w[layer] for w in layers) for layer in ("head", "member", "other")} == {100}

    # Leaves are level 4 with rules the engine accepts; every rule type is used.
    leaves = IndicatorNode.objects.exclude(rule_type="")
    assert set(leaves.values_list("level", flat=True)) == {4}
    assert not IndicatorNode.objects.filter(level=4, rule_type="").exists()
    for leaf in leaves:
        validate_rule_params(leaf.rule_type, leaf.rule_params, indicator=leaf.name)
    for scheme in Scheme.objects.all():
        assert set(scheme.indicators.exclude(rule_type="").values_list("rule_type", flat=True)) == set(
            INDICATOR_RULES
        )
    gdp = IndicatorNode.objects.filter(name="地区生产总值").first()
    assert gdp is not None and gdp.lead_unit is not None and gdp.lead_unit.name == "市统计局"
    assert IndicatorNode.objects.filter(kind=IndicatorKind.DYNAMIC).exists()
    assert IndicatorNode.objects.filter(is_long_term=True).exists()

    # The "3+3+3" library.
    kinds = Counter(LibraryEntry.objects.values_list("kind", flat=True))
    assert kinds == {"basic": 3, "regional": 9, "position": 9}
    assert ctx.timings["registry"] < 30
