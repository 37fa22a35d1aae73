"""explain_all equals per-entity explain; fast cleaning equals the plain one; Enum keys equal strings."""

from __future__ import annotations

import dataclasses
import json
import math
import random
from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jixiao.scoring.bundle import _clean, canonical_json, compute_bundle, load_bundle, results_to_dict
from jixiao.scoring.digests import results_digest
from jixiao.scoring.engine import compute
from jixiao.scoring.errors import FactsError
from jixiao.scoring.explain import explain, explain_all
from jixiao.scoring.frames import encode
from jixiao.scoring.scheme import parse_scheme
from jixiao.scoring.tests.examples import county_category, cycle, scheme_dict
from jixiao.scoring.tests.strategies import bundles

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _plain_clean(value: Any) -> Any:
    """The original, obviously correct deep copy that ``bundle._clean`` must equal."""
    if isinstance(value, float | np.floating):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Mapping):
        return {str(k): _plain_clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_clean(v) for v in value]
    return value


def _same(a: Any, b: Any, where: str = "") -> None:
    """Assert deep equality with exact types, key order and NaN equal to NaN."""
    assert type(a) is type(b), (where, a, b)
    if isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, (where, a, b)


@FAST
@given(bundles())
def test_explain_all_equals_explain_of_every_entity(bundle: dict[str, Any]) -> None:
    inp = load_bundle(bundle)
    results = compute(inp)
    ids = results.entities.get_column("entity").to_list()
    _same(explain_all(results, inp.scheme), {e: explain(results, inp.scheme, e) for e in ids})


@FAST
@given(bundles())
def test_results_to_dict_equals_the_plain_clean_of_every_explanation(bundle: dict[str, Any]) -> None:
    inp = load_bundle(bundle)
    results = compute(inp)
    out = results_to_dict(results, inp.scheme)
    ids = results.entities.get_column("entity").to_list()
    assert _clean(out["explanations"]) is out["explanations"]  # built clean: compute_bundle trusts it
    _same(out["explanations"], {e: _plain_clean(explain(results, inp.scheme, e)) for e in ids})
    for name in ("entities", "components", "indicators", "raters", "adjustments"):
        frame = getattr(results, name)
        _same(out[name], {c: _plain_clean(frame.get_column(c).to_list()) for c in frame.columns}, name)
    plain = json.dumps(_plain_clean(out), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_json(out) == plain.encode("utf-8")
    full = compute_bundle(bundle)
    assert full["results_digest"] == results_digest(compute(load_bundle(bundle)))
    assert canonical_json(bundle) == json.dumps(
        _plain_clean(bundle), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.floats(), st.text(max_size=3),
    st.floats(width=32).map(np.float32), st.integers(-5, 5).map(np.int64), st.booleans().map(np.bool_),
    st.floats().map(np.float64),
)  # fmt: skip
KEYS = st.one_of(st.text(max_size=2), st.integers(-3, 3), st.booleans(), st.none(), st.floats(0, 2))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6),
        st.lists(inner, max_size=6).map(tuple),
        st.dictionaries(KEYS, inner, max_size=5),
        st.lists(st.one_of(st.floats(), st.none(), st.integers(-3, 3), st.booleans()), max_size=8),
        st.lists(st.floats(-1e308, 1e308), max_size=8),
    ),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(VALUES)
def test_clean_equals_the_plain_deep_copy(value: Any) -> None:
    _same(_clean(value), _plain_clean(value))


KEY_COLUMNS = {
    "indicator_results": ("entity", "indicator"), "ratings": ("entity", "group", "item"),
    "votes": ("entity", "label"), "adjustments": ("entity", "kind"), "previous": ("entity",),
}  # fmt: skip


@FAST
@given(bundles(), st.randoms(use_true_random=False), st.booleans())
def test_pre_encoded_enum_keys_give_the_same_results_as_strings(
    bundle: dict[str, Any], rnd: random.Random, exact: bool
) -> None:
    inp = load_bundle(bundle)
    ids = sorted([*inp.units.id.tolist(), *inp.officials.id.tolist()])
    tables = {}
    for name, keys in KEY_COLUMNS.items():
        frame = getattr(inp.facts, name)
        cast = []
        for key in keys:
            if key not in frame.columns or frame.get_column(key).null_count():
                continue
            used = sorted(set(frame.get_column(key).to_list()))
            cats = ids if key == "entity" and exact else [*used, "zz-unused"]
            if not (key == "entity" and exact):
                rnd.shuffle(cats)
            cast.append(pl.col(key).cast(pl.Enum(cats)))
        tables[name] = frame.with_columns(cast)
    enum_inp = dataclasses.replace(inp, facts=dataclasses.replace(inp.facts, **tables))
    a, b = compute(inp), compute(enum_inp)
    for name in ("entities", "components", "indicators", "raters", "adjustments"):
        assert getattr(a, name).equals(getattr(b, name)), name
    assert a.decisions == b.decisions


def test_an_enum_key_with_an_unknown_value_in_use_is_refused_naming_it() -> None:
    frame = pl.DataFrame({"entity": ["U1", "X9", "U1"]}).with_columns(
        pl.col("entity").cast(pl.Enum(["X9", "U1"]))
    )
    with pytest.raises(FactsError, match=r"ratings\.entity: unknown value\(s\) \['X9'\]"):
        encode(frame.get_column("entity"), ["U1", "U2"], "ratings.entity")
    assert encode(frame.get_column("entity").head(1), ["U1", "U2"], "x").tolist() == [0]  # unused X9 is fine


def test_a_veto_that_kept_a_unit_from_a_quota_level_is_explained_with_that_levels_quota() -> None:
    county = county_category()
    county["grading"]["levels"] = [
        {"label": "一等", "ratio": 0.15}, {"label": "二等", "ratio": 0.3}, {"label": "三等", "ratio": None},
    ]  # fmt: skip
    units = [(f"U{i:02d}", "county") for i in range(20)]
    annual = [
        {"entity": u, "indicator": "county.A1", "value": float(i + 1)} for i, (u, _) in enumerate(units)
    ]
    adj = [{"entity": "U19", "kind": "veto_excellent", "reason": "x"}]
    results = compute(cycle(scheme_dict(county), units, results=annual, adjustments=adj))
    decision = explain(results, parse_scheme(scheme_dict(county)), "U19")["grade"]["decision"]
    assert decision["code"] == "ceiling.veto"
    assert (decision["denied"], decision["outcome"], decision["places"], decision["of"]) == (
        "一等",
        "quota.top",
        6,
        20,
    )
