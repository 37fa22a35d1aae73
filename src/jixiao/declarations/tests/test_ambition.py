"""The ambition check flags targets set below last year's actual or the higher-level target,
reading "below" as "above" for lower-is-better rules, and computes the growth asked."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from jixiao.declarations.ambition import check, check_indicator, flagged_uids, growth_percent


def _item(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "uid": "u1",
        "name": "规上工业增加值增速",
        "measure": "%",
        "target": "8.5000",
        "last_year_actual": "7.9000",
        "last_year_target": "8.0000",
        "higher_target": "8.0000",
        "rule_params": {"cap": 1.2},
    }
    return {**base, **kw}


def test_a_target_above_last_year_and_the_higher_target_is_not_flagged_and_shows_its_growth() -> None:
    row = check_indicator(_item())
    assert not row.flagged
    assert row.growth_percent == Decimal("7.6")
    assert row.last_year_target == Decimal("8")


def test_a_target_below_last_years_actual_is_flagged() -> None:
    row = check_indicator(_item(target="7.0000", higher_target=None))
    assert row.below_last_actual and not row.below_higher and row.flagged
    assert row.reasons == ["目标低于上年实际"]


def test_a_target_below_the_province_target_is_flagged_even_above_last_year() -> None:
    row = check_indicator(_item(target="8.2", higher_target="9"))
    assert row.below_higher and not row.below_last_actual


def test_lower_is_better_flags_a_target_above_last_years_actual() -> None:
    accidents = _item(
        target="12", last_year_actual="10", higher_target="11", rule_params={"lower_is_better": True}
    )
    row = check_indicator(accidents)
    assert row.below_last_actual and row.below_higher
    assert row.reasons == ["目标劣于上年实际", "目标劣于上级下达目标"]
    assert not check_indicator({**accidents, "target": "9"}).flagged


def test_missing_figures_raise_no_flag_and_no_growth() -> None:
    row = check_indicator(_item(target=None))
    assert not row.flagged and row.growth_percent is None
    assert growth_percent(Decimal("5"), Decimal("0")) is None
    assert not check_indicator(_item(last_year_actual=None, higher_target="")).flagged


def test_flagged_uids_lists_only_the_flagged_targets() -> None:
    snapshot = [_item(uid="a"), _item(uid="b", target="1")]
    assert flagged_uids(snapshot) == {"b"}
    assert [r.uid for r in check(snapshot)] == ["a", "b"]
