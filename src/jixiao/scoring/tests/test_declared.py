"""Per-entity declared leaves, function zones, routine components and the low_ambition ceiling."""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np
import polars as pl
import pytest

from jixiao.scoring.bundle import bundle_digest, compute_bundle, load_bundle
from jixiao.scoring.engine import compute
from jixiao.scoring.errors import BundleError, FactsError, SchemeError
from jixiao.scoring.explain import explain
from jixiao.scoring.reference import reference_compute
from jixiao.scoring.tests.examples import TEAM_LEVELS, scheme_dict
from jixiao.scoring.tests.test_bundle import _bundle

COMPLETION = json.dumps({"target": 100})


def _framework(**overrides: Any) -> dict[str, Any]:
    cat: dict[str, Any] = {
        "code": "county", "subject": "unit",
        "components": [
            {"code": "annual", "source": "indicators", "weight": 80},
            {"code": "monthly", "source": "routine", "weight": 20,
             "grade_points": {"完成": 100, "按期": 90, "滞后": 60}},
        ],
        "indicators": [
            {"code": "A", "parent": None, "weight": 60},  # a slot: the units declare under it
            {"code": "A.x", "parent": "A", "weight": 1},  # another slot, level 2
            {"code": "B", "parent": None, "weight": 40, "component": "annual",
             "rule": {"type": "completion", "params": {"target": 100}}},
        ],
        "zone_weights": {"生态保护区": {"A": 25, "B": 75}},
        "grading": {"levels": TEAM_LEVELS,
                    "hard_rules": [{"type": "low_ambition", "grade": "二等", "min_count": 1}]},
    }  # fmt: skip
    cat.update(overrides)
    return cat


def _declared(
    rows: list[tuple[str, str, str, float, bool]], rule: str = "completion"
) -> dict[str, list[Any]]:
    return {
        "entity": [r[0] for r in rows], "code": [r[1] for r in rows], "parent": [r[2] for r in rows],
        "weight": [r[3] for r in rows], "component": ["annual"] * len(rows), "rule": [rule] * len(rows),
        "params": [COMPLETION] * len(rows), "low_ambition": [r[4] for r in rows],
    }  # fmt: skip


def _v2(declared: dict[str, list[Any]], results: dict[str, list[Any]], **extra: Any) -> dict[str, Any]:
    bundle: dict[str, Any] = {
        "format": "jixiao.cycle-bundle", "version": 2, "cycle": {"code": "2026"},
        "scheme": scheme_dict(_framework()),
        "units": {"id": ["U1", "U2"], "category": ["county", "county"], "zone": ["", "生态保护区"]},
        "officials": {"id": [], "unit": [], "layer": [], "category": []},
        "declared": declared, "facts": {"indicator_results": results, **extra},
    }  # fmt: skip
    return bundle


BASE = _declared([
    ("U1", "D1", "A", 3, False), ("U1", "D2", "A", 1, True),
    ("U2", "D3", "A", 1, False), ("U2", "D4", "D5", 1, False), ("U2", "D5", "A.x", 1, False),
])  # fmt: skip
RESULTS = {"entity": ["U1", "U1", "U1", "U2", "U2"], "indicator": ["D1", "D2", "B", "D3", "B"],
           "value": [100.0, 50.0, 80.0, 90.0, 100.0]}  # fmt: skip


