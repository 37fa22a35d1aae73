"""Columnar digests of the typed input and results (digests.py, docs/scoring.md "Digests")."""

from __future__ import annotations

import copy
import hashlib
import json
import struct
from typing import Any
from unittest import mock

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jixiao.scoring import digests
from jixiao.scoring.bundle import (
    bundle_digest,
    canonical_json,
    compute_bundle,
    cycle_input,
    load_bundle,
    results_to_dict,
)
from jixiao.scoring.digests import DIGEST_SCHEME, input_digest, results_digest
from jixiao.scoring.engine import compute
from jixiao.scoring.tests.test_bundle import _bundle
from jixiao.scoring.types import Facts


def _rich() -> dict[str, Any]:
    bundle = _bundle()
    facts = bundle["facts"]
    facts["ratings"] = {
        "entity": ["O1", "O1", "O1", "O1", "O1"],
        "group": ["org", "peer", "org", "peer", "org"],
        "item": ["de", "de", "de", "de", "de"],
        "score": [95.0, 85.0, 90.5, 85.0, -0.0],
    }
    facts["indicator_results"]["label"] = [None, "好"]
    facts["indicator_results"]["target"] = [100.0, None]
    facts["votes"] = {"entity": ["O1", "O1"], "label": ["优秀", "称职"], "count": [3, 2]}
    return bundle


def _digest(bundle: dict[str, Any]) -> str:
    return bundle_digest(bundle)


def _shuffled(bundle: dict[str, Any], order: list[int], table: str) -> dict[str, Any]:
    out = copy.deepcopy(bundle)
    cols = out["facts"][table]
    out["facts"][table] = {c: [v[i] for i in order] for c, v in cols.items()}
    return out


def test_input_digest_is_stable_under_row_shuffles_of_every_table() -> None:
    bundle = _rich()
    base = _digest(bundle)
    assert _digest(_shuffled(bundle, [3, 0, 4, 2, 1], "ratings")) == base
    assert _digest(_shuffled(bundle, [1, 0], "indicator_results")) == base
    assert _digest(_shuffled(bundle, [1, 0], "votes")) == base
    units = copy.deepcopy(bundle)
    units["units"] = {c: v[::-1] for c, v in units["units"].items()}
    assert _digest(units) == base
    # And so are the results: the engine does not depend on row order either.
    a, b = compute_bundle(bundle, False), compute_bundle(_shuffled(bundle, [4, 3, 2, 1, 0], "ratings"), False)
    assert (a["bundle_digest"], a["results_digest"]) == (b["bundle_digest"], b["results_digest"])
    assert a["digest"] == DIGEST_SCHEME


@pytest.mark.parametrize(
    ("where", "change"),
    [
        ("score", lambda b: b["facts"]["ratings"]["score"].__setitem__(0, 95.00000000000001)),
        ("item", lambda b: b["facts"]["ratings"]["item"].__setitem__(1, "neng")),
        ("label null → text", lambda b: b["facts"]["indicator_results"]["label"].__setitem__(0, "")),
        ("target null → 0", lambda b: b["facts"]["indicator_results"]["target"].__setitem__(1, 0.0)),
        ("count", lambda b: b["facts"]["votes"]["count"].__setitem__(1, 1)),
        ("a row more", lambda b: [v.append(v[0]) for v in b["facts"]["votes"].values()]),
        ("official layer", lambda b: b["officials"]["layer"].__setitem__(0, "member")),
        ("scheme", lambda b: b["scheme"].__setitem__("score_decimals", 3)),
        ("cycle metadata", lambda b: b["cycle"].__setitem__("name", "2025年度考核（复核）")),
        ("string boundary", lambda b: b["facts"]["adjustments"].update(source=["督"], reason=["查逾期"])),
    ],
)
def test_input_digest_changes_when_any_value_changes(where: str, change: Any) -> None:
    bundle = _rich()
    changed = copy.deepcopy(bundle)
    change(changed)
    assert _digest(changed) != _digest(bundle), where


def test_json_round_trip_gives_the_same_input_and_results_digests() -> None:
    bundle = _rich()
    again = json.loads(canonical_json(bundle))
    assert bundle_digest(again) == bundle_digest(bundle)
    out = compute_bundle(bundle)
    back = compute_bundle(json.loads(canonical_json(bundle)))
    assert (back["bundle_digest"], back["results_digest"]) == (out["bundle_digest"], out["results_digest"])
    assert canonical_json(back) == canonical_json(out)


