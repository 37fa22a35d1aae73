from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import AuditAction, AuditLog, Role
from jixiao.facts.models import Adjustment, EvaluationScore, IndicatorResult, VoteCount
from jixiao.organisation.models import Layer
from jixiao.organisation.tests.factories import CategoryFactory, OfficialFactory, UnitFactory, UserFactory
from jixiao.results.models import EntityResult, RunDetail, ScoringRun
from jixiao.results.selectors import entity_explanation
from jixiao.results.services import cycle_bundle, run_compute
from jixiao.schemes.models import (
    Component,
    ComponentSource,
    GradeLevel,
    GradingPolicy,
    GradingRule,
    RaterGroup,
    Subject,
)
from jixiao.schemes.tests.factories import CycleFactory, IndicatorFactory, SchemeFactory
from jixiao.scoring.bundle import canonical_json, compute_bundle

pytestmark = pytest.mark.django_db


def _levels(policy: GradingPolicy, levels: list[tuple[str, str | None]]) -> None:
    for order, (label, quota) in enumerate(levels, start=1):
        GradeLevel.objects.create(
            policy=policy, code=f"l{order}", label=label, order=order,
            quota_percent=None if quota is None else Decimal(quota),
        )  # fmt: skip


@pytest.fixture
def cycle_with_facts() -> dict[str, object]:
    """Twenty units in one category, two components (indicators 80, ratings 20), officials."""
    cycle = CycleFactory(year=2025)
    RaterGroup.objects.create(cycle=cycle, code="public", name="群众", min_ballots=1)
    category = CategoryFactory(code="dept")
    scheme = SchemeFactory(cycle=cycle, category=category)
    annual = Component.objects.create(scheme=scheme, code="annual", name="年度实绩", weight=Decimal("80"))
    Component.objects.create(
        scheme=scheme, code="public", name="社会公认度", weight=Decimal("20"),
        source=ComponentSource.RATINGS, group_weights={"public": 100},
    )  # fmt: skip
    Component.objects.create(
        scheme=scheme, code="duty", name="履职", weight=Decimal("100"), subject=Subject.OFFICIAL,
        source=ComponentSource.TEAM,
    )  # fmt: skip
    team_policy = GradingPolicy.objects.create(scheme=scheme, subject=Subject.TEAM)
    _levels(team_policy, [("一等", "15"), ("二等", None), ("三等", "5")])
    official_policy = GradingPolicy.objects.create(scheme=scheme, subject=Subject.OFFICIAL)
    _levels(official_policy, [("优秀", "15"), ("称职", None), ("基本称职", "4"), ("不称职", "1")])
    GradingRule.objects.create(
        policy=official_policy, rule_type="negative_votes",
        params={"more_than": "1/3", "labels": ["基本称职", "不称职"], "grade": "基本称职"},
    )  # fmt: skip
    leaf = IndicatorFactory(component=annual, rule_type="completion", rule_params={"cap": 1.0})
    units = [UnitFactory(category=category, code=f"D{i:02d}") for i in range(20)]
    for i, unit in enumerate(units):
        IndicatorResult.objects.create(cycle=cycle, unit=unit, indicator=leaf, value=50 + i, target=100)
        EvaluationScore.objects.create(cycle=cycle, unit=unit, rater_group="public", item="overall", score=80)
    heads = [OfficialFactory(unit=u, layer=Layer.HEAD) for u in units[:3]]
    VoteCount.objects.create(cycle=cycle, official=heads[0], excellent=5, competent=5, basic=6, incompetent=1)
    return {"cycle": cycle, "units": units, "heads": heads, "leaf": leaf}


def test_run_grades_a_twenty_unit_category_15_80_5(cycle_with_facts: dict) -> None:
    run = run_compute(cycle=cycle_with_facts["cycle"], actor=None)
    teams = list(EntityResult.objects.filter(run=run, subject="unit").order_by("rank"))
    assert [r.grade for r in teams].count("一等") == 3
    assert [r.grade for r in teams].count("三等") == 1
    best = teams[0]
    assert best.unit == cycle_with_facts["units"][-1]
    # 69/100 of 80 points + 80 of 20 points
    assert best.total == pytest.approx(0.69 * 80 + 80 * 0.2)
    assert best.explanation["indicators"][0]["rule"] == "completion"


