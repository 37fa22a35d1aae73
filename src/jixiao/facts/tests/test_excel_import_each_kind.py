"""Each kind of facts workbook imports: the rows land where the codes say, upserts update."""

from __future__ import annotations

import pytest

from jixiao.facts.excel import FactKind, SheetCounts, facts_import
from jixiao.facts.models import (
    Adjustment,
    AdjustmentKind,
    EvaluationScore,
    IndicatorResult,
    SanctionLevel,
    VoteCount,
)
from jixiao.facts.tests.test_excel_setup import (
    SCORE_HEADERS,
    World,
    adjustments_file,
    build_world,
    results_file,
    scores_file,
    votes_file,
    xlsx,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world()


def test_results_resolve_a_shared_code_through_the_units_category(world: World) -> None:
    result = facts_import(
        actor=world.office,
        cycle=world.cycle,
        kind=FactKind.RESULTS,
        source=results_file(
            ["1.1", "UA1", 95.5, None, 100, 90, "年报"],
            ["1.1", "UB1", "80", None, None, None, None],
            [f"#{world.uncoded.pk}", "UA2", None, "好", None, None, None],
        ),
    )
    assert result.errors == ()
    assert result.counts == (SheetCounts("指标完成情况", 3, 0),)
    a = IndicatorResult.objects.get(indicator=world.leaf, unit=world.ua1)
    assert (a.value, a.target, a.last_year, a.evidence, a.entered_by) == (95.5, 100, 90, "年报", world.office)
    assert a.cycle == world.cycle
    assert IndicatorResult.objects.get(indicator=world.leaf_b, unit=world.ub1).value == 80
    assert IndicatorResult.objects.get(indicator=world.uncoded, unit=world.ua2).grade == "好"


def test_reimporting_results_updates_them_instead_of_adding_rows(world: World) -> None:
    facts_import(
        actor=world.office,
        cycle=world.cycle,
        kind=FactKind.RESULTS,
        source=results_file(["1.1", "UA1", 1, None, None, None, None]),
    )
    result = facts_import(
        actor=world.office,
        cycle=world.cycle,
        kind=FactKind.RESULTS,
        source=results_file(
            ["1.1", "UA1", 2, None, None, None, None], ["1.1", "UA2", 3, None, None, None, None]
        ),
    )
    assert result.counts == (SheetCounts("指标完成情况", 1, 1),)
    assert IndicatorResult.objects.count() == 2
    assert IndicatorResult.objects.get(indicator=world.leaf, unit=world.ua1).value == 2


def test_a_lead_department_imports_the_indicators_it_leads(world: World) -> None:
    result = facts_import(
        actor=world.lead,
        cycle=world.cycle,
        kind=FactKind.RESULTS,
        source=results_file(["1.1", "UA1", 7, None, None, None, None]),
    )
    assert result.ok
    assert IndicatorResult.objects.get().entered_by == world.lead


def test_scores_are_inserted_for_units_and_officials_by_group_code_or_name(world: World) -> None:
    result = facts_import(
        actor=world.office,
        cycle=world.cycle,
        kind=FactKind.SCORES,
        source=scores_file(
            ["单位", "UA1", "public", "overall", 92.5, 120, "第三方调查"],
            ["干部", "G1", "同级", "overall", 88, None, None],
            ["official", "G2", "peers", "integrity", 100, 3, None],
        ),
    )
    assert result.counts == (SheetCounts("测评得分", 3, 0),)
    unit_score = EvaluationScore.objects.get(unit=world.ua1)
    assert (unit_score.rater_group, unit_score.score, unit_score.ballots, unit_score.source) == (
        "public",
        92.5,
        120,
        "第三方调查",
    )
    official_score = EvaluationScore.objects.get(official=world.g1)
    assert (official_score.rater_group, official_score.ballots) == ("peers", 1)


def test_a_survey_file_with_its_own_sheet_name_is_read_when_it_is_the_only_sheet(world: World) -> None:
    source = xlsx({"Sheet1": [SCORE_HEADERS, ["单位", "UA2", "public", "overall", 75, 10, None]]})
    result = facts_import(actor=world.office, cycle=world.cycle, kind=FactKind.SCORES, source=source)
    assert result.ok
    assert EvaluationScore.objects.get().unit == world.ua2


def test_vote_counts_are_upserted_per_official(world: World) -> None:
    facts_import(
        actor=world.office, cycle=world.cycle, kind=FactKind.VOTES, source=votes_file(["G1", 30, 10, 1, 0])
    )
    result = facts_import(
        actor=world.office,
        cycle=world.cycle,
        kind=FactKind.VOTES,
        source=votes_file(["G1", 31, 9, None, 0], ["G2", 5, 5, 5, 5]),
    )
    assert result.counts == (SheetCounts("测评票数", 1, 1),)
    g1 = VoteCount.objects.get(official=world.g1)
    assert (g1.excellent, g1.competent, g1.basic, g1.incompetent) == (31, 9, 0, 0)
    assert VoteCount.objects.count() == 2


def test_adjustments_accept_labels_or_codes_and_follow_the_entry_rules(world: World) -> None:
    result = facts_import(
        actor=world.office,
        cycle=world.cycle,
        kind=FactKind.ADJUSTMENTS,
        source=adjustments_file(
            ["单位", "UA1", "扣分", 0.5, None, None, "annual", "督查督办", "重点工作未按期完成"],
            ["干部", "G1", "sanction", None, "诫勉", None, None, "纪检", "违反规定"],
            ["单位", "UA2", "弄虚作假（该项零分）", None, None, "1.1", None, "审计", "数据造假"],
            ["干部", "G2", "一票否优", None, None, None, None, "纪检", "否优"],
        ),
    )
    assert result.counts == (SheetCounts("加减分与否决", 4, 0),)
    deduction = Adjustment.objects.get(unit=world.ua1)
    assert (deduction.kind, deduction.points, deduction.component, deduction.entered_by) == (
        AdjustmentKind.DEDUCTION,
        0.5,
        "annual",
        world.office,
    )
    assert Adjustment.objects.get(official=world.g1).sanction == SanctionLevel.ADMONISH
    assert Adjustment.objects.get(unit=world.ua2).indicator == world.leaf
    assert Adjustment.objects.get(official=world.g2).kind == AdjustmentKind.VETO_EXCELLENT
    assert all(a.created_at is not None and a.cycle == world.cycle for a in Adjustment.objects.all())