def test_frames_from_another_source_digest_like_the_loaded_bundle() -> None:
    """The database path: frames with other dtypes, row order and missing columns, same values."""
    bundle = _rich()
    loaded = load_bundle(bundle)
    f = loaded.facts
    facts = Facts(
        indicator_results=f.indicator_results.reverse(),
        ratings=f.ratings.with_columns(pl.col("entity").cast(pl.Categorical)).sample(
            fraction=1.0, shuffle=True, seed=1
        ),
        votes=f.votes.with_columns(pl.col("count").cast(pl.Int32)),
        adjustments=f.adjustments.select("entity", "kind", "points", "source", "reason"),
        previous=pl.DataFrame(),
    )
    other = cycle_input(bundle["scheme"], loaded.units, loaded.officials, facts)
    assert other.facts.ratings.schema == loaded.facts.ratings.schema
    assert input_digest(other, bundle["scheme"], bundle["cycle"]) == bundle_digest(bundle)
    assert results_digest(compute(other)) == results_digest(compute(loaded))


def test_nan_and_inf_are_null_and_negative_zero_is_zero() -> None:
    """JSON cannot carry NaN or ±inf (canonical JSON writes null) and the engine reads a null float
    as missing, so NaN, ±inf and null are one value to the digest; -0.0 sorts equal to 0.0 and is
    hashed as 0.0, so that row order cannot matter."""
    bundle = _rich()
    base = _digest(bundle)
    for bad in (float("nan"), float("inf"), float("-inf")):
        odd = copy.deepcopy(bundle)
        odd["facts"]["indicator_results"]["target"][1] = bad
        assert _digest(odd) == base
        assert json.loads(canonical_json(odd))["facts"]["indicator_results"]["target"][1] is None
    zero = copy.deepcopy(bundle)
    zero["facts"]["ratings"]["score"][4] = 0.0
    assert _digest(zero) == base
    nan_score = copy.deepcopy(bundle)
    nan_score["facts"]["ratings"]["score"][4] = None
    assert _digest(nan_score) != base  # null is not 0.0: the validity bytes differ
    loaded = load_bundle(bundle)
    assert loaded.facts.ratings["score"].to_list()[-1] == 0.0
    assert str(loaded.facts.ratings["score"].to_list()[-1]) == "0.0"


def test_results_digest_covers_frames_and_decisions_not_explanations() -> None:
    bundle = _rich()
    inp = load_bundle(bundle)
    results = compute(inp)
    base = results_digest(results)
    totals = results.entities.with_columns(pl.col("total") + 0.01)
    assert results_digest(type(results)(**{**results.__dict__, "entities": totals})) != base
    decided = {**results.decisions, "U1": {"x": 1}}
    assert results_digest(type(results)(**{**results.__dict__, "decisions": decided})) != base
    # The digest is of the results, whatever is added to their JSON for people.
    assert results_to_dict(results, inp.scheme, True)["explanations"]
    assert results_digest(compute(inp)) == base


class _Sha:
    """The documented stream, written with struct and hashlib only."""

    def __init__(self) -> None:
        self.sha = hashlib.sha256()

    def u64(self, n: int) -> None:
        self.sha.update(struct.pack("<Q", n))

    def blob(self, data: bytes) -> None:
        self.u64(len(data))
        self.sha.update(data)

    def column(self, name: str, tag: str, valid: list[int], values: bytes | list[str | None]) -> None:
        self.blob(name.encode())
        self.blob(tag.encode())
        self.blob(bytes(valid))
        if tag == "str":
            assert isinstance(values, list)
            self.blob(b"".join(struct.pack("<Q", len((v or "").encode())) for v in values))
            self.blob("".join(v or "" for v in values).encode())
        else:
            assert isinstance(values, bytes)
            self.blob(values)

    def table(self, name: str, columns: list[tuple[str, str]], rows: int) -> None:
        self.blob(name.encode())
        self.u64(len(columns))
        self.u64(rows)

    def empty(self, name: str, columns: list[tuple[str, str]]) -> None:
        self.table(name, columns, 0)
        for col, tag in columns:
            self.column(col, tag, [], [] if tag == "str" else b"")