def test_official_with_over_a_third_negative_votes_is_basically_competent(cycle_with_facts: dict) -> None:
    run = run_compute(cycle=cycle_with_facts["cycle"], actor=None)
    head = cycle_with_facts["heads"][0]
    result = EntityResult.objects.get(run=run, official=head)
    assert result.grade == "基本称职"
    assert result.explanation["grade"]["decision"]["code"].endswith("vote_share")


def test_a_new_run_never_overwrites_an_earlier_one(cycle_with_facts: dict) -> None:
    first = run_compute(cycle=cycle_with_facts["cycle"], actor=None)
    Adjustment.objects.create(
        cycle=cycle_with_facts["cycle"], unit=cycle_with_facts["units"][-1], kind="deduction", points=30,
        source="督查", reason="未按期完成",
    )  # fmt: skip
    second = run_compute(cycle=cycle_with_facts["cycle"], actor=None)
    assert (first.number, second.number) == (1, 2)
    assert first.output_digest != second.output_digest
    assert EntityResult.objects.filter(run=first).count() == EntityResult.objects.filter(run=second).count()
    before = EntityResult.objects.get(run=first, unit=cycle_with_facts["units"][-1], subject="unit")
    after = EntityResult.objects.get(run=second, unit=cycle_with_facts["units"][-1], subject="unit")
    assert after.total < before.total
    # The earlier run keeps its own detail: its explanations still show no deduction.
    assert first.detail.entities != second.detail.entities
    assert before.explanation["adjustments"] == []
    assert [a["kind"] for a in after.explanation["adjustments"]] == ["deduction"]
    assert before.explanation["total"] == before.total and after.explanation["total"] == after.total


def test_exported_bundle_recomputes_the_stored_run_bit_for_bit(
    cycle_with_facts: dict, tmp_path: Path
) -> None:
    cycle = cycle_with_facts["cycle"]
    run = run_compute(cycle=cycle, actor=None)
    bundle_file, out_file = tmp_path / "cycle.json", tmp_path / "results.json"
    call_command("export_bundle", cycle=cycle.year, out=bundle_file)
    call_command("compute", bundle=bundle_file, out=out_file)
    recomputed = json.loads(out_file.read_bytes())
    assert recomputed["bundle_digest"] == run.input_digest
    assert recomputed["results_digest"] == run.output_digest
    assert out_file.read_bytes() == canonical_json(compute_bundle(cycle_bundle(cycle)))
    assert AuditLog.objects.filter(action=AuditAction.EXPORT, object_type="schemes.cycle").exists()


def test_compute_command_stores_a_run(cycle_with_facts: dict) -> None:
    call_command("compute", cycle=2025)
    assert ScoringRun.objects.get().entity_count == 23


def test_ranking_is_for_the_office_and_liaison_sees_only_their_unit(
    cycle_with_facts: dict, client: Client
) -> None:
    run = run_compute(cycle=cycle_with_facts["cycle"], actor=None)
    client.force_login(UserFactory(role=Role.OFFICE))
    response = client.get(reverse("results:ranking"), {"run": run.pk})
    assert response.status_code == 200
    assert len(response.context["table"]) == 20
    mine = cycle_with_facts["units"][0]
    client.force_login(UserFactory(role=Role.LIAISON, unit=mine))
    response = client.get(reverse("results:ranking"), {"run": run.pk})
    assert {r.unit_id for r in response.context["results"]} == {mine.pk}
    other = EntityResult.objects.get(run=run, subject="unit", unit=cycle_with_facts["units"][1])
    assert client.get(reverse("results:breakdown", args=[other.pk])).status_code == 404
    own = EntityResult.objects.get(run=run, subject="unit", unit=mine)
    assert client.get(reverse("results:breakdown", args=[own.pk])).status_code == 200
    assert client.get(reverse("results:compare"), {"old": run.pk, "new": run.pk}).status_code == 403


