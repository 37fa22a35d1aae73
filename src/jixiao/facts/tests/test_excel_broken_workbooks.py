"""Each broken facts workbook is reported at the right sheet, Excel row and column, and writes
nothing (not even its valid rows)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest

from jixiao.accounts.models import AuditLog
from jixiao.facts.excel import FactKind, ImportResult, facts_import
from jixiao.facts.models import Adjustment, EvaluationScore, IndicatorResult, VoteCount
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

GOOD_RESULT = ["1.1", "UA2", 50, None, None, None, None]
GOOD_SCORE = ["单位", "UA2", "public", "overall", 80, 1, None]
GOOD_VOTE = ["G2", 1, 1, 1, 1]
GOOD_ADJUSTMENT = ["单位", "UA2", "加分", 1, None, None, None, "督查", "表彰"]

Where = tuple[str, int | None, str]


@pytest.fixture
def world() -> World:
    return build_world()


def run(world: World, kind: FactKind, source: io.BytesIO, actor: Any = None) -> ImportResult:
    return facts_import(actor=actor or world.office, cycle=world.cycle, kind=kind, source=source)


def where(result: ImportResult) -> list[Where]:
    return [(e.sheet, e.row, e.column) for e in result.errors]


def nothing_written() -> bool:
    return not (
        IndicatorResult.objects.exists()
        or EvaluationScore.objects.exists()
        or VoteCount.objects.exists()
        or Adjustment.objects.exists()
        or AuditLog.objects.filter(action="import").exists()
    )


R, S, V, A = "指标完成情况", "测评得分", "测评票数", "加减分与否决"

CASES: dict[str, tuple[FactKind, Callable[[World], io.BytesIO], list[Where]]] = {
    "unknown indicator code": (
        FactKind.RESULTS,
        lambda w: results_file(GOOD_RESULT, ["9.9", "UA1", 1, None, None, None, None]),
        [(R, 3, "指标编号")],
    ),
    "indicator code only in another category's scheme": (
        FactKind.RESULTS,
        lambda w: results_file(GOOD_RESULT, ["1.2", "UB1", 1, None, None, None, None]),
        [(R, 3, "单位代码")],
    ),
    "unit outside the category of the indicator named by pk": (
        FactKind.RESULTS,
        lambda w: results_file(GOOD_RESULT, [f"#{w.leaf.pk}", "UB1", 1, None, None, None, None]),
        [(R, 3, "单位代码")],
    ),
    "a branch, not a leaf": (
        FactKind.RESULTS,
        lambda w: results_file(["1", "UA1", 1, None, None, None, None]),
        [(R, 2, "指标编号")],
    ),
    "unknown unit code": (
        FactKind.RESULTS,
        lambda w: results_file(["1.1", "NOPE", 1, None, None, None, None]),
        [(R, 2, "单位代码")],
    ),
    "a value that is not a number": (
        FactKind.RESULTS,
        lambda w: results_file(GOOD_RESULT, ["1.1", "UA1", "八十", None, None, None, None]),
        [(R, 3, "实际值")],
    ),
    "the same indicator and unit twice": (
        FactKind.RESULTS,
        lambda w: results_file(GOOD_RESULT, GOOD_RESULT),
        [(R, 3, "指标编号")],
    ),
    "a result row with nothing filled in": (
        FactKind.RESULTS,
        lambda w: results_file(["1.1", "UA1", None, None, None, None, None]),
        [(R, 2, "实际值")],
    ),
    "missing indicator code": (
        FactKind.RESULTS,
        lambda w: results_file([None, "UA1", 1, None, None, None, None]),
        [(R, 2, "指标编号")],
    ),
    "score over 100": (
        FactKind.SCORES,
        lambda w: scores_file(GOOD_SCORE, ["单位", "UA1", "public", "overall", 100.5, 1, None]),
        [(S, 3, "得分")],
    ),
    "negative score": (
        FactKind.SCORES,
        lambda w: scores_file(["单位", "UA1", "public", "overall", -1, 1, None]),
        [(S, 2, "得分")],
    ),
    "missing required item": (
        FactKind.SCORES,
        lambda w: scores_file(GOOD_SCORE, ["单位", "UA1", "public", None, 90, 1, None]),
        [(S, 3, "评价项目")],
    ),
    "unknown rater group": (
        FactKind.SCORES,
        lambda w: scores_file(["单位", "UA1", "students", "overall", 90, 1, None]),
        [(S, 2, "评价主体")],
    ),
    "zero ballots": (
        FactKind.SCORES,
        lambda w: scores_file(["单位", "UA1", "public", "overall", 90, 0, None]),
        [(S, 2, "票数")],
    ),
    "unknown official": (
        FactKind.SCORES,
        lambda w: scores_file(["干部", "G404", "public", "overall", 90, 1, None]),
        [(S, 2, "单位代码/干部工号")],
    ),
    "a unit code given as an official": (
        FactKind.SCORES,
        lambda w: scores_file(["干部", "UA1", "public", "overall", 90, 1, None]),
        [(S, 2, "单位代码/干部工号")],
    ),
    "unknown entity type": (
        FactKind.SCORES,
        lambda w: scores_file(["部门", "UA1", "public", "overall", 90, 1, None]),
        [(S, 2, "对象类型")],
    ),
    "wrong score header": (
        FactKind.SCORES,
        lambda w: xlsx({S: [[*SCORE_HEADERS[:4], "分数", *SCORE_HEADERS[5:]], GOOD_SCORE]}),
        [(S, 1, "分数"), (S, 1, "得分")],
    ),
    "negative votes": (
        FactKind.VOTES,
        lambda w: votes_file(GOOD_VOTE, ["G1", 3, -1, 0, 0]),
        [(V, 3, "称职")],
    ),
    "fractional votes": (
        FactKind.VOTES,
        lambda w: votes_file(["G1", 3.5, 1, 0, 0]),
        [(V, 2, "优秀")],
    ),
    "the same official twice": (
        FactKind.VOTES,
        lambda w: votes_file(GOOD_VOTE, GOOD_VOTE),
        [(V, 3, "干部工号")],
    ),
    "deduction without points": (
        FactKind.ADJUSTMENTS,
        lambda w: adjustments_file(
            GOOD_ADJUSTMENT, ["单位", "UA1", "扣分", None, None, None, None, "督查", "x"]
        ),
        [(A, 3, "分值")],
    ),
    "sanction without its level": (
        FactKind.ADJUSTMENTS,
        lambda w: adjustments_file(["干部", "G1", "处分/问责", None, None, None, None, "纪检", "x"]),
        [(A, 2, "处分类型")],
    ),
    "falsification without an indicator": (
        FactKind.ADJUSTMENTS,
        lambda w: adjustments_file(["单位", "UA1", "falsification", None, None, None, None, "审计", "x"]),
        [(A, 2, "涉及指标编号")],
    ),
    "an indicator outside the entity's scheme": (
        FactKind.ADJUSTMENTS,
        lambda w: adjustments_file(["单位", "UB1", "falsification", None, None, "1.2", None, "审计", "x"]),
        [(A, 2, "涉及指标编号")],
    ),
    "unknown adjustment kind and sanction level": (
        FactKind.ADJUSTMENTS,
        lambda w: adjustments_file(["干部", "G1", "罚款", None, "开除", None, None, "纪检", "x"]),
        [(A, 2, "类型"), (A, 2, "处分类型")],
    ),
    "points that are not a number are reported once": (
        FactKind.ADJUSTMENTS,
        lambda w: adjustments_file(["单位", "UA1", "扣分", "半分", None, None, None, "督查", "x"]),
        [(A, 2, "分值")],
    ),
    "missing reason": (
        FactKind.ADJUSTMENTS,
        lambda w: adjustments_file(["单位", "UA1", "加分", 1, None, None, None, "督查", None]),
        [(A, 2, "事由")],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_broken_workbook_is_reported_where_it_is_wrong_and_nothing_is_written(
    world: World, case: str
) -> None:
    kind, make, expected = CASES[case]
    result = run(world, kind, make(world))
    assert where(result) == expected, [str(e) for e in result.errors]
    assert all(e.message for e in result.errors)
    assert nothing_written()


def test_every_bad_row_is_reported_in_row_order(world: World) -> None:
    result = run(
        world,
        FactKind.SCORES,
        scores_file(
            ["单位", "UA1", "public", "overall", 101, 1, None],
            GOOD_SCORE,
            ["单位", "NOPE", "nobody", None, "x", -2, None],
        ),
    )
    assert where(result) == [
        (S, 2, "得分"),
        (S, 4, "单位代码/干部工号"),
        (S, 4, "评价主体"),
        (S, 4, "评价项目"),
        (S, 4, "得分"),
        (S, 4, "票数"),
    ]
    assert nothing_written()


def test_a_file_that_is_not_an_xlsx_is_one_error_for_the_whole_file(world: World) -> None:
    result = run(world, FactKind.RESULTS, io.BytesIO(b"id,value\n1,2\n"))
    assert where(result) == [("", None, "")]
    assert "xlsx" in result.errors[0].message
    assert nothing_written()


def test_a_workbook_without_the_kinds_sheet_names_the_sheets_it_has(world: World) -> None:
    result = run(world, FactKind.VOTES, xlsx({"甲": [["x"]], "乙": [["y"]]}))
    assert where(result) == [("", None, "")]
    assert "测评票数" in result.errors[0].message and "甲" in result.errors[0].message


def test_another_kinds_file_is_named_as_such(world: World) -> None:
    result = run(world, FactKind.SCORES, votes_file(GOOD_VOTE))
    assert where(result) == [(V, None, "")]
    assert "测评票数" in result.errors[0].message
    assert nothing_written()


def test_a_sheet_with_headers_and_no_rows_is_an_error(world: World) -> None:
    result = run(world, FactKind.VOTES, votes_file())
    assert len(result.errors) == 1
    assert nothing_written()


def test_a_lead_department_cannot_import_an_indicator_it_does_not_lead(world: World) -> None:
    result = run(
        world,
        FactKind.RESULTS,
        results_file(GOOD_RESULT, ["1.2", "UA1", 1, None, None, None, None]),
        actor=world.lead,
    )
    assert where(result) == [(R, 3, "指标编号")]
    assert "牵头" in result.errors[0].message
    assert nothing_written()


def test_the_same_scores_file_twice_is_refused_with_when_it_was_imported(world: World) -> None:
    first = scores_file(GOOD_SCORE)
    assert run(world, FactKind.SCORES, first).ok
    again = run(world, FactKind.SCORES, io.BytesIO(first.getvalue()))
    assert where(again) == [("", None, "")]
    assert "已于" in again.errors[0].message and world.office.username in again.errors[0].message
    assert EvaluationScore.objects.count() == 1
    assert AuditLog.objects.filter(action="import").count() == 1


def test_the_same_scores_file_may_be_imported_into_another_cycle(world: World) -> None:
    from jixiao.schemes.models import RaterGroup
    from jixiao.schemes.tests.factories import CycleFactory

    data = scores_file(GOOD_SCORE).getvalue()
    assert run(world, FactKind.SCORES, io.BytesIO(data)).ok
    other = CycleFactory(year=2026)
    RaterGroup.objects.create(cycle=other, code="public", name="公众")
    assert facts_import(actor=world.office, cycle=other, kind=FactKind.SCORES, source=io.BytesIO(data)).ok
    assert EvaluationScore.objects.count() == 2
