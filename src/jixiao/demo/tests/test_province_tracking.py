"""The province's declared leaves and year of tracking (step ``province_tracking``), at a tiny scale."""

from __future__ import annotations

import io
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Sum

from jixiao.declarations.models import Declaration, DeclarationStatus, DeclaredIndicator
from jixiao.demo.generator import generate
from jixiao.demo.pipeline import SCALES, Context
from jixiao.demo.province_tracking import YEAR
from jixiao.facts.models import IndicatorResult
from jixiao.organisation.models import Unit
from jixiao.schemes.models import IndicatorNode
from jixiao.tracking.models import IndicatorLight, ProgressReport, UnitLight
from jixiao.web.management.commands import generate as generate_command

pytestmark = pytest.mark.django_db

STEPS = ["registry", "library", "schemes", "facts", "province_tracking"]


def test_every_unit_declares_its_category_tree_below_the_framework_with_its_own_targets() -> None:
    generate(scale="tiny", seed=4, steps=STEPS, flags={"declared"})

    declarations = Declaration.objects.filter(cycle__year=YEAR)
    assert declarations.count() == Unit.objects.count()
    assert set(declarations.values_list("status", flat=True)) == {DeclarationStatus.PUBLISHED}
    for declaration in declarations.select_related("unit"):
        tree = IndicatorNode.objects.filter(
            scheme__cycle__year=YEAR, scheme__category=declaration.unit.category
        )
        mine = DeclaredIndicator.objects.filter(declaration=declaration)
        assert mine.filter(under__isnull=True).count() == tree.filter(level=3).count()
        assert mine.filter(under__isnull=False).count() == tree.filter(level=4).count()
    leaves = DeclaredIndicator.objects.filter(declaration__cycle__year=YEAR, under__isnull=False)
    assert not leaves.filter(under__under__isnull=False).exists()  # a leaf hangs under a level-3 row …
    for leaf in leaves.select_related("under", "parent")[:200]:
        assert leaf.parent_id == leaf.under.parent_id and leaf.parent.level == 2  # … of the same node
        assert leaf.uid != leaf.under.uid and leaf.rule_type
    # Weights sum to 100 per framework node (level 3) and per level-3 row (scored leaves).
    level3 = DeclaredIndicator.objects.filter(declaration__cycle__year=YEAR, under__isnull=True)
    for row in level3.values("declaration", "parent").annotate(total=Sum("weight")):
        assert Decimal(row["total"]).quantize(Decimal("0.01")) == Decimal("100.00")
    # Targets are the unit's own, from its result on the same leaf.
    declared = sorted(
        (unit, float(target))
        for unit, target in leaves.filter(rule_type="completion").values_list(
            "declaration__unit_id", "target"
        )
        if target is not None
    )
    results = sorted(
        (unit, target)
        for unit, target in IndicatorResult.objects.filter(
            cycle__year=YEAR, unit__isnull=False, indicator__rule_type="completion"
        ).values_list("unit_id", "target")
        if unit is not None and target is not None
    )
    assert declared and [u for u, _ in declared] == [u for u, _ in results]
    assert [t for _, t in declared] == pytest.approx([t for _, t in results])
    assert not ProgressReport.objects.exists()  # without the tracking flag


def test_with_tracking_every_leaf_has_twelve_graded_reports_and_lights_of_all_colours() -> None:
    generate(scale="tiny", seed=4, steps=STEPS, flags={"declared", "tracking"})

    leaves = DeclaredIndicator.objects.filter(declaration__cycle__year=YEAR, under__isnull=False)
    per_leaf = Counter(ProgressReport.objects.values_list("indicator_id", flat=True))
    assert len(per_leaf) == leaves.count() and set(per_leaf.values()) == {12}
    assert not ProgressReport.objects.filter(grade="").exists()
    december = ProgressReport.objects.filter(period__month=12)
    lights = IndicatorLight.objects.filter(cycle__year=YEAR)
    assert lights.count() == leaves.count()
    assert set(lights.values_list("color", flat=True)) == {"green", "yellow", "red"}
    light = lights.select_related("indicator").first()
    assert light is not None
    assert light.reported_percent == december.get(indicator=light.indicator).progress_percent
    units = UnitLight.objects.filter(cycle__year=YEAR)
    assert units.count() == Unit.objects.count()
    for unit_light in units:
        mine = Counter(lights.filter(unit=unit_light.unit_id).values_list("color", flat=True))
        assert (unit_light.green, unit_light.yellow, unit_light.red) == (
            mine["green"],
            mine["yellow"],
            mine["red"],
        )


def test_generate_passes_the_tracking_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake(**kwargs: Any) -> Context:
        seen.update(kwargs)
        return Context(seed=1, scale=SCALES["tiny"])

    monkeypatch.setattr(generate_command, "generate", fake)
    call_command("generate", "--scale", "province", "--tracking", stdout=io.StringIO())
    assert seen["scale"] == "province" and tuple(seen["flags"]) == ("tracking",)


def test_the_declared_leaves_score_no_rule_that_compares_units_and_the_cycle_computes() -> None:
    generate(scale="tiny", seed=4, steps=STEPS, flags={"declared"})
    from jixiao.results.services import run_compute
    from jixiao.schemes.models import Cycle
    from jixiao.scoring.rules import GROUP_RULES

    leaves = DeclaredIndicator.objects.filter(declaration__cycle__year=YEAR, under__isnull=False)
    assert leaves.exists() and not leaves.filter(rule_type__in=GROUP_RULES).exists()
    assert IndicatorNode.objects.filter(scheme__cycle__year=YEAR, rule_type__in=GROUP_RULES).exists()
    run = run_compute(cycle=Cycle.objects.get(year=YEAR), actor=None, note="test")
    assert run.entity_count > Unit.objects.count()  # every unit and its officials
