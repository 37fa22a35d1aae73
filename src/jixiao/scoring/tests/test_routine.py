"""Routine results (平时实绩) and the monthly ranking (routine.py) against the plain reference."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jixiao.scoring.errors import FactsError
from jixiao.scoring.reference import reference_period_ranking
from jixiao.scoring.routine import period_ranking
from jixiao.scoring.types import ROUTINE_COLUMNS, Units

POINTS = {"完成": 100.0, "按期": 90.0, "滞后": 60.0}


def _routine(rows: list[tuple[str, str, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"entity": e, "indicator": "D1", "period": p, "grade": g} for e, p, g in rows],
        schema=ROUTINE_COLUMNS,
    )


def _units(pairs: list[tuple[str, str]]) -> Units:
    return Units(
        np.array([u for u, _ in pairs], dtype=np.str_), np.array([c for _, c in pairs], dtype=np.str_)
    )


def test_the_monthly_ranking_ranks_within_each_category_by_the_period_mean() -> None:
    units = _units([("U1", "A"), ("U2", "A"), ("U3", "A"), ("U4", "B")])
    routine = _routine([
        ("U1", "2026-03", "完成"), ("U1", "2026-03", "滞后"),  # 80
        ("U2", "2026-03", "按期"),  # 90
        ("U3", "2026-03", None),  # not graded: not ranked
        ("U3", "2026-02", "完成"),  # another month
        ("U4", "2026-03", "滞后"),
    ])  # fmt: skip
    out = period_ranking(units, routine, POINTS, "2026-03", 2)
    assert out.to_dicts() == [
        {"entity": "U2", "category": "A", "score": 90.0, "reports": 1, "rank": 1, "category_size": 2},
        {"entity": "U1", "category": "A", "score": 80.0, "reports": 2, "rank": 2, "category_size": 2},
        {"entity": "U4", "category": "B", "score": 60.0, "reports": 1, "rank": 1, "category_size": 1},
    ]
    per_category = period_ranking(units, routine, {"B": POINTS}, "2026-03", 2)
    assert per_category["entity"].to_list() == ["U4"]


def test_an_unknown_grade_or_a_bad_period_is_refused() -> None:
    units = _units([("U1", "A")])
    with pytest.raises(FactsError, match="grade"):
        period_ranking(units, _routine([("U1", "2026-03", "优")]), POINTS, "2026-03")
    with pytest.raises(FactsError, match="YYYY-MM"):
        period_ranking(units, _routine([]), POINTS, "2026-3")


@st.composite
def _cases(draw: st.DrawFn) -> tuple[Units, pl.DataFrame, dict[str, Any], int]:
    n = draw(st.integers(1, 8))
    pairs = [(f"U{i}", draw(st.sampled_from(["A", "B"]))) for i in range(n)]
    rows = [
        (draw(st.sampled_from([u for u, _ in pairs] + ["O9"])), draw(st.sampled_from(["2026-01", "2026-02"])),
         draw(st.sampled_from([None, *POINTS])))
        for _ in range(draw(st.integers(0, 25)))
    ]  # fmt: skip
    odd = {"完成": 100.0, "按期": 87.5, "滞后": 33.3}
    points: dict[str, Any] = draw(st.sampled_from([POINTS, odd, {"A": odd, "B": POINTS}, {"A": POINTS}]))
    return _units(pairs), _routine(rows), points, draw(st.sampled_from([0, 2, 6]))


@settings(max_examples=60, deadline=None)
@given(_cases(), st.randoms(use_true_random=False))
def test_period_ranking_equals_the_reference_whatever_the_row_order(case: Any, rnd: Any) -> None:
    units, routine, points, decimals = case
    want = reference_period_ranking(units, routine, points, "2026-02", decimals)
    assert period_ranking(units, routine, points, "2026-02", decimals).to_dicts() == want
    shuffled = (
        routine.sample(fraction=1.0, shuffle=True, seed=rnd.randint(0, 1000)) if routine.height else routine
    )
    assert period_ranking(units, shuffled, points, "2026-02", decimals).to_dicts() == want
    # A span of months (a quarter): the mean of each unit's monthly scores, the reference too.
    span = ["2026-01", "2026-02"]
    assert period_ranking(units, shuffled, points, span, decimals).to_dicts() == reference_period_ranking(
        units, routine, points, span, decimals
    )


def test_a_quarter_ranks_on_the_mean_of_its_monthly_scores_not_of_its_reports() -> None:
    units = _units([("U1", "A"), ("U2", "A")])
    # U1: January one 完成 (100), February three 滞后 (60): months 100 and 60 → 80 (reports: 70).
    # U2: both months 按期 (90) → 90. By reports U1 would be 70; by months it is 80, still second.
    routine = _routine(
        [
            ("U1", "2026-01", "完成"),
            *[("U1", "2026-02", "滞后")] * 3,
            ("U2", "2026-01", "按期"),
            ("U2", "2026-02", "按期"),
        ]
    )
    out = period_ranking(units, routine, POINTS, ["2026-01", "2026-02"], 2).to_dicts()
    assert [(r["entity"], r["score"], r["reports"]) for r in out] == [("U2", 90.0, 2), ("U1", 80.0, 4)]