ADJ = [("entity", "str"), ("kind", "str"), ("points", "f64"), ("level", "str"), ("indicator", "str"),
       ("source", "str"), ("reason", "str")]  # fmt: skip
PREV = [("entity", "str"), ("rank", "i64"), ("category_size", "i64"), ("grade", "str")]
RES = [("entity", "str"), ("indicator", "str"), ("value", "f64"), ("label", "str"), ("target", "f64"),
       ("last_year", "f64")]  # fmt: skip
RAT = [("entity", "str"), ("group", "str"), ("item", "str"), ("score", "f64")]


def _tiny_stream(scheme: dict[str, Any]) -> _Sha:
    """The version 1 stream of one unit U1 (county) with one vote row."""
    sha = _Sha()
    sha.blob(b"jixiao.cycle-input")
    sha.blob(DIGEST_SCHEME.encode())
    sha.blob(canonical_json({"cycle": {"year": 2025}, "scheme": scheme}))
    sha.table("units", [("id", "str"), ("category", "str")], 1)
    sha.column("id", "str", [1], ["U1"])
    sha.column("category", "str", [1], ["county"])
    sha.table("officials", [("id", "str")] * 4, 0)
    for name in ("id", "unit", "layer", "category"):
        sha.column(name, "str", [], [])
    sha.empty("indicator_results", RES)
    sha.empty("ratings", RAT)
    sha.table("votes", [("entity", "str"), ("label", "str"), ("count", "i64")], 1)
    sha.column("entity", "str", [1], ["U1"])
    sha.column("label", "str", [1], ["优秀"])
    sha.column("count", "i64", [1], struct.pack("<q", 2))
    sha.empty("adjustments", ADJ)
    sha.empty("previous", PREV)
    return sha


def _tiny(scheme: dict[str, Any], version: int = 1) -> dict[str, Any]:
    return {
        "format": "jixiao.cycle-bundle", "version": version, "cycle": {"year": 2025}, "scheme": scheme,
        "units": {"id": ["U1"], "category": ["county"]},
        "officials": {"id": [], "unit": [], "layer": [], "category": []},
        "facts": {"votes": {"entity": ["U1"], "label": ["优秀"], "count": [2]}},
    }  # fmt: skip


def test_the_documented_byte_stream_for_a_tiny_input() -> None:
    """Reimplements docs/scoring.md "Digests" for a bundle with one unit and one vote."""
    from jixiao.scoring.tests.examples import county_category, official_category, scheme_dict

    scheme = scheme_dict(county_category(), official_category())
    assert bundle_digest(_tiny(scheme)) == _tiny_stream(scheme).sha.hexdigest()


def test_the_documented_version_2_tail_for_a_tiny_input() -> None:
    """Zones, declared leaves and routine reports add three tables after the version 1 stream."""
    from jixiao.scoring.tests.examples import county_category, official_category, scheme_dict

    scheme = scheme_dict(county_category(), official_category())
    bundle = _tiny(scheme, 2)
    bundle["units"]["zone"] = ["生态保护区"]
    bundle["declared"] = {"entity": ["U1", "U1"], "code": ["D2", "D1"], "parent": ["county.A", "county.A"],
                          "weight": [1.0, 2.5], "component": ["annual", "annual"], "rule": ["completion"] * 2,
                          "params": ['{"target":100}', None], "low_ambition": [True, None]}  # fmt: skip
    bundle["facts"]["routine"] = {
        "entity": ["U1"],
        "indicator": ["D1"],
        "period": ["2026-03"],
        "grade": ["完成"],
    }
    sha = _tiny_stream(scheme)
    sha.table("unit_zones", [("id", "str"), ("zone", "str")], 1)
    sha.column("id", "str", [1], ["U1"])
    sha.column("zone", "str", [1], ["生态保护区"])
    sha.table("declared", [("entity", "str")] * 8, 2)  # rows sorted: D1 before D2
    sha.column("entity", "str", [1, 1], ["U1", "U1"])
    sha.column("code", "str", [1, 1], ["D1", "D2"])
    sha.column("parent", "str", [1, 1], ["county.A", "county.A"])
    sha.column("weight", "f64", [1, 1], struct.pack("<dd", 2.5, 1.0))
    sha.column("component", "str", [1, 1], ["annual", "annual"])
    sha.column("rule", "str", [1, 1], ["completion", "completion"])
    sha.column("params", "str", [0, 1], [None, '{"target":100}'])
    sha.column("low_ambition", "bool", [0, 1], bytes([0, 1]))
    sha.table("routine", [("entity", "str")] * 4, 1)
    for name, value in (("entity", "U1"), ("indicator", "D1"), ("period", "2026-03"), ("grade", "完成")):
        sha.column(name, "str", [1], [value])
    assert bundle_digest(bundle) == sha.sha.hexdigest()


