"""Grading: quotas and rounding, hard rules, sanctions, vetoes, team caps."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import polars as pl

from jixiao.scoring.engine import compute
from jixiao.scoring.grading import quota
from jixiao.scoring.tests.examples import county_category, cycle, official_category, scheme_dict
from jixiao.scoring.types import Results


def _units(n: int, category: str = "county") -> list[tuple[str, str]]:
    return [(f"U{i:02d}", category) for i in range(n)]


def _annual(n: int) -> list[dict[str, Any]]:
    """Unit i reports i on the annual completion leaf, so U(n-1) ranks first."""
    return [{"entity": f"U{i:02d}", "indicator": "county.A1", "value": float(i + 1)} for i in range(n)]


def _grades(results: Results) -> dict[str, str | None]:
    return dict(zip(results.entities["entity"].to_list(), results.entities["grade"].to_list(), strict=True))


def test_twenty_unit_category_graded_15_80_5_gets_3_16_1() -> None:
    results = compute(cycle(scheme_dict(county_category()), _units(20), results=_annual(20)))
    counts = results.entities.group_by("grade").len().sort("grade")
    assert dict(counts.iter_rows()) == {"一等": 3, "二等": 16, "三等": 1}
    grades = _grades(results)
    assert [grades[u] for u in ("U19", "U18", "U17", "U16")] == ["一等", "一等", "一等", "二等"]
    assert grades["U00"] == "三等"


def test_quota_rounding_floors_by_default_and_can_round_half_up_or_ceil() -> None:
    assert quota(Fraction(15, 100), 10, "floor") == 1
    assert quota(Fraction(15, 100), 10, "round_half_up") == 2
    assert quota(Fraction(5, 100), 10, "ceil") == 1
    assert quota(Fraction(5, 100), 10, "floor") == 0


def test_ties_on_total_are_broken_by_the_annual_component_then_by_id() -> None:
    rows = [
        {"entity": u, "indicator": "county.R", "value": 60.0, "target": 60.0} for u in ("U00", "U01", "U02")
    ]
    rows += [{"entity": "U00", "indicator": "county.A1", "value": 50.0}]
    results = compute(cycle(scheme_dict(county_category(adjustments={})), _units(3), results=rows))
    ranks = dict(zip(results.entities["entity"].to_list(), results.entities["rank"].to_list(), strict=True))
    assert ranks == {"U00": 1, "U01": 2, "U02": 3}


def _officials(n_units: int, members: int) -> list[tuple[str, str, str, str]]:
    out = []
    for i in range(n_units):
        out.append((f"O{i:02d}h", f"U{i:02d}", "head", "cadres"))
        out += [(f"O{i:02d}m{k}", f"U{i:02d}", "member", "cadres") for k in range(members)]
    return out


def test_official_with_35_percent_negative_votes_is_forced_to_basically_competent() -> None:
    offs = _officials(1, 1)
    votes = [{"entity": "O00m0", "label": "称职", "count": 13}, {"entity": "O00m0", "label": "基本称职", "count": 5},
             {"entity": "O00m0", "label": "不称职", "count": 2}]  # fmt: skip
    results = compute(
        cycle(scheme_dict(county_category(), official_category()), _units(1), offs, votes=votes)
    )
    row = results.entities.filter(pl.col("entity") == "O00m0").row(0, named=True)
    assert row["grade"] == "基本称职"
    assert row["decided_by"] == "forced.hard_rule.vote_share"
    assert results.decisions["O00m0"]["votes"] == 7


def test_exactly_one_third_negative_votes_is_not_more_than_one_third() -> None:
    offs = _officials(1, 1)
    votes = [
        {"entity": "O00m0", "label": "称职", "count": 2},
        {"entity": "O00m0", "label": "不称职", "count": 1},
    ]
    results = compute(
        cycle(scheme_dict(county_category(), official_category()), _units(1), offs, votes=votes)
    )
    assert _grades(results)["O00m0"] != "基本称职"


def test_portfolio_target_under_60_percent_forces_basically_competent() -> None:
    offs = _officials(1, 1)
    rows = [{"entity": "O00m0", "indicator": "cadres.P", "value": 59.0}]
    results = compute(cycle(scheme_dict(county_category(), official_category()), _units(1), offs, rows))
    row = results.entities.filter(pl.col("entity") == "O00m0").row(0, named=True)
    assert (row["grade"], row["decided_by"]) == ("基本称职", "forced.hard_rule.target_below")


def test_heaviest_sanction_applies_removal_beats_admonishment() -> None:
    offs = _officials(1, 2)
    adj = [{"entity": "O00m0", "kind": "sanction", "level": "admonish"},
           {"entity": "O00m0", "kind": "sanction", "level": "removal"},
           {"entity": "O00m1", "kind": "sanction", "level": "demerit"}]  # fmt: skip
    results = compute(
        cycle(scheme_dict(county_category(), official_category()), _units(1), offs, adjustments=adj)
    )
    grades = _grades(results)
    assert grades["O00m0"] == "不称职"
    assert grades["O00m1"] is None
    row = results.entities.filter(pl.col("entity") == "O00m1").row(0, named=True)
    assert row["decided_by"] == "no_grade.sanction"


def test_no_grade_adjustment_leaves_the_entity_ungraded_and_out_of_the_quota_base() -> None:
    adj = [{"entity": "U19", "kind": "no_grade", "reason": "investigation"}]
    results = compute(cycle(scheme_dict(county_category()), _units(20), results=_annual(20), adjustments=adj))
    grades = _grades(results)
    assert grades["U19"] is None
    assert results.decisions["U19"] == {"reason": "investigation"}
    # 19 graded: floor(0.15 × 19) = 2 first class.
    assert sum(1 for g in grades.values() if g == "一等") == 2


def test_veto_of_excellence_caps_the_grade_below_the_top_level() -> None:
    adj = [{"entity": "U19", "kind": "veto_excellent", "reason": "safety accident"}]
    results = compute(cycle(scheme_dict(county_category()), _units(20), results=_annual(20), adjustments=adj))
    grades = _grades(results)
    assert grades["U19"] == "二等"
    assert [grades[u] for u in ("U18", "U17", "U16")] == ["一等", "一等", "一等"]


def test_team_graded_first_class_caps_its_members_excellent_share_at_30_percent() -> None:
    # U19 is first class with 10 officials; U18 (second class) has 30. 40 officials: 6 excellent places.
    offs = [(f"A{k}", "U19", "member", "cadres") for k in range(10)]
    offs += [(f"B{k:02d}", "U18", "member", "cadres") for k in range(30)]
    results = compute(
        cycle(scheme_dict(county_category(), official_category()), _units(20), offs, _annual(20))
    )
    grades = _grades(results)
    assert grades["U19"] == "一等" and grades["U18"] == "一等"  # 3 first-class places: U19, U18, U17
    excellent = sorted(e for e, g in grades.items() if g == "优秀")
    assert len(excellent) == 6
    assert sum(1 for e in excellent if e.startswith("A")) == 3  # floor(0.3 × 10)
    assert sum(1 for e in excellent if e.startswith("B")) == 3  # within floor(0.3 × 30) = 9


def test_team_graded_second_class_caps_members_at_20_percent_and_its_head_below_excellent() -> None:
    offs = [("H", "U10", "head", "cadres")] + [(f"M{k}", "U10", "member", "cadres") for k in range(4)]
    ratings = [{"entity": "H", "group": "org", "item": "de", "score": 100.0}]
    results = compute(cycle(scheme_dict(county_category(), official_category()), _units(20), offs, _annual(20),
                            ratings))  # fmt: skip
    grades = _grades(results)
    assert grades["U10"] == "二等"
    assert grades["H"] == "称职"  # head ceiling under a second-class team
    assert sum(1 for e in ("M0", "M1", "M2", "M3") if grades[e] == "优秀") <= 1  # floor(0.2 × 5)


def test_head_of_a_third_class_team_is_at_best_basically_competent() -> None:
    units = _units(20)
    offs = [("H00", "U00", "head", "cadres"), ("H19", "U19", "head", "cadres")]
    ratings = [{"entity": "H00", "group": "org", "item": "de", "score": 100.0},
               {"entity": "H19", "group": "org", "item": "de", "score": 10.0}]  # fmt: skip
    results = compute(
        cycle(scheme_dict(county_category(), official_category()), units, offs, _annual(20), ratings)
    )
    grades = _grades(results)
    assert grades["U00"] == "三等"
    assert grades["H00"] == "基本称职"
    assert results.decisions["H00"]["constraints"][0]["code"] == "ceiling.team_head"


def test_last_place_twice_running_is_flagged_using_last_years_rank() -> None:
    prev = [
        {"entity": "U00", "rank": 20, "category_size": 20},
        {"entity": "U01", "rank": 19, "category_size": 20},
    ]
    results = compute(cycle(scheme_dict(county_category()), _units(20), results=_annual(20), previous=prev))
    row = results.entities.filter(pl.col("entity") == "U00").row(0, named=True)
    assert row["flag_last_place"] and row["flag_last_place_twice"]
    assert results.entities.filter(pl.col("flag_last_place_twice")).height == 1


def _row(results: Results, entity: str) -> dict[str, Any]:
    return results.entities.filter(pl.col("entity") == entity).row(0, named=True)


def test_a_vetoed_first_ranked_unit_is_decided_by_the_veto_and_names_the_grade_it_lost() -> None:
    adj = [{"entity": "U19", "kind": "veto_excellent", "reason": "安全生产事故"}]
    results = compute(cycle(scheme_dict(county_category()), _units(20), results=_annual(20), adjustments=adj))
    row = _row(results, "U19")
    assert (row["rank"], row["grade"], row["decided_by"]) == (1, "二等", "ceiling.veto")
    decision = results.decisions["U19"]
    assert decision["denied"] == "一等" and decision["outcome"] == "fill"
    assert decision["binding"]["reasons"] == ["安全生产事故"]


def test_a_veto_that_changes_nothing_leaves_the_decision_to_the_quota() -> None:
    adj = [{"entity": "U05", "kind": "veto_excellent", "reason": "x"}]
    results = compute(cycle(scheme_dict(county_category()), _units(20), results=_annual(20), adjustments=adj))
    assert _row(results, "U05")["decided_by"] == "fill"
    assert "binding" not in results.decisions["U05"]
    assert results.decisions["U05"]["constraints"][0]["code"] == "ceiling.veto"


def test_an_official_kept_from_excellent_by_the_team_cap_is_decided_by_the_team_cap() -> None:
    offs = [(f"A{k}", "U19", "member", "cadres") for k in range(10)]
    offs += [(f"B{k:02d}", "U18", "member", "cadres") for k in range(30)]
    ratings = [{"entity": f"A{k}", "group": "org", "item": "de", "score": 100.0 - k} for k in range(10)]
    results = compute(
        cycle(scheme_dict(county_category(), official_category()), _units(20), offs, _annual(20), ratings)
    )
    capped = [r for r in results.entities.iter_rows(named=True) if r["decided_by"] == "ceiling.team_cap"]
    assert capped and all(r["entity"].startswith("A") and r["grade"] == "称职" for r in capped)
    decision = results.decisions[capped[0]["entity"]]
    assert decision["binding"] == {
        "code": "ceiling.team_cap", "ceiling_index": 1, "team": "U19", "team_grade": "一等", "cap": 3,
    }  # fmt: skip
    assert decision["denied"] == "优秀"


def test_a_sanction_ceiling_below_the_fill_grade_is_the_deciding_rule() -> None:
    offs = [("O1", "U00", "member", "cadres")]
    adj = [{"entity": "O1", "kind": "sanction", "level": "admonish"}]
    category = official_category()
    category["grading"]["sanctions"][0]["grade"] = "基本称职"
    results = compute(cycle(scheme_dict(county_category(), category), _units(2), offs, adjustments=adj))
    row = _row(results, "O1")
    assert (row["grade"], row["decided_by"]) == ("基本称职", "ceiling.sanction")
    assert results.decisions["O1"]["denied"] == "称职" and results.decisions["O1"]["outcome"] == "ceiling"


def test_a_first_ranked_unit_held_down_by_a_veto_is_not_flagged_for_recommendation() -> None:
    adj = [{"entity": "U19", "kind": "veto_excellent", "reason": "x"}]
    prev = [{"entity": "U19", "rank": 1, "category_size": 20}, {"entity": "U18", "rank": 2, "category_size": 20,
            "grade": "一等"}]  # fmt: skip
    results = compute(
        cycle(scheme_dict(county_category()), _units(20), results=_annual(20), adjustments=adj, previous=prev)
    )
    assert not _row(results, "U19")["flag_top_twice"]
    assert _row(results, "U18")["flag_top_twice"]  # excellent this year and last year
