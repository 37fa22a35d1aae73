"""The adapter's bundle version 2: function zones and zone weights, routine components fed by the
monthly grades, the low-ambition rule, and each unit's published declared leaves with their
annual values — and an exported bundle still recomputes a stored run bit for bit."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from django.core.management import call_command

from jixiao.declarations.models import Declaration, DeclarationStatus, DeclarationVersion, DeclaredIndicator
from jixiao.declarations.snapshot import snapshot_of
from jixiao.facts.models import IndicatorResult
from jixiao.ledger.verify import ledger_verify
from jixiao.organisation.tests.factories import CategoryFactory, FunctionZoneFactory, UnitFactory
from jixiao.results import engine_io
from jixiao.results.models import EntityResult
from jixiao.results.preflight import preflight
from jixiao.results.services import cycle_bundle, run_compute
from jixiao.schemes.models import (
    DEFAULT_GRADE_POINTS,
    Component,
    ComponentSource,
    CycleStage,
    CycleStatus,
    GradeLevel,
    GradingPolicy,
    GradingRule,
    Subject,
    ZoneWeight,
)
from jixiao.schemes.tests.factories import CycleFactory, IndicatorFactory, SchemeFactory
from jixiao.tracking.models import ProgressReport, ReportStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def year() -> dict[str, object]:
    """Six counties (three in an ecological zone) with published targets under a framework of
    经济发展 60 (财政收入: the units' own targets) and 生态保护 40 (the office's leaf), zone weights
    40/60 for the ecological zone, a routine component fed by monthly grades and a low-ambition rule."""
    cycle = CycleFactory(year=2026, status=CycleStatus.OPEN, stage=CycleStage.TRACKING)
    category = CategoryFactory(code="county")
    scheme = SchemeFactory(cycle=cycle, category=category)
    annual = Component.objects.create(scheme=scheme, code="annual", name="年度实绩", weight=Decimal("70"))
    Component.objects.create(
        scheme=scheme, code="routine", name="平时实绩", weight=Decimal("30"), source=ComponentSource.ROUTINE,
        grade_points=dict(DEFAULT_GRADE_POINTS),
    )  # fmt: skip
    policy = GradingPolicy.objects.create(scheme=scheme, subject=Subject.TEAM)
    for order, (label, quota) in enumerate(
        [("优秀", Decimal("20")), ("良好", None), ("一般", Decimal("10"))], start=1
    ):
        GradeLevel.objects.create(
            policy=policy, code=f"g{order}", label=label, order=order, quota_percent=quota
        )
    GradingRule.objects.create(
        policy=policy, rule_type="low_ambition", params={"min_count": 1, "grade": "良好"}
    )
    economy = IndicatorFactory(scheme=scheme, component=annual, name="经济发展", weight=Decimal("60"))
    finance = IndicatorFactory(
        scheme=scheme, component=annual, parent=economy, name="财政收入", weight=Decimal("100")
    )
    ecology = IndicatorFactory(
        scheme=scheme, component=annual, name="生态保护", weight=Decimal("40"), rule_type="completion",
        rule_params={"cap": 1.0},
    )  # fmt: skip
    eco, ind = (
        FunctionZoneFactory(code="eco", name="生态保护区"),
        FunctionZoneFactory(code="ind", name="工业区"),
    )
    ZoneWeight.objects.create(node=economy, zone=eco, weight=Decimal("40"))
    ZoneWeight.objects.create(node=ecology, zone=eco, weight=Decimal("60"))
    units = [
        UnitFactory(category=category, code=f"C{i}", function_zone=eco if i < 3 else ind) for i in range(6)
    ]
    leaves: list[DeclaredIndicator] = []
    grades = ["completed", "on_schedule", "behind"]
    for i, unit in enumerate(units):
        declaration = Declaration.objects.create(cycle=cycle, unit=unit, version=1, published_version=1)
        tax = DeclaredIndicator.objects.create(
            declaration=declaration, parent=finance, name="税收收入", rule_type="completion",
            rule_params={"cap": 1.2}, weight=Decimal("50"), target=Decimal("100"), low_ambition=i == 0,
        )  # fmt: skip
        jobs = DeclaredIndicator.objects.create(
            declaration=declaration, parent=finance, name="新增就业", rule_type="completion",
            rule_params={"cap": 1.0}, weight=Decimal("50"), target=Decimal("50"),
        )  # fmt: skip
        leaves += [tax, jobs]
        IndicatorResult.objects.create(cycle=cycle, unit=unit, declared=tax, value=80 + 5 * i, target=100)
        IndicatorResult.objects.create(cycle=cycle, unit=unit, declared=jobs, value=30 + 3 * i, target=50)
        IndicatorResult.objects.create(
            cycle=cycle, unit=unit, indicator=ecology, value=60 + 6 * i, target=100
        )
        for month in (1, 2):
            ProgressReport.objects.create(
                indicator=tax, period=date(2026, month, 1), status=ReportStatus.GRADED,
                grade=grades[(i + month) % 3],
            )  # fmt: skip
        ProgressReport.objects.create(indicator=jobs, period=date(2026, 3, 1), status=ReportStatus.SUBMITTED)
    return {"cycle": cycle, "scheme": scheme, "units": units, "economy": economy, "finance": finance,
            "ecology": ecology, "leaves": leaves}  # fmt: skip


def _category(year: dict[str, object]) -> dict[str, object]:
    raw = engine_io.scheme_dict(year["cycle"])  # type: ignore[arg-type]
    category: dict[str, object] = next(c for c in raw["categories"] if c["code"] == "county")
    return category


def test_scheme_dict_gives_zone_weights_routine_points_and_the_low_ambition_rule(
    year: dict[str, object],
) -> None:
    category = _category(year)
    economy, ecology, finance = year["economy"], year["ecology"], year["finance"]
    assert category["zone_weights"] == {"eco": {f"I{economy.pk}": 40, f"I{ecology.pk}": 60}}  # type: ignore[attr-defined]
    routine = next(c for c in category["components"] if c["code"] == "routine")  # type: ignore[attr-defined]
    assert routine == {"code": "routine", "source": "routine", "weight": 30,
                       "grade_points": {"behind": 60, "completed": 100, "on_schedule": 90}}  # fmt: skip
    assert category["grading"]["hard_rules"] == [{"type": "low_ambition", "min_count": 1, "grade": "良好"}]  # type: ignore[index]
    nodes = {n["code"]: n for n in category["indicators"]}  # type: ignore[attr-defined]
    slot = nodes[f"I{finance.pk}"]  # type: ignore[attr-defined]
    assert "rule" not in slot and "component" not in slot  # the units' own targets fill it
    assert nodes[f"I{ecology.pk}"]["rule"] == {"type": "completion", "params": {"cap": 1.0}}  # type: ignore[attr-defined]


def test_units_carry_their_function_zone_code(year: dict[str, object]) -> None:
    raw = engine_io.scheme_dict(year["cycle"])  # type: ignore[arg-type]
    units, _officials = engine_io.load_entities(year["cycle"], raw)  # type: ignore[arg-type]
    assert units.zone.tolist() == ["eco", "eco", "eco", "ind", "ind", "ind"]


def test_load_declared_gives_each_units_published_leaves_with_canonical_params(
    year: dict[str, object],
) -> None:
    cycle, units = year["cycle"], year["units"]
    draft_unit = UnitFactory(category=units[0].category)  # type: ignore[index]
    draft = Declaration.objects.create(cycle=cycle, unit=draft_unit)
    DeclaredIndicator.objects.create(
        declaration=draft,
        parent=year["finance"],
        name="未公布",
        rule_type="completion",
        weight=Decimal("100"),
    )
    frame = engine_io.load_declared(cycle)  # type: ignore[arg-type]
    leaves = year["leaves"]
    first = leaves[0]  # type: ignore[index]
    assert frame.height == 12
    # Rows come in code order (D100 before D94): pick the first leaf's by its code.
    row = frame.filter(pl.col("code") == f"D{first.pk}").row(0)  # type: ignore[attr-defined]
    assert row == (f"U{units[0].pk}", f"D{first.pk}", f"I{year['finance'].pk}", 50.0, "annual",  # type: ignore[attr-defined, index]
                   "completion", '{"cap":1.2}', True)  # fmt: skip
    assert frame.get_column("low_ambition").sum() == 1
    assert f"U{draft_unit.pk}" not in frame.get_column("entity").to_list()


def test_a_level_four_target_hangs_under_the_units_level_three_target(year: dict[str, object]) -> None:
    tax = year["leaves"][0]  # type: ignore[index]
    level4 = DeclaredIndicator.objects.create(
        declaration=tax.declaration, parent=tax.parent, under=tax, name="个税", rule_type="completion", weight=Decimal("100")
    )  # fmt: skip
    frame = engine_io.load_declared(year["cycle"]).filter(pl.col("code") == f"D{level4.pk}")  # type: ignore[arg-type]
    assert frame.get_column("parent").to_list() == [f"D{tax.pk}"]


def test_inactive_units_leaves_are_dropped_when_the_assessed_units_are_given(year: dict[str, object]) -> None:
    units = year["units"]
    units[5].is_active = False  # type: ignore[index]
    units[5].save()  # type: ignore[index]
    raw = engine_io.scheme_dict(year["cycle"])  # type: ignore[arg-type]
    assessed, _officials = engine_io.load_entities(year["cycle"], raw)  # type: ignore[arg-type]
    frame = engine_io.load_declared(year["cycle"], assessed)  # type: ignore[arg-type]
    assert f"U{units[5].pk}" not in frame.get_column("entity").to_list()  # type: ignore[index]
    assert frame.height == 10


def test_routine_facts_are_the_graded_monthly_reports(year: dict[str, object]) -> None:
    frame = engine_io.load_routine(year["cycle"])  # type: ignore[arg-type]
    assert frame.height == 12  # two graded months per unit; the submitted March reports are not graded
    assert sorted(set(frame.get_column("period").to_list())) == ["2026-01", "2026-02"]
    assert set(frame.get_column("grade").to_list()) == {"completed", "on_schedule", "behind"}
    _scheme, _units, _officials, facts = engine_io.load_cycle_input(year["cycle"])  # type: ignore[arg-type]
    assert facts.routine.height == 12


def test_declared_values_reach_the_indicator_results_as_d_leaves(year: dict[str, object]) -> None:
    _scheme, _units, _officials, facts = engine_io.load_cycle_input(year["cycle"])  # type: ignore[arg-type]
    indicators = set(facts.indicator_results.get_column("indicator").to_list())
    assert {f"D{d.pk}" for d in year["leaves"]} <= indicators  # type: ignore[attr-defined]
    assert f"I{year['ecology'].pk}" in indicators  # type: ignore[attr-defined]


def test_the_bundle_is_version_2_with_zones_routine_and_declared(year: dict[str, object]) -> None:
    bundle = cycle_bundle(year["cycle"])  # type: ignore[arg-type]
    assert bundle["version"] == 2
    assert bundle["units"]["zone"] == ["eco", "eco", "eco", "ind", "ind", "ind"]
    assert len(bundle["declared"]["code"]) == 12
    assert len(bundle["facts"]["routine"]["grade"]) == 12


def test_export_then_compute_reproduces_a_run_with_declared_leaves_and_zones(
    year: dict[str, object], tmp_path: Path
) -> None:
    cycle = year["cycle"]
    run = run_compute(cycle=cycle, actor=None)  # type: ignore[arg-type]
    bundle_file, out_file = tmp_path / "cycle.json", tmp_path / "results.json"
    call_command("export_bundle", cycle=2026, out=bundle_file)
    call_command("compute", bundle=bundle_file, out=out_file)
    recomputed = json.loads(out_file.read_bytes())
    assert recomputed["bundle_digest"] == run.input_digest
    assert recomputed["results_digest"] == run.output_digest
    assert run.entity_count == 6
    rows = {r.unit_id: r for r in EntityResult.objects.filter(run=run, subject="unit")}
    units = year["units"]
    assert len({rows[u.pk].total for u in units}) == 6  # type: ignore[attr-defined]
    assert all(rows[u.pk].components["routine"] > 0 for u in units)  # type: ignore[attr-defined]
    best = max(units, key=lambda u: rows[u.pk].total)  # type: ignore[attr-defined, arg-type]
    assert rows[best.pk].grade == "优秀"
    report = ledger_verify(recompute=True)
    assert report.ok, report.problems


def test_a_target_approved_although_too_low_caps_the_units_grade(year: dict[str, object]) -> None:
    cycle = year["cycle"]
    first = run_compute(cycle=cycle, actor=None)  # type: ignore[arg-type]
    best = EntityResult.objects.filter(run=first, subject="unit").order_by("rank").first()
    assert best is not None and best.grade == "优秀"
    DeclaredIndicator.objects.filter(declaration__unit_id=best.unit_id).update(low_ambition=True)
    second = run_compute(cycle=cycle, actor=None)  # type: ignore[arg-type]
    assert EntityResult.objects.get(run=second, unit_id=best.unit_id, subject="unit").grade == "良好"


def _publish(declaration: Declaration) -> None:
    """Freeze the working copy as the next version and publish it (as review + publication do)."""
    declaration.version += 1
    DeclarationVersion.objects.create(
        declaration=declaration, number=declaration.version, snapshot=snapshot_of(declaration)
    )
    declaration.published_version = declaration.version
    declaration.status = DeclarationStatus.PUBLISHED
    declaration.save()


def _assert_one_extraction_agrees(cycle: object) -> None:
    """load_run_input (every table in one extraction, the framework slots taken from the leaves
    it read) gives what the separate readers give."""
    run_input = engine_io.load_run_input(cycle)  # type: ignore[arg-type]
    assert run_input.scheme == engine_io.scheme_dict(cycle)  # type: ignore[arg-type]
    # The run's entity keys are an Enum of the assessed ids; the separate reader gives text.
    declared = run_input.declared.with_columns(pl.col("entity").cast(pl.String))
    assert declared.equals(engine_io.load_declared(cycle, run_input.units))  # type: ignore[arg-type]


def _unit_total(run: object, unit: object) -> object:
    return EntityResult.objects.get(run=run, unit=unit, subject="unit").total


def test_a_pending_change_does_not_move_the_score_until_it_is_republished(
    year: dict[str, object], tmp_path: Path
) -> None:
    cycle, unit = year["cycle"], year["units"][0]  # type: ignore[index]
    tax, jobs = year["leaves"][0], year["leaves"][1]  # type: ignore[index]
    declaration = tax.declaration  # type: ignore[attr-defined]
    declaration.version = 0
    _publish(declaration)
    before = engine_io.load_declared(cycle)  # type: ignore[arg-type]
    _assert_one_extraction_agrees(cycle)
    first = run_compute(cycle=cycle, actor=None)  # type: ignore[arg-type]
    # A change request: the working copy moves weight from 新增就业 to 税收收入.
    declaration.status = DeclarationStatus.CHANGING
    declaration.save()
    DeclaredIndicator.objects.filter(pk=tax.pk).update(weight=Decimal("90"))  # type: ignore[attr-defined]
    DeclaredIndicator.objects.filter(pk=jobs.pk).update(weight=Decimal("10"))  # type: ignore[attr-defined]
    assert engine_io.load_declared(cycle).equals(before)  # type: ignore[arg-type]
    second = run_compute(cycle=cycle, actor=None)  # type: ignore[arg-type]
    assert _unit_total(second, unit) == _unit_total(first, unit)
    bundle_file, out_file = tmp_path / "cycle.json", tmp_path / "results.json"
    call_command("export_bundle", cycle=2026, out=bundle_file)
    call_command("compute", bundle=bundle_file, out=out_file)
    recomputed = json.loads(out_file.read_bytes())
    assert recomputed["bundle_digest"] == second.input_digest
    assert recomputed["results_digest"] == second.output_digest
    # The change also drops 新增就业: the published leaf keeps scoring under its uid code.
    jobs_uid = str(jobs.uid)  # type: ignore[attr-defined]
    DeclaredIndicator.objects.filter(pk=jobs.pk).delete()  # type: ignore[attr-defined]
    during = engine_io.load_declared(cycle)  # type: ignore[arg-type]
    _assert_one_extraction_agrees(cycle)
    mine = during.filter(pl.col("entity") == f"U{unit.pk}")  # type: ignore[attr-defined]
    assert dict(zip(mine.get_column("code"), mine.get_column("weight"), strict=True)) == {
        f"D{tax.pk}": 50.0,  # type: ignore[attr-defined]
        engine_io.removed_declared_key(jobs_uid): 50.0,  # the removed leaf still scores
    }
    flags = dict(zip(mine.get_column("code"), mine.get_column("low_ambition"), strict=True))
    assert flags == {f"D{tax.pk}": True, engine_io.removed_declared_key(jobs_uid): False}  # type: ignore[attr-defined]
    assert mine.get_column("code").is_sorted()  # in code order, as the engine reads them
    assert during.height == before.height
    # Submitted again (审核中) still scores the published version; republished, the change counts.
    declaration.status = DeclarationStatus.SUBMITTED
    declaration.save()
    assert engine_io.load_declared(cycle).equals(during)  # type: ignore[arg-type]
    _publish(declaration)
    third = run_compute(cycle=cycle, actor=None)  # type: ignore[arg-type]
    assert _unit_total(third, unit) != _unit_total(first, unit)
    codes = engine_io.load_declared(cycle).filter(pl.col("entity") == f"U{unit.pk}").get_column("code")  # type: ignore[arg-type, attr-defined]
    assert codes.to_list() == [f"D{tax.pk}"]  # type: ignore[attr-defined]


# --- preflight ----------------------------------------------------------------------------------


def test_preflight_does_not_ask_a_rule_of_a_framework_slot(year: dict[str, object]) -> None:
    problems = preflight(year["cycle"], engine=False)  # type: ignore[arg-type]
    assert [p.code for p in problems if p.code == "no_rule"] == []


def test_preflight_warns_about_units_without_published_targets(year: dict[str, object]) -> None:
    late = UnitFactory(category=year["units"][0].category, name="迟报县")  # type: ignore[index]
    Declaration.objects.create(cycle=year["cycle"], unit=late)
    problems = [p for p in preflight(year["cycle"], engine=False) if p.code == "no_declaration"]  # type: ignore[arg-type]
    assert len(problems) == 1 and not problems[0].is_error
    assert "1 个单位尚未公布目标（如 迟报县）" in problems[0].message


def test_zone_weights_change_only_the_scores_of_units_in_that_zone(year: dict[str, object]) -> None:
    cycle, units = year["cycle"], year["units"]
    with_zones = run_compute(cycle=cycle, actor=None)  # type: ignore[arg-type]
    ZoneWeight.objects.all().delete()
    without = run_compute(cycle=cycle, actor=None)  # type: ignore[arg-type]

    def total(run: object, unit: object) -> object:
        return EntityResult.objects.get(run=run, unit=unit, subject="unit").total

    assert total(with_zones, units[0]) != total(without, units[0])  # type: ignore[index]  # 生态保护区
    assert total(with_zones, units[4]) == total(without, units[4])  # type: ignore[index]  # 工业区


def test_preflight_refuses_a_published_target_whose_rule_cannot_work(year: dict[str, object]) -> None:
    leaf = year["leaves"][0]  # type: ignore[index]
    DeclaredIndicator.objects.filter(pk=leaf.pk).update(rule_type="no_such_rule")
    problems = [p for p in preflight(year["cycle"], engine=False) if p.code == "declared_rule"]  # type: ignore[arg-type]
    assert len(problems) == 1 and problems[0].is_error
    assert "“税收收入”" in problems[0].message and "计分规则未设置或不在规则库中" in problems[0].message