# -- the sort by all columns, against a plain Polars sort ----------------------------------------


FLOATS = st.one_of(
    st.none(),
    st.sampled_from([0.0, -0.0, 1.0, 95.5, 79.05, -3.25, 1e300, -1e300, float("nan"), float("inf")]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-500, 500).map(lambda k: k / 100),
)
STRINGS = st.one_of(st.none(), st.sampled_from(["", "a", "ab", "b", "U1", "U10", "U2", "好", "\x00", "a\x00"]),
                    st.text(max_size=4))  # fmt: skip
INTS = st.one_of(
    st.none(), st.integers(-3, 3), st.integers(-(2**63), 2**63 - 1), st.sampled_from([-(2**63), 2**63 - 1])
)
KINDS = {"str": (STRINGS, pl.String()), "f64": (FLOATS, pl.Float64()), "i64": (INTS, pl.Int64()),
         "bool": (st.one_of(st.none(), st.booleans()), pl.Boolean())}  # fmt: skip


@st.composite
def _frames(draw: st.DrawFn) -> pl.DataFrame:
    kinds = draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=5))
    rows = draw(st.integers(0, 40))
    # Few distinct rows, so that rows and leading columns tie.
    pool = [[draw(KINDS[k][0]) for k in kinds] for _ in range(draw(st.integers(1, 6)))]
    picks = draw(st.lists(st.integers(0, len(pool) - 1), min_size=rows, max_size=rows))
    mutate = draw(
        st.lists(st.tuples(st.integers(0, max(rows - 1, 0)), st.integers(0, len(kinds) - 1)), max_size=8)
    )
    data = [list(pool[i]) for i in picks]
    for r, c in mutate:
        if rows:
            data[r][c] = draw(KINDS[kinds[c]][0])
    schema = {f"c{i}": KINDS[k][1] for i, k in enumerate(kinds)}
    frame = pl.DataFrame(data, schema=schema, orient="row")
    return digests.full_frame(frame, schema)


def _plain_table(frame: pl.DataFrame) -> str:
    """The table's stream the obvious way: a Polars sort by every column, then each row's bytes."""
    sha = _Sha()
    ordered = frame.sort(frame.columns, nulls_last=True) if frame.height else frame
    sha.blob(b"t")
    sha.u64(frame.width)
    sha.u64(frame.height)
    for series in ordered.iter_columns():
        values = series.to_list()
        valid = [int(v is not None) for v in values]
        if series.dtype == pl.String:
            sha.column(series.name, "str", valid, values)
        elif series.dtype == pl.Float64:
            sha.column(series.name, "f64", valid, b"".join(struct.pack("<d", v or 0.0) for v in values))
        elif series.dtype == pl.Int64:
            sha.column(series.name, "i64", valid, b"".join(struct.pack("<q", v or 0) for v in values))
        else:
            sha.column(series.name, "bool", valid, bytes(int(bool(v)) for v in values))
    return sha.sha.hexdigest()


def _fast_table(frame: pl.DataFrame, hints: digests.Hints, how: str) -> str:
    stream = digests._Stream(threaded=how == "threaded")
    stream.text("t")
    stream.count(frame.width)
    stream.count(frame.height)
    if how == "polars" and frame.height >= 2:
        columns = digests._multisorted(frame, hints)
    else:
        columns = digests._sorted_columns(frame, hints)
    for name, parts in columns:
        digests._write(stream, name, parts)
    return stream.hexdigest()