def test_each_unit_is_scored_on_its_own_tree_with_zone_weights_and_fixed_denominators() -> None:
    inp = load_bundle(_v2(BASE, RESULTS))
    out = compute(inp)
    annual = {
        r["entity"]: r["raw"] for r in out.components.iter_rows(named=True) if r["component"] == "annual"
    }
    # U1: A = (3×100 + 1×50)/4 = 87.5; total (60×87.5 + 40×80)/100 = 84.5.
    assert annual["U1"] == pytest.approx(84.5)
    # U2 (生态保护区: A 25, B 75): A = (1×90 + 1×A.x)/2 where A.x = D4 (unreported → 0) = 45.
    assert annual["U2"] == pytest.approx((25 * 45 + 75 * 100) / 100)
    ref = reference_compute(inp)
    assert ref.entities["U2"].components["annual"] == pytest.approx(annual["U2"])
    shares = {r["indicator"]: r["share"] for r in out.indicators.iter_rows(named=True) if r["entity"] == "U1"}
    assert shares == pytest.approx({"B": 0.4, "D1": 0.45, "D2": 0.15})
    rows = explain(out, inp.scheme, "U1")["indicators"]
    d2 = next(r for r in rows if r["indicator"] == "D2")
    assert (d2["declared"], d2["parent"], d2["low_ambition"], d2["params"]) == (
        True,
        "A",
        True,
        {"target": 100},
    )
    assert "declared" not in next(r for r in rows if r["indicator"] == "B")


def test_a_flagged_target_caps_the_grade_and_names_the_flagged_leaves() -> None:
    out = compute(load_bundle(_v2(BASE, RESULTS)))
    u1 = out.entities.filter(pl.col("entity") == "U1").row(0, named=True)
    assert u1["grade"] == "二等"
    if u1["rank"] == 1 and u1["decided_by"] != "fill":
        assert u1["decided_by"] == "ceiling.low_ambition"
    binding = next(c for c in out.decisions["U1"]["constraints"] if c["code"] == "ceiling.low_ambition")
    assert binding["indicators"] == ["D2"] and binding["min_count"] == 1


def test_the_low_ambition_ceiling_binds_on_the_first_ranked_unit() -> None:
    ten = [(f"U{i}", f"D{i}", "A", 1, i == 0) for i in range(10)]
    bundle = _v2(_declared(ten), {"entity": [f"U{i}" for i in range(10)], "indicator": [f"D{i}" for i in range(10)],
                                   "value": [100.0 - i for i in range(10)]})  # fmt: skip
    bundle["units"] = {"id": [f"U{i}" for i in range(10)], "category": ["county"] * 10}
    out = compute_bundle(bundle)
    u0 = out["explanations"]["U0"]
    assert u0["rank"]["rank"] == 1
    decision = u0["grade"]["decision"]
    assert (u0["grade"]["label"], decision["code"], decision["denied"]) == (
        "二等",
        "ceiling.low_ambition",
        "一等",
    )
    assert decision["binding"]["indicators"] == ["D0"]
    assert out["explanations"]["U1"]["grade"]["label"] == "一等"


def test_routine_component_is_the_mean_of_period_means() -> None:
    routine = {"entity": ["U1", "U1", "U1"], "indicator": ["D1"] * 3, "period": ["2026-01", "2026-01", "2026-02"],
               "grade": ["完成", "滞后", "按期"]}  # fmt: skip
    out = compute(load_bundle(_v2(BASE, RESULTS, routine=routine)))
    rows = {r["entity"]: r for r in out.components.iter_rows(named=True) if r["component"] == "monthly"}
    assert rows["U1"]["raw"] == pytest.approx((80 + 90) / 2) and rows["U1"]["has_data"]
    assert rows["U2"]["raw"] == 0 and not rows["U2"]["has_data"]


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda d: d["parent"].__setitem__(3, "D9"), SchemeError, r"entity 'U2', leaf 'D4'.*neither"),
        (lambda d: d["parent"].__setitem__(0, "B"), SchemeError, r"leaf 'D1'.*framework leaf"),
        (lambda d: d["parent"].__setitem__(0, "D3"), SchemeError, r"leaf 'D1'.*another entity"),
        (lambda d: d["code"].__setitem__(1, "D1"), SchemeError, r"declared twice"),
        (lambda d: d["rule"].__setitem__(0, "rank_points"), SchemeError, r"leaf 'D1'.*compares the entities"),
        (
            lambda d: d["component"].__setitem__(0, "monthly"),
            SchemeError,
            r"leaf 'D1'.*not an indicators component",
        ),
        (lambda d: d["entity"].__setitem__(0, "U9"), FactsError, r"declared\.entity"),
    ],
)
def test_bad_declared_rows_are_refused_naming_entity_and_leaf(change: Any, error: type, match: str) -> None:
    declared = copy.deepcopy(BASE)
    change(declared)
    with pytest.raises(error, match=match):
        compute(load_bundle(_v2(declared, RESULTS)))


