"""Property tests: the fast engine equals the plain reference, and the invariants hold."""

from __future__ import annotations

import copy
import dataclasses
import random
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jixiao.scoring.bundle import canonical_json, compute_bundle, load_bundle
from jixiao.scoring.digests import results_digest
from jixiao.scoring.engine import compute
from jixiao.scoring.reference import reference_compute
from jixiao.scoring.tests.strategies import bundles
from jixiao.scoring.types import Results

TOL = 1e-9
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _by_entity(results: Results) -> dict[str, dict[str, Any]]:
    return {row["entity"]: row for row in results.entities.iter_rows(named=True)}


@FAST
@given(bundles())
def test_engine_equals_reference_on_random_schemes_and_data(bundle: dict[str, Any]) -> None:
    inp = load_bundle(bundle)
    fast = compute(inp)
    ref = reference_compute(inp)
    rows = _by_entity(fast)
    assert set(rows) == set(ref.entities)
    for entity, r in ref.entities.items():
        row = rows[entity]
        assert abs(row["total"] - r.total) <= TOL, entity
        assert row["rank"] == r.rank, entity
        assert row["grade"] == r.grade, entity
        assert row["decided_by"] == r.decided_by, entity
        assert fast.decisions.get(entity, {}).get("denied") == r.denied, entity
        flags = {f for f in ("last_place", "last_place_twice", "top_twice") if row[f"flag_{f}"]}
        assert flags == r.flags, entity
    for comp in fast.components.iter_rows(named=True):
        assert abs(comp["score"] - ref.entities[comp["entity"]].components[comp["component"]]) <= TOL
    for ind in fast.indicators.iter_rows(named=True):
        assert abs(ind["rate"] - ref.rates[(ind["entity"], ind["indicator"])]) <= TOL


@FAST
@given(bundles())
def test_quota_levels_never_hold_more_than_their_places_except_forced_grades(bundle: dict[str, Any]) -> None:
    inp = load_bundle(bundle)
    fast = compute(inp)
    for category in inp.scheme.categories:
        rows = [r for r in fast.entities.iter_rows(named=True) if r["category"] == category.code]
        graded = [r for r in rows if r["grade"] is not None]
        for level in category.grading.levels:
            if level.ratio is None:
                continue
            by_quota = [
                r for r in graded if r["grade"] == level.label and r["decided_by"].startswith("quota")
            ]
            from jixiao.scoring.grading import quota

            assert len(by_quota) <= quota(level.ratio, len(graded), category.grading.rounding)


@FAST
@given(bundles(), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_the_order_of_input_rows(bundle: dict[str, Any], rnd: random.Random) -> None:
    shuffled = copy.deepcopy(bundle)
    for table in [
        shuffled["units"],
        shuffled["officials"],
        shuffled["declared"],
        *shuffled["facts"].values(),
    ]:
        n = len(next(iter(table.values()), []))
        order = list(range(n))
        rnd.shuffle(order)
        for col in table:
            table[col] = [table[col][i] for i in order]
    a = compute_bundle(bundle)
    b = compute_bundle(shuffled)
    a.pop("bundle_digest"), b.pop("bundle_digest")
    assert canonical_json(a) == canonical_json(b)


@FAST
@given(bundles(), st.data())
def test_raising_one_entitys_input_never_lowers_its_rank(bundle: dict[str, Any], data: st.DataObject) -> None:
    raised = copy.deepcopy(bundle)
    res = raised["facts"]["indicator_results"]
    rules = {
        n["code"]: n["rule"]["type"]
        for c in bundle["scheme"]["categories"]
        for n in c["indicators"]
        if "rule" in n
    }
    rules.update(zip(bundle["declared"]["code"], bundle["declared"]["rule"], strict=True))
    candidates = [i for i, (ind, v) in enumerate(zip(res["indicator"], res["value"], strict=True))
                  if v is not None and rules[ind] not in ("veto", "bonus_deduction", "grade_map")]  # fmt: skip
    ratings = raised["facts"]["ratings"]
    if not candidates and not ratings["entity"]:
        return
    if candidates and (not ratings["entity"] or data.draw(st.booleans())):
        i = data.draw(st.sampled_from(candidates))
        entity = res["entity"][i]
        res["value"][i] += data.draw(st.integers(1, 50))
    else:
        i = data.draw(st.integers(0, len(ratings["entity"]) - 1))
        entity = ratings["entity"][i]
        ratings["score"][i] = min(ratings["score"][i] + data.draw(st.integers(1, 50)), 100.0)
    before = _by_entity(compute(load_bundle(bundle)))[entity]["rank"]
    after = _by_entity(compute(load_bundle(raised)))[entity]["rank"]
    assert after <= before


@settings(max_examples=20, deadline=None)
@given(bundles(max_units=6))
def test_same_bundle_gives_byte_identical_results_and_digest(bundle: dict[str, Any]) -> None:
    a, b = compute_bundle(bundle), compute_bundle(copy.deepcopy(bundle))
    assert canonical_json(a) == canonical_json(b)
    assert a["results_digest"] == b["results_digest"]


@FAST
@given(bundles(), st.booleans())
def test_adapter_shaped_input_sorted_with_enum_keys_gives_the_same_results_as_strings(
    bundle: dict[str, Any], enum: bool
) -> None:
    # The adapter's form: entity keys as pl.Enum of the sorted ids, the declared table in code
    # order, results and ratings in key order (the engine then skips its sorts).
    inp = load_bundle(bundle)
    ids = sorted([*inp.units.id.tolist(), *inp.officials.id.tolist()])
    key = pl.col("entity").cast(pl.Enum(ids)) if enum else pl.col("entity")
    f = inp.facts
    facts = dataclasses.replace(
        f,
        indicator_results=f.indicator_results.with_columns(key).sort("entity", "indicator"),
        ratings=f.ratings.with_columns(key).sort("entity", "group", "item", "score"),
    )
    declared = inp.declared.sort("code").with_columns(key) if inp.declared.height else inp.declared
    a = compute(inp)
    b = compute(dataclasses.replace(inp, facts=facts, declared=declared))
    for name in ("entities", "components", "indicators", "raters", "adjustments", "declared"):
        assert getattr(a, name).equals(getattr(b, name)), name
    assert a.decisions == b.decisions
    assert results_digest(a) == results_digest(b)