@settings(max_examples=300, deadline=None)
@given(_frames(), st.sampled_from(["packed", "polars", "threaded"]), st.booleans(), st.booleans())
def test_the_fast_sort_hashes_like_a_plain_sort(
    frame: pl.DataFrame, how: str, hinted: bool, search: bool
) -> None:
    hints: dict[str, digests._Dictionary] = {}
    if hinted and frame.schema["c0"] == pl.String():
        # A hint covering the column, or missing one of its values (then it is not used).
        ids = pl.Series(["U1", "U10", "U2", "a", "ab", "b", "", *frame["c0"].drop_nulls().to_list()[:-1]])
        ids = ids.unique().sort()
        hints["c0"] = digests._Dictionary(ids)
    # ``search``: strings coded by a binary search in their distinct values (as above 2**18 of them).
    with mock.patch.object(digests, "_ENUM_MAX", 0 if search else digests._ENUM_MAX):
        assert _fast_table(frame, hints, how) == _plain_table(frame)


@settings(max_examples=200, deadline=None)
@given(_frames(), st.sampled_from(["packed", "polars", "threaded"]), st.sampled_from(["hint", "shuffled"]))
def test_enum_keys_hash_like_their_strings(frame: pl.DataFrame, how: str, categories: str) -> None:
    """An adapter may pass string keys as ``pl.Enum``: with the hint's (sorted) categories they
    are coded by their physical codes, with any other categories (unsorted, unused ones) by the
    rank of their text; the bytes are those of the strings either way."""
    if frame.schema["c0"] != pl.String():
        return
    values = sorted({*frame["c0"].drop_nulls().to_list(), "U1", "U10", "zz"})
    hints = {"c0": digests._Dictionary(pl.Series(values, dtype=pl.String))}
    order = values if categories == "hint" else list(reversed(values))
    keyed = frame.with_columns(pl.col("c0").cast(pl.Enum(order)))
    assert digests.full_frame(keyed, dict(frame.schema)).schema["c0"] == pl.Enum(order)
    assert _fast_table(keyed, hints, how) == _plain_table(frame)
    assert _fast_table(keyed, {}, how) == _plain_table(frame)


def test_a_column_with_a_value_the_sample_misses_is_coded_in_full() -> None:
    """Over 2**20 rows a string column is first tried against the distinct values of a sample."""
    n = (1 << 20) + 5
    frame = pl.DataFrame({"g": ["org", "peer"] * (n // 2) + ["rare"], "x": [1.5, 2.25] * (n // 2) + [None]})
    assert _fast_table(frame, {}, "packed") == _fast_table(frame, {}, "polars")
    coded = digests._code(frame["g"], None)
    assert isinstance(coded, digests._Strings) and coded.dictionary.values.to_list() == [
        "org",
        "peer",
        "rare",
        None,
    ]


def test_a_results_float_column_is_hashed_canonical() -> None:
    """Results frames are hashed as they are: NaN/±inf are null, -0.0 is 0.0 there too."""
    series = pl.Series("x", [1.5, float("nan"), None, float("inf"), -0.0, float("-inf"), -2.0])
    tag, (valid, values) = digests._parts(series)
    assert tag == "f64"
    assert bytes(valid) == bytes([1, 0, 0, 0, 1, 0, 1])
    assert bytes(values) == struct.pack("<7d", 1.5, 0.0, 0.0, 0.0, 0.0, 0.0, -2.0)
    assert (
        struct.unpack("<7d", bytes(values))[4] == 0.0 and str(struct.unpack("<7d", bytes(values))[4]) == "0.0"
    )
    tag, (valid, values) = digests._parts(pl.Series("x", [1.5, None], dtype=pl.Float32))
    assert (tag, bytes(valid), bytes(values)) == ("f64", bytes([1, 0]), struct.pack("<2d", 1.5, 0.0))


def test_a_column_that_cannot_be_hashed_raises_through_the_threads() -> None:
    from datetime import date

    from jixiao.scoring.errors import BundleError

    results = compute(load_bundle(_rich()))
    odd = results.entities.with_columns(pl.lit(date(2025, 1, 1)).alias("when"))
    with pytest.raises(BundleError):
        results_digest(type(results)(**{**results.__dict__, "entities": odd}))
    assert results_digest(results) == results_digest(compute(load_bundle(_rich())))
