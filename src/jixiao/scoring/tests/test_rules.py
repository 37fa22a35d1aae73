"""Indicator rules: each pattern from the national practice, and params that fail loudly."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jixiao.scoring import rules
from jixiao.scoring.errors import FactsError, SchemeError
from jixiao.scoring.rules import LeafFacts, apply_rule, parse_rule


def _rates(rule: dict[str, Any], values: list[float | None], **cols: list[float | None]) -> list[float]:
    _, params = parse_rule("X1", rule)
    n = len(values)

    def arr(xs: list[float | None] | None) -> np.ndarray[Any, np.dtype[np.float64]]:
        return np.array([np.nan if x is None else x for x in (xs or [None] * n)], dtype=np.float64)

    labels = np.array(cols.pop("label", [None] * n), dtype=np.object_)  # type: ignore[arg-type]
    facts = LeafFacts(arr(values), labels, arr(cols.get("target")), arr(cols.get("last_year")))
    return [round(float(x), 12) for x in apply_rule("X1", params, facts).rate]


def test_completion_ratio_is_linear_capped_and_zero_below_the_floor() -> None:
    rule = {"type": "completion", "params": {"target": 100, "cap": 1.1, "floor": 0.5}}
    assert _rates(rule, [80.0, 130.0, 40.0, None]) == [0.8, 1.1, 0.0, 0.0]


def test_completion_lower_is_better_inverts_the_ratio() -> None:
    rule = {"type": "completion", "params": {"target": 10, "lower_is_better": True}}
    assert _rates(rule, [20.0, 5.0]) == [0.5, 1.0]


def test_steps_give_the_rate_of_the_highest_threshold_reached() -> None:
    rule = {"type": "steps", "params": {"steps": [[60, 0.6], [90, 1.0]], "below": 0.2}}
    assert _rates(rule, [95.0, 90.0, 70.0, 10.0]) == [1.0, 1.0, 0.6, 0.2]


def test_threshold_with_linear_deduction_per_point_short() -> None:
    rule = {"type": "threshold_deduction", "params": {"threshold": 80, "per_unit": 0.05}}
    assert _rates(rule, [85.0, 78.0, 50.0]) == [1.0, 0.9, 0.0]


def test_bonus_items_are_capped() -> None:
    rule = {"type": "bonus_deduction", "params": {"base": 0.0, "per_unit": 0.25, "cap": 0.5}}
    assert _rates(rule, [1.0, 5.0]) == [0.25, 0.5]


def test_qualitative_grade_maps_to_a_rate_and_unknown_labels_fail() -> None:
    rule = {"type": "grade_map", "params": {"map": {"很满意": 1.0, "满意": 0.8, "不满意": 0.0}}}
    assert _rates(rule, [None, None], label=["满意", "很满意"]) == [0.8, 1.0]
    with pytest.raises(FactsError, match="indicator X1"):
        _rates(rule, [None], label=["还行"])


def test_rank_points_60_57_54_51_48_then_the_floor_with_shared_places_for_ties() -> None:
    rule = {"type": "rank_points", "params": {"points": [60, 57, 54, 51, 48], "floor": 45}}
    rates = _rates(rule, [10.0, 9.0, 9.0, 7.0, 6.0, 5.0, 1.0])
    assert [round(r * 60, 9) for r in rates] == [60, 57, 57, 51, 48, 45, 45]


def test_proportion_of_the_best_in_the_group() -> None:
    assert _rates({"type": "best_proportion", "params": {}}, [50.0, 100.0, None]) == [0.5, 1.0, 0.0]


def test_year_over_year_improvement_scores_growth_in_percent() -> None:
    rule = {"type": "yoy_improvement", "params": {"base": 0.6, "per_point": 0.04}}
    assert _rates(rule, [110.0, 100.0, 50.0], last_year=[100.0, 100.0, 100.0]) == [1.0, 0.6, 0.0]


def test_tiered_comparison_with_the_group_average() -> None:
    rule = {"type": "vs_average", "params": {"tiers": [[1.1, 1.0], [1.0, 0.8]], "below": 0.5}}
    assert _rates(rule, [120.0, 100.0, 80.0]) == [1.0, 0.8, 0.5]


def test_veto_indicator_flags_a_yes_and_loses_its_points() -> None:
    _, params = parse_rule("V", {"type": "veto", "params": {}})
    facts = LeafFacts(np.array([0.0, 1.0]), np.array([None, None], dtype=np.object_), np.full(2, np.nan),
                      np.full(2, np.nan))  # fmt: skip
    out = apply_rule("V", params, facts)
    assert out.veto.tolist() == [False, True]
    assert out.rate.tolist() == [1.0, 0.0]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"type": "completion", "params": {"cap": -1}}, "'cap' must be ≥ 0"),
        ({"type": "completion", "params": {"capp": 1}}, "unknown parameter"),
        ({"type": "steps", "params": {"steps": []}}, "at least one"),
        ({"type": "rank_points", "params": {"points": "60"}}, "must be a list"),
        ({"type": "magic", "params": {}}, "unknown rule type"),
        ({"type": "grade_map", "params": {"map": {"优": "high"}}}, "finite number"),
    ],
)
def test_bad_rule_params_raise_an_error_naming_the_indicator(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemeError, match=f"indicator A.1.2.*{message}"):
        parse_rule("A.1.2", rule)


def test_completion_without_any_target_fails_naming_the_indicator() -> None:
    with pytest.raises(FactsError, match="indicator X1: a result has no target"):
        _rates({"type": "completion", "params": {}}, [50.0])


_RATE = st.floats(0, 2, allow_nan=False)
_OPT = st.none() | st.floats(0.5, 150, allow_nan=False)
_BATCHED_PARAMS = {
    "completion": st.builds(
        rules.Completion, target=_OPT, cap=_RATE, floor=_RATE, lower_is_better=st.booleans()
    ),
    "threshold": st.builds(
        rules.ThresholdDeduction,
        threshold=_OPT,
        per_unit=_RATE,
        min_rate=_RATE,
        lower_is_better=st.booleans(),
    ),
    "bonus": st.builds(
        rules.BonusDeduction,
        base=_RATE,
        per_unit=st.floats(-1, 1),
        cap=st.none() | _RATE,
        min_rate=_RATE,
        max_rate=st.none() | _RATE,
    ),
    "yoy": st.builds(
        rules.YoyImprovement,
        base=_RATE,
        per_point=st.floats(-0.1, 0.1),
        min_rate=_RATE,
        max_rate=_RATE,
        lower_is_better=st.booleans(),
    ),
    "veto": st.builds(rules.Veto, triggered_rate=_RATE),
}
_FACT = st.none() | st.floats(-20, 150, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(_BATCHED_PARAMS)).flatmap(
    lambda k: st.lists(st.tuples(_BATCHED_PARAMS[k], st.lists(st.tuples(_FACT, _FACT, _FACT), min_size=1,
                                                                    max_size=6)), min_size=1, max_size=5)))  # fmt: skip
def test_batched_rules_equal_leaf_by_leaf_rules_bit_for_bit(groups: list[Any]) -> None:
    def arr(values: list[float | None]) -> np.ndarray[Any, Any]:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

    params = [p for p, _ in groups]
    rows = [(i, f) for i, (_, facts) in enumerate(groups) for f in facts]
    group = np.array([i for i, _ in rows], dtype=np.int64)
    value, target, last = (arr([f[k] for _, f in rows]) for k in range(3))
    labels = np.full(len(rows), None, dtype=np.object_)
    batched = rules.apply_batched(params, group, rules.LeafFacts(value, labels, target, last))
    outs = []
    try:
        for i, p in enumerate(params):
            sel = group == i
            outs.append(
                rules.apply_rule("x", p, rules.LeafFacts(value[sel], labels[sel], target[sel], last[sel]))
            )
    except FactsError:
        assert batched is None  # the caller then applies leaf by leaf and raises there
        return
    assert batched is not None
    for i, out in enumerate(outs):
        sel = group == i
        assert batched.rate[sel].tobytes() == out.rate.tobytes()
        assert batched.veto[sel].tolist() == out.veto.tolist()
