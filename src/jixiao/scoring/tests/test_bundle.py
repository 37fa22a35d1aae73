"""The cycle bundle: loading, errors, canonical JSON, digests, explanations."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from jixiao.scoring.bundle import bundle_digest, canonical_json, compute_bundle, load_bundle
from jixiao.scoring.errors import BundleError, SchemeError
from jixiao.scoring.tests.examples import county_category, official_category, scheme_dict
from jixiao.scoring.types import DECLARED_COLUMNS

DOCS = Path(__file__).resolve().parents[4] / "docs"


def _bundle() -> dict[str, Any]:
    return {
        "format": "jixiao.cycle-bundle", "version": 1, "cycle": {"code": "2025", "name": "2025年度考核"},
        "scheme": scheme_dict(county_category(), official_category()),
        "units": {"id": ["U1", "U2"], "category": ["county", "county"]},
        "officials": {"id": ["O1"], "unit": ["U1"], "layer": ["head"], "category": ["cadres"]},
        "facts": {
            "indicator_results": {"entity": ["U1", "U2"], "indicator": ["county.A1", "county.A1"],
                                  "value": [90.0, 70.0]},
            "ratings": {"entity": ["O1", "O1"], "group": ["org", "peer"], "item": ["de", "de"],
                        "score": [95.0, 85.0]},
            "adjustments": {"entity": ["U2"], "kind": ["deduction"], "points": [1.5], "source": ["督查"],
                            "reason": ["逾期"]},
        },
    }  # fmt: skip


def test_the_same_bundle_gives_byte_identical_results_json_and_digest() -> None:
    a, b = compute_bundle(_bundle()), compute_bundle(copy.deepcopy(_bundle()))
    assert canonical_json(a) == canonical_json(b)
    assert a["results_digest"] == b["results_digest"]
    assert a["bundle_digest"] == bundle_digest(_bundle())


def test_canonical_json_sorts_keys_keeps_chinese_and_refuses_nan() -> None:
    assert canonical_json({"b": 1, "a": "优秀"}) == '{"a":"优秀","b":1}'.encode()
    assert canonical_json({"x": float("nan")}) == b'{"x":null}'


def test_results_carry_an_explanation_for_every_unit_and_official() -> None:
    out = compute_bundle(_bundle())
    assert set(out["explanations"]) == {"U1", "U2", "O1"}
    u2 = out["explanations"]["U2"]
    assert u2["adjustments"][0]["kind"] == "deduction"
    assert {c["component"] for c in u2["components"]} == {"routine", "annual", "building", "public"}
    assert u2["indicators"][0]["params"] == {"target": 100}
    assert u2["grade"]["decision"]["code"] in {"quota.top", "quota.bottom", "fill"}
    o1 = out["explanations"]["O1"]
    assert [r["group"] for r in o1["raters"]] == ["org", "peer"]
    assert json.loads(canonical_json(out))  # JSON-able throughout


def test_bundle_with_a_wrong_format_or_unknown_column_is_refused() -> None:
    with pytest.raises(BundleError, match="format"):
        load_bundle({"format": "other", "version": 1})
    bad = _bundle()
    bad["facts"]["ratings"]["weight"] = [1, 1]
    with pytest.raises(BundleError, match=r"facts\.ratings: unknown column"):
        load_bundle(bad)


def test_component_weights_not_totalling_100_are_refused_naming_the_category() -> None:
    bad = _bundle()
    bad["scheme"]["categories"][0]["components"][0]["weight"] = 25
    with pytest.raises(SchemeError, match="category county: component weights must total 100"):
        load_bundle(bad)


def test_the_bundle_json_schema_is_valid_json_and_names_every_fact_table() -> None:
    schema = json.loads((DOCS / "bundle.schema.json").read_text(encoding="utf-8"))
    facts = schema["properties"]["facts"]["properties"]
    assert set(facts) == {"indicator_results", "ratings", "votes", "adjustments", "previous", "routine"}
    assert schema["properties"]["version"]["enum"] == [1, 2]
    assert set(schema["properties"]["declared"]["properties"]) == set(DECLARED_COLUMNS)