def test_results_export_is_a_real_workbook_and_is_audited(cycle_with_facts: dict, client: Client) -> None:
    from python_calamine import load_workbook

    run = run_compute(cycle=cycle_with_facts["cycle"], actor=None)
    client.force_login(UserFactory(role=Role.AUDITOR))
    response = client.get(reverse("results:export"), {"run": run.pk})
    assert response.status_code == 200
    import io

    rows = load_workbook(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
    assert len(rows) == 1 + 23
    assert AuditLog.objects.filter(action=AuditAction.EXPORT, object_type="results.scoringrun").exists()


def test_facts_about_a_unit_that_is_not_assessed_are_ignored(cycle_with_facts: dict) -> None:
    cycle = cycle_with_facts["cycle"]
    outsider = UnitFactory(is_active=False, category=cycle_with_facts["units"][0].category)
    EvaluationScore.objects.create(cycle=cycle, unit=outsider, rater_group="public", item="overall", score=10)
    run = run_compute(cycle=cycle, actor=None)
    assert not EntityResult.objects.filter(run=run, unit=outsider).exists()
    assert run.entity_count == 23


def _expected_explanations(cycle: object) -> dict[str, dict]:
    """The bundle path's explanations (``explain`` of every entity) with the indicator names."""
    bundle = cycle_bundle(cycle)  # type: ignore[arg-type]
    out = json.loads(canonical_json(compute_bundle(bundle)))
    names = {n["code"]: n["name"] for c in bundle["scheme"]["categories"] for n in c.get("indicators", [])}
    for expected in out["explanations"].values():
        for indicator in expected["indicators"]:
            indicator["name"] = names[indicator["indicator"]]
    return out["explanations"]  # type: ignore[no-any-return]


def test_stored_rows_equal_the_bundle_results_with_indicator_names(cycle_with_facts: dict) -> None:
    """The fast path (frames, lean rows by COPY, explanations on demand) gives what the bundle
    path computes."""
    cycle = cycle_with_facts["cycle"]
    run = run_compute(cycle=cycle, actor=None)
    explanations = _expected_explanations(cycle)
    stored = {r.entity_key: r for r in EntityResult.objects.filter(run=run).select_related("run")}
    assert set(stored) == set(explanations)
    for entity, expected in explanations.items():
        row = stored[entity]
        assert row.stored_explanation == {}  # not stored any more: rebuilt from the run's detail
        assert entity_explanation(row) == expected
        assert row.explanation == expected
        assert row.total == expected["total"] and row.rank == expected["rank"]["rank"]
        assert row.grade == (expected["grade"]["label"] or "") and row.flags == expected["flags"]
        assert row.components == {c["component"]: c["score"] for c in expected["components"]}


def test_breakdown_page_shows_the_explanation_of_the_bundle_path(
    cycle_with_facts: dict, client: Client
) -> None:
    cycle = cycle_with_facts["cycle"]
    run = run_compute(cycle=cycle, actor=None)
    explanations = _expected_explanations(cycle)
    detail = RunDetail.objects.get(run=run)
    assert detail.scheme == cycle_bundle(cycle)["scheme"] and detail.decisions
    client.force_login(UserFactory(role=Role.OFFICE))
    head = cycle_with_facts["heads"][0]
    for result in (
        EntityResult.objects.get(run=run, official=head),
        EntityResult.objects.get(run=run, subject="unit", unit=cycle_with_facts["units"][-1]),
    ):
        response = client.get(reverse("results:breakdown", args=[result.pk]))
        assert response.status_code == 200
        assert response.context["x"] == explanations[result.entity_key]
    assert (
        "基本称职及不称职票 7 张，占 17 张的比例超过 1/3，直接确定为基本称职"
        in client.get(
            reverse("results:breakdown", args=[EntityResult.objects.get(run=run, official=head).pk])
        ).content.decode()
    )


def test_an_old_run_with_stored_explanations_still_renders(cycle_with_facts: dict, client: Client) -> None:
    """Runs stored before RunDetail kept every explanation in ``EntityResult.explanation``."""
    run = run_compute(cycle=cycle_with_facts["cycle"], actor=None)
    result = EntityResult.objects.get(run=run, subject="unit", unit=cycle_with_facts["units"][-1])
    explanation = _expected_explanations(cycle_with_facts["cycle"])[result.entity_key]
    RunDetail.objects.filter(run=run).delete()
    EntityResult.objects.filter(pk=result.pk).update(stored_explanation=explanation)
    client.force_login(UserFactory(role=Role.OFFICE))
    response = client.get(reverse("results:breakdown", args=[result.pk]))
    assert response.status_code == 200
    assert response.context["x"] == explanation
    assert explanation["indicators"][0]["name"] in response.content.decode()


def test_comparing_runs_with_junk_ids_is_a_404_not_a_500(client: Client) -> None:
    client.force_login(UserFactory(role=Role.OFFICE))
    assert client.get(reverse("results:compare"), {"old": "abc", "new": "1"}).status_code == 404