def test_a_tree_deeper_than_four_levels_is_refused() -> None:
    deep = _declared(
        [("U1", "D1", "A.x", 1, False), ("U1", "D2", "D1", 1, False), ("U1", "D3", "D2", 1, False)]
    )
    with pytest.raises(SchemeError, match=r"entity 'U1', leaf 'D3'.*deeper than 4"):
        compute(load_bundle(_v2(deep, {"entity": [], "indicator": []})))


def test_a_result_for_another_entitys_declared_leaf_is_refused() -> None:
    results = {"entity": ["U2"], "indicator": ["D1"], "value": [1.0]}
    with pytest.raises(FactsError, match=r"'D1' is a declared leaf of 'U1', not of 'U2'"):
        compute(load_bundle(_v2(BASE, results)))


def test_a_version_1_bundle_still_loads_and_keeps_its_digest() -> None:
    v1 = _bundle()
    assert v1["version"] == 1
    inp = load_bundle(v1)
    assert inp.declared.height == 0 and inp.facts.routine.height == 0 and inp.units.zone.size == 0
    v2 = {**copy.deepcopy(v1), "version": 2, "declared": {}}
    v2["units"]["zone"] = ["", ""]
    assert bundle_digest(v2) == bundle_digest(v1)  # no version 2 feature: the version 1 stream
    assert compute_bundle(v2)["results_digest"] == compute_bundle(v1)["results_digest"]
    with pytest.raises(BundleError, match="unknown key"):
        load_bundle({**v1, "declared": {}})
    with pytest.raises(BundleError, match="version 1"):
        load_bundle({**v1, "facts": {**v1["facts"], "routine": {}}})


def test_version_2_features_change_the_input_digest() -> None:
    base = _v2(BASE, RESULTS)
    digest = bundle_digest(base)
    for change in (
        lambda b: b["units"]["zone"].__setitem__(0, "生态保护区"),
        lambda b: b["declared"]["low_ambition"].__setitem__(0, True),
        lambda b: b["facts"].__setitem__(
            "routine", {"entity": ["U1"], "period": ["2026-01"], "grade": ["完成"]}
        ),
    ):
        changed = copy.deepcopy(base)
        change(changed)
        assert bundle_digest(changed) != digest
    shuffled = copy.deepcopy(base)
    shuffled["declared"] = {c: v[::-1] for c, v in base["declared"].items()}
    assert bundle_digest(shuffled) == digest


def test_officials_follow_their_units_zone() -> None:
    from jixiao.scoring.frames import build_entities
    from jixiao.scoring.scheme import parse_scheme
    from jixiao.scoring.tests.examples import official_category
    from jixiao.scoring.types import Officials, Units

    cadres = official_category(zone_weights={"生态保护区": {"cadres.P": 2}})
    scheme = parse_scheme(scheme_dict(_framework(), cadres))
    units = Units(np.array(["U1", "U2"]), np.array(["county", "county"]), np.array(["", "生态保护区"]))
    officials = Officials(*(np.array(v, dtype=np.str_) for v in (["O1", "O2"], ["U2", "U1"], ["head"] * 2,
                                                                  ["cadres"] * 2)))  # fmt: skip
    ents = build_entities(scheme, units, officials)
    zone = dict(zip(ents.ids.tolist(), ents.zone.tolist(), strict=True))
    assert scheme.zones() == ("生态保护区",)
    assert zone == {"O1": 0, "O2": -1, "U1": -1, "U2": 0}
