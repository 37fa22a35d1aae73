"""Adjustments: supervision deductions, debt, falsification, bonuses — all scheme data."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from jixiao.scoring.engine import compute
from jixiao.scoring.errors import FactsError
from jixiao.scoring.tests.examples import county_category, cycle, scheme_dict

ROWS = [
    {"entity": "U00", "indicator": "county.R", "value": 100.0, "target": 100.0},
    {"entity": "U00", "indicator": "county.A1", "value": 100.0},
    {"entity": "U00", "indicator": "county.A2", "value": 1.0},
    {"entity": "U00", "indicator": "county.B", "label": "优"},
]


def _run(rows: list[dict[str, Any]], **category: Any) -> tuple[dict[str, Any], dict[str, float]]:
    results = compute(cycle(scheme_dict(county_category(**category)), [("U00", "county")], results=ROWS,
                            adjustments=rows))  # fmt: skip
    comps = dict(
        zip(results.components["component"].to_list(), results.components["score"].to_list(), strict=True)
    )
    return results.entities.row(0, named=True), comps


def test_supervision_deduction_is_subtracted_from_the_annual_component() -> None:
    row, comps = _run([{"entity": "U00", "kind": "deduction", "points": 4.0, "source": "督查"}])
    assert comps["annual"] == pytest.approx(96.0)
    assert row["total"] == pytest.approx(20 + 45 * 0.96 + 20)  # public has no ratings


def test_debt_ratio_over_the_limit_costs_two_percent_of_the_score_per_point() -> None:
    row, _ = _run([{"entity": "U00", "kind": "debt", "points": 3.0}])
    assert row["debt_factor"] == pytest.approx(0.94)
    assert row["total"] == pytest.approx(85.0 * 0.94)


def test_debt_rate_is_scheme_data() -> None:
    row, _ = _run([{"entity": "U00", "kind": "debt", "points": 3.0}],
                  adjustments={"debt_rate_per_point": 0.01})  # fmt: skip
    assert row["total"] == pytest.approx(85.0 * 0.97)


def test_falsification_zeroes_the_indicator() -> None:
    _, comps = _run([{"entity": "U00", "kind": "falsification", "indicator": "county.A1"}])
    assert comps["annual"] == pytest.approx(40.0)  # A2 (weight 40 of 100) keeps full marks


def test_bonus_is_capped_by_the_scheme() -> None:
    row, _ = _run([{"entity": "U00", "kind": "bonus", "points": 5.0}], adjustments={"bonus_cap": 2.0})
    assert row["total"] == pytest.approx(87.0)


def test_unknown_sanction_level_fails_naming_the_entity() -> None:
    with pytest.raises(FactsError, match="U00"):
        _run([{"entity": "U00", "kind": "sanction", "level": "scolding"}])


def test_unknown_entity_in_adjustments_fails() -> None:
    with pytest.raises(FactsError, match=r"adjustments\.entity"):
        _run([{"entity": "U99", "kind": "deduction", "points": 1.0}])


def test_component_never_goes_below_zero() -> None:
    _, comps = _run([{"entity": "U00", "kind": "deduction", "points": 500.0}])
    assert comps["annual"] == 0.0
    assert pl.Series([comps["routine"]]).item() == 100.0
