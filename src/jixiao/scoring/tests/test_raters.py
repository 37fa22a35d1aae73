"""Rater groups: trimming, withheld groups, weights renormalised over the groups that rated."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jixiao.scoring.engine import compute
from jixiao.scoring.tests.examples import county_category, cycle, scheme_dict


def _public(rows: list[tuple[str, float]]) -> list[dict[str, Any]]:
    return [{"entity": "U00", "group": g, "item": "overall", "score": s} for g, s in rows]


def _public_score(ratings: list[dict[str, Any]]) -> float:
    results = compute(cycle(scheme_dict(county_category()), [("U00", "county")], ratings=ratings))
    row = results.components.filter(pl.col("component") == "public").row(0, named=True)
    return float(row["score"])


def test_peer_style_trimming_drops_the_highest_and_lowest_five_percent() -> None:
    # 20 public ratings > 5: floor(0.05 × 20) = 1 dropped at each end.
    scores = [0.0] + [80.0] * 18 + [100.0]
    assert _public_score(_public([("public", s) for s in scores])) == pytest.approx(80.0, abs=1e-12)


def test_no_trimming_at_or_below_the_minimum_count() -> None:
    assert _public_score(_public([("public", s) for s in (0.0, 90.0, 90.0, 90.0, 90.0)])) == pytest.approx(
        72.0
    )


def test_group_that_did_not_rate_is_not_zero_weights_renormalise_over_groups_that_rated() -> None:
    # org weighs 20 and rated 90; public (35) rated 60 three times; nobody else rated.
    ratings = _public([("org", 90.0), ("public", 60.0), ("public", 60.0), ("public", 60.0)])
    assert _public_score(ratings) == pytest.approx((20 * 90 + 35 * 60) / 55, abs=1e-12)


def test_group_under_its_minimum_ballots_is_withheld_not_zero() -> None:
    ratings = _public([("org", 90.0), ("public", 10.0), ("public", 10.0)])  # public needs 3 ballots
    assert _public_score(ratings) == pytest.approx(90.0)
    results = compute(cycle(scheme_dict(county_category()), [("U00", "county")], ratings=ratings))
    status = dict(zip(results.raters["group"].to_list(), results.raters["status"].to_list(), strict=True))
    assert status == {"org": "used", "public": "withheld"}


def test_scores_with_many_decimals_take_the_exact_fallback_path() -> None:
    ratings = _public([("org", 1 / 3), ("org", 2 / 3)])
    assert _public_score(ratings) == pytest.approx(0.5, abs=1e-15)


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["org", "superior", "peer", "public", "third", "media"]),
                    st.lists(st.integers(0, 100).map(float), min_size=1, max_size=4), min_size=1),
    st.dictionaries(st.sampled_from(["org", "superior", "peer", "public", "third", "media"]),
                    st.integers(1, 40), min_size=6),
)  # fmt: skip
def test_group_weights_renormalise_exactly_over_the_groups_that_rated(
    scores: dict[str, list[float]], weights: dict[str, int]
) -> None:
    category = county_category()
    category["components"][3]["groups"] = weights
    scheme = scheme_dict(category)
    for group in scheme["rater_groups"]:
        group.update(min_ballots=1, trim_share=0)
    ratings = [
        {"entity": "U00", "group": g, "item": "overall", "score": s} for g, ss in scores.items() for s in ss
    ]
    results = compute(cycle(scheme, [("U00", "county")], ratings=ratings))
    got = results.components.filter(pl.col("component") == "public")["score"].item()
    expected = sum(weights[g] * sum(ss) / len(ss) for g, ss in scores.items()) / sum(
        weights[g] for g in scores
    )
    assert got == pytest.approx(expected, abs=1e-9)
