"""Benchmark the scoring engine against the reference on synthetic data.

Run: ``uv run python bench/bench_engine.py [--scale province|prefecture] [--seed N] [--declared N]
[--keys string|enum|both] [--repeat N] [--no-reference] [--no-serialise]``.

``--keys both`` (the default) times the engine on string keys and on ``pl.Enum`` keys in one run,
printing wall and CPU (``time.process_time``) times, the load average before and after, and the
results digest of each (equal: the key form never changes the results).

``--declared N`` (default 140) gives every unit N declared leaves of its own (levels 3–4 under the
framework's level-2 nodes, one in ten a level 4 under another declared leaf) with a result each:
1.4 M declared leaves at province scale. The input digest is timed on its own.

Synthesises in memory a province (10,000 units, 100,000 officials, ~10 million individual
ratings, ~500,000 indicator results, ~50,000 adjustments) or a prefecture (1%), times
``jixiao.scoring.engine.compute``, times the plain-Python reference on a 1% slice and scales it
to the same rows, and prints the ratio and the peak RSS. Then it times the serialisation that
``compute_bundle`` does: ``digest`` of the cycle bundle (the facts as JSON lists) and
``results_to_dict(explanations=True)`` + ``canonical_json`` + SHA-256 of the results (skip with
``--no-serialise``). Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from jixiao.scoring.bundle import FORMAT, VERSION, canonical_json, digest, results_to_dict
from jixiao.scoring.digests import input_digest, results_digest
from jixiao.scoring.engine import compute
from jixiao.scoring.reference import reference_compute
from jixiao.scoring.scheme import parse_scheme
from jixiao.scoring.types import CycleInput, Facts, Officials, Units

UNIT_CATEGORIES = 8
LEAVES_PER_CATEGORY = 40
OFFICIALS_PER_UNIT = 10
RULES: list[dict[str, Any]] = [
    {"type": "completion", "params": {"cap": 1.2, "floor": 0.3}},
    {"type": "steps", "params": {"steps": [[90, 1.0], [75, 0.8], [60, 0.6]], "below": 0.2}},
    {"type": "threshold_deduction", "params": {"threshold": 80, "per_unit": 0.02}},
    {"type": "bonus_deduction", "params": {"base": 1.0, "per_unit": -0.1, "cap": 0.5}},
    {"type": "rank_points", "params": {"points": [60, 57, 54, 51, 48], "floor": 40}},
    {"type": "best_proportion", "params": {}},
    {"type": "yoy_improvement", "params": {"base": 0.6, "per_point": 0.04}},
    {"type": "vs_average", "params": {"tiers": [[1.1, 1.0], [1.0, 0.9], [0.9, 0.75]], "below": 0.5}},
]
GROUPS = [
    {"code": "org", "min_ballots": 1},
    {"code": "superior", "min_ballots": 2},
    {"code": "peer", "trim_share": 0.05, "trim_min_count": 5, "min_ballots": 3},
    {"code": "public", "trim_share": 0.05, "trim_min_count": 20, "min_ballots": 30},
    {"code": "third", "min_ballots": 1},
    {"code": "media", "min_ballots": 1},
]
ITEMS = ["de", "neng", "qin", "ji", "lian"]


def province_scheme() -> dict[str, Any]:
    """Return a scheme with 8 unit categories (4-level trees) and 3 official categories."""
    cats: list[dict[str, Any]] = []
    for c in range(UNIT_CATEGORIES):
        code = f"C{c}"
        nodes: list[dict[str, Any]] = []
        for a in range(4):  # level 1
            nodes.append({"code": f"{code}.{a}", "parent": None, "weight": 10 + a})
            for b in range(2):  # level 2
                nodes.append({"code": f"{code}.{a}.{b}", "parent": f"{code}.{a}", "weight": 1 + b})
                for k in range(5):  # level 3 leaves (level 4 for k == 4)
                    leaf = len([n for n in nodes if "rule" in n])
                    parent = f"{code}.{a}.{b}"
                    if k == 4:
                        nodes.append({"code": f"{code}.{a}.{b}.x", "parent": parent, "weight": 2})
                        parent = f"{code}.{a}.{b}.x"
                    nodes.append({
                        "code": f"{code}.{a}.{b}.{k}", "parent": parent, "weight": 1 + k % 3,
                        "component": ["routine", "annual", "annual", "building"][a],
                        "rule": RULES[leaf % len(RULES)],
                    })  # fmt: skip
        cats.append({
            "code": code, "subject": "unit",
            "components": [
                {"code": "routine", "source": "indicators", "weight": 20},
                {"code": "annual", "source": "indicators", "weight": 45},
                {"code": "building", "source": "indicators", "weight": 20},
                {"code": "public", "source": "ratings", "weight": 15,
                 "groups": {"public": 35, "third": 15, "media": 5}},
            ],
            "indicators": nodes, "tie_break": ["annual"],
            "adjustments": {"deduction_component": "annual", "bonus_cap": 3},
            "grading": {
                "levels": [{"label": "优秀", "ratio": 0.15}, {"label": "良好", "ratio": None},
                           {"label": "一般", "ratio": 0.05}],
                "hard_rules": [{"type": "last_place_twice"}],
                "sanctions": [{"level": "accountable", "effect": "forced", "grade": "一般"}],
            },
        })  # fmt: skip
    for code in ("heads", "members", "others"):
        cats.append({
            "code": code, "subject": "official",
            "components": [
                {"code": "team", "source": "team", "weight": 50, "layer_weights": {"head": 70}},
                {"code": "portfolio", "source": "indicators", "weight": 30, "layer_weights": {"head": 0}},
                {"code": "quality", "source": "ratings", "weight": 20, "layer_weights": {"head": 30},
                 "groups": {"org": 20, "superior": 30, "peer": 50}},
            ],
            "indicators": [{"code": f"{code}.P", "parent": None, "weight": 1, "component": "portfolio",
                            "rule": {"type": "completion", "params": {"target": 100}}}],
            "grading": {
                "levels": [{"label": "优秀", "ratio": 0.15}, {"label": "称职", "ratio": None},
                           {"label": "基本称职", "ratio": 0.04, "by_rank": False},
                           {"label": "不称职", "ratio": 0.01, "by_rank": False}],
                "hard_rules": [
                    {"type": "bottom_share", "share": 0.05, "grade": "基本称职"},
                    {"type": "bottom_share", "share": 0.02, "grade": "基本称职", "component": "quality"},
                    {"type": "target_below", "threshold": 0.6, "grade": "基本称职"},
                    {"type": "vote_share", "labels": ["基本称职", "不称职"], "more_than": "1/3", "grade": "基本称职"},
                ],
                "sanctions": [{"level": "admonish", "effect": "ceiling", "grade": "称职"},
                              {"level": "demerit", "effect": "no_grade"},
                              {"level": "removal", "effect": "forced", "grade": "不称职"}],
                "team_caps": {"优秀": {"member_share": 0.3}, "良好": {"member_share": 0.2, "head_ceiling": "称职"},
                              "一般": {"member_share": 0.15, "head_ceiling": "基本称职"}},
            },
        })  # fmt: skip
    return {"score_decimals": 2, "rater_groups": GROUPS, "categories": cats}


DECLARED_RULES = [
    ("completion", '{"cap":1.2,"floor":0.3}'),
    ("completion", '{"target":100}'),
    ("steps", '{"below":0.2,"steps":[[90,1.0],[75,0.8],[60,0.6]]}'),
    ("threshold_deduction", '{"per_unit":0.02,"threshold":80}'),
    ("bonus_deduction", '{"base":1.0,"cap":0.5,"per_unit":-0.1}'),
    ("yoy_improvement", '{"base":0.6,"per_point":0.04}'),
]
ROOT_COMPONENT = ["routine", "annual", "annual", "building"]


def declared_leaves(unit_ids: list[str], unit_cat: np.ndarray[Any, Any], per_unit: int,
                    rng: np.random.Generator) -> tuple[pl.DataFrame, pl.DataFrame]:  # fmt: skip
    """Return (declared table, their indicator results): ``per_unit`` declared nodes per unit."""
    n_u = len(unit_ids)
    n = n_u * per_unit
    owner = np.repeat(np.arange(n_u), per_unit)
    k = np.tile(np.arange(per_unit), n_u)
    a = rng.integers(0, 4, n)  # level 1 under which the node hangs
    b = rng.integers(0, 2, n)
    codes = pl.Series([f"D{i:07d}" for i in range(n)], dtype=pl.String)
    fw_parent = pl.Series([f"C{c}.{x}.{y}" for c, x, y in zip(unit_cat[owner].tolist(), a.tolist(), b.tolist(),
                                                                strict=True)], dtype=pl.String)  # fmt: skip
    level4 = (k % 10 == 9) & (k > 0)  # under the previous declared node of the same unit
    parent = fw_parent.zip_with(pl.Series(~level4), codes.shift(1).fill_null(""))
    a = np.where(level4, np.roll(a, 1), a)  # the component of the parent's branch
    rule = rng.integers(0, len(DECLARED_RULES), n)
    declared = pl.DataFrame({
        "entity": _take(unit_ids, owner), "code": codes, "parent": parent,
        "weight": rng.integers(1, 4, n).astype(np.float64),
        "component": _take(ROOT_COMPONENT, a), "rule": _take([r for r, _ in DECLARED_RULES], rule),
        "params": _take([p for _, p in DECLARED_RULES], rule), "low_ambition": rng.random(n) < 0.01,
    })  # fmt: skip
    inner = np.zeros(n, dtype=np.bool_)
    inner[np.flatnonzero(level4) - 1] = True
    leaf = np.flatnonzero(~inner)
    results = pl.DataFrame({
        "entity": _take(unit_ids, owner[leaf]), "indicator": codes.gather(pl.Series(leaf)),
        "value": np.round(rng.uniform(40, 120, leaf.size), 1), "target": np.full(leaf.size, 100.0),
        "last_year": np.round(rng.uniform(40, 110, leaf.size), 1),
    })  # fmt: skip
    return declared, results


@dataclass(frozen=True)
class Sizes:
    units: int
    public_per_unit: int
    raters_per_official: tuple[int, int, int]  # org, superior, peer ballots (× 5 items)
    adjustments: int


SCALES = {
    "province": Sizes(10_000, 300, (1, 2, 11), 50_000),
    "prefecture": Sizes(100, 300, (1, 2, 11), 500),
}


def _take(values: list[str], idx: np.ndarray[Any, Any]) -> pl.Series:
    return pl.Series(values, dtype=pl.String).gather(pl.Series(idx.astype(np.int64)))


def synthesise(sizes: Sizes, seed: int, declared_per_unit: int = 0) -> CycleInput:
    """Return a random but realistic cycle of the given size (with declared leaves per unit)."""
    rng = np.random.default_rng(seed)
    scheme = parse_scheme(province_scheme())
    n_u = sizes.units
    unit_ids = [f"U{i:06d}" for i in range(n_u)]
    unit_cat = rng.integers(0, UNIT_CATEGORIES, n_u)
    n_o = n_u * OFFICIALS_PER_UNIT
    off_ids = [f"O{i:07d}" for i in range(n_o)]
    off_unit = np.repeat(np.arange(n_u), OFFICIALS_PER_UNIT)
    slot = np.tile(np.arange(OFFICIALS_PER_UNIT), n_u)
    layer = np.where(slot == 0, 0, np.where(slot < 5, 1, 2))
    layers = np.array(["head", "member", "other"])[layer]
    off_cat = np.array(["heads", "members", "others"])[layer]
    # Indicator results: every unit reports every leaf of its category; officials their portfolio.
    leaves = [
        [n.code for n in scheme.categories[c].nodes if n.rule is not None] for c in range(UNIT_CATEGORIES)
    ]
    n_leaf = len(leaves[0])
    r_ent = np.repeat(np.arange(n_u), n_leaf)
    r_leaf_local = np.tile(np.arange(n_leaf), n_u)
    all_leaves = [code for c in leaves for code in c]
    r_leaf = unit_cat[r_ent] * n_leaf + r_leaf_local
    n_r = r_ent.size
    results = pl.DataFrame(
        {
            "entity": pl.concat([_take(unit_ids, r_ent), pl.Series(off_ids)]),
            "indicator": pl.concat(
                [_take(all_leaves, r_leaf), _take(["heads.P", "members.P", "others.P"], layer)]
            ),
            "value": np.concatenate(
                [np.round(rng.uniform(40, 120, n_r), 1), np.round(rng.uniform(50, 110, n_o), 1)]
            ),
            "target": np.concatenate([np.full(n_r, 100.0), np.full(n_o, np.nan)]),
            "last_year": np.concatenate([np.round(rng.uniform(40, 110, n_r), 1), np.full(n_o, np.nan)]),
        }
    ).with_columns(pl.col("target").fill_nan(None), pl.col("last_year").fill_nan(None))
    # Ratings: public/third/media for units, org/superior/peer × 5 items for officials.
    pub = np.repeat(np.arange(n_u), sizes.public_per_unit)
    org, sup, peer = sizes.raters_per_official
    per_off = (org + sup + peer) * len(ITEMS)
    off_rows = np.repeat(np.arange(n_o), per_off)
    group_pattern = np.repeat(np.array([0] * org + [1] * sup + [2] * peer), len(ITEMS))
    item_pattern = np.tile(np.arange(len(ITEMS)), org + sup + peer)
    unit_group = rng.choice(np.array([3, 4, 5]), size=pub.size, p=[0.9, 0.05, 0.05])
    ratings = pl.DataFrame({
        "entity": pl.concat([_take(unit_ids, pub), _take(off_ids, off_rows)]),
        "group": _take([g["code"] for g in GROUPS], np.concatenate([unit_group, np.tile(group_pattern, n_o)])),
        "item": _take(["overall", *ITEMS], np.concatenate([np.zeros(pub.size, np.int64), np.tile(item_pattern, n_o) + 1])),
        "score": np.concatenate([
            rng.choice(np.array([100.0, 80.0, 60.0, 30.0, 0.0]), pub.size, p=[0.5, 0.3, 0.12, 0.05, 0.03]),
            np.round(rng.normal(85, 6, off_rows.size).clip(0, 100), 1),
        ]),
    })  # fmt: skip
    n_votes = n_o
    votes = pl.DataFrame({
        "entity": _take(off_ids, np.repeat(np.arange(n_votes), 4)),
        "label": _take(["优秀", "称职", "基本称职", "不称职"], np.tile(np.arange(4), n_votes)),
        "count": rng.poisson(np.tile(np.array([8.0, 10.0, 1.5, 0.5]), n_votes)),
    })  # fmt: skip
    n_a = sizes.adjustments
    a_kind = rng.choice(np.array(["deduction", "bonus", "debt", "veto_excellent", "sanction", "no_grade"]), n_a,
                        p=[0.6, 0.25, 0.05, 0.04, 0.05, 0.01])  # fmt: skip
    a_unit_side = np.isin(a_kind, ["deduction", "bonus", "debt"])
    a_ent = np.where(a_unit_side, rng.integers(0, n_u, n_a), n_u + rng.integers(0, n_o, n_a))
    all_ids = unit_ids + off_ids
    adjustments = pl.DataFrame({
        "entity": _take(all_ids, a_ent), "kind": a_kind,
        "points": np.where(a_unit_side, np.round(rng.uniform(0, 2, n_a), 1), np.nan),
        "level": pl.Series(np.where(a_kind == "sanction", rng.choice(np.array(["admonish", "demerit", "removal"]), n_a), "")).replace("", None),
        "source": np.full(n_a, "督查"), "reason": np.full(n_a, "synthetic"),
    }).with_columns(pl.col("points").fill_nan(None))  # fmt: skip
    previous = pl.DataFrame({
        "entity": unit_ids, "rank": rng.integers(1, 1 + n_u // UNIT_CATEGORIES, n_u),
        "category_size": np.full(n_u, n_u // UNIT_CATEGORIES),
    })  # fmt: skip
    declared = pl.DataFrame()
    if declared_per_unit:
        declared, own = declared_leaves(unit_ids, unit_cat, declared_per_unit, rng)
        results = pl.concat([results, own], how="diagonal_relaxed")
    return CycleInput(
        scheme=scheme,
        units=Units(np.array(unit_ids), np.array([f"C{c}" for c in unit_cat])),
        officials=Officials(np.array(off_ids), np.array(unit_ids)[off_unit], layers, off_cat),
        facts=Facts(results, ratings, votes, adjustments, previous),
        declared=declared,
    )


def bundle_of(inp: CycleInput) -> dict[str, Any]:
    """Return the cycle bundle (columnar lists, as ``results.services.cycle_bundle`` builds it)."""
    f = inp.facts
    tables = {"indicator_results": f.indicator_results, "ratings": f.ratings, "votes": f.votes,
              "adjustments": f.adjustments, "previous": f.previous}  # fmt: skip
    return {
        "format": FORMAT, "version": VERSION, "cycle": {"code": "bench"}, "scheme": province_scheme(),
        "units": {"id": inp.units.id.tolist(), "category": inp.units.category.tolist()},
        "officials": {c: getattr(inp.officials, c).tolist() for c in ("id", "unit", "layer", "category")},
        "facts": {name: {c: t.get_column(c).to_list() for c in t.columns} for name, t in tables.items()},
        "declared": {c: inp.declared.get_column(c).to_list() for c in inp.declared.columns},
    }  # fmt: skip


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> str:
    wall, cpu = _clock()
    return f"{wall - start[0]:.2f} s ({cpu - start[1]:.2f} s CPU)"


def serialise(inp: CycleInput) -> None:
    """Time what compute_bundle does after compute: the bundle digest and the results JSON.

    CPU time is printed too: on a shared machine it is the steadier number.
    """
    t0 = time.perf_counter()
    bundle = bundle_of(inp)
    print(f"bundle as lists: {time.perf_counter() - t0:.1f} s")
    c0 = _clock()
    bundle_digest = digest(bundle)
    print(f"digest(bundle): {_since(c0)} ({bundle_digest[:12]})")
    del bundle
    results = compute(inp)
    c0 = _clock()
    out = results_to_dict(results, inp.scheme, explanations=True)
    print(f"results_to_dict(explanations=True): {_since(c0)} for {len(out['explanations']):,} entities")
    c1 = _clock()
    text = canonical_json(out)
    print(f"canonical_json(results): {_since(c1)} ({len(text) / 2**20:,.0f} MiB)")
    c2 = _clock()
    results_digest = hashlib.sha256(text).hexdigest()
    print(
        f"sha256: {_since(c2)}; results_to_dict + canonical_json + sha256: {_since(c0)} ({results_digest[:12]})"
    )


def enum_keys(inp: CycleInput) -> CycleInput:
    """Return ``inp`` with the key columns pre-encoded as ``pl.Enum``, as the adapter
    (``results.engine_io``) passes them.

    Entity columns use the engine's own id order (sorted ids), so encoding them is free. The
    declared table stays in code order (``declared_leaves`` builds it so; the adapter reads it so),
    which lets the engine skip its sort.
    """
    ids = sorted([*inp.units.id.tolist(), *inp.officials.id.tolist()])
    f = inp.facts

    def enum(frame: pl.DataFrame, key: str) -> pl.Expr:
        cats = ids if key == "entity" else sorted(frame.get_column(key).unique().to_list())
        return pl.col(key).cast(pl.Enum(cats))

    keys = {"indicator_results": ("entity", "indicator"), "ratings": ("entity", "group", "item"),
            "votes": ("entity", "label"), "adjustments": ("entity", "kind"), "previous": ("entity",)}  # fmt: skip
    tables = {
        name: getattr(f, name).with_columns(enum(getattr(f, name), k) for k in ks)
        for name, ks in keys.items()
    }
    declared = inp.declared
    if declared.height:
        declared = declared.with_columns(pl.col("entity").cast(pl.Enum(ids)))
    return CycleInput(inp.scheme, inp.units, inp.officials, Facts(**tables), declared)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def time_engine(inp: CycleInput, keys: str, repeat: int) -> tuple[float, float]:
    """Time ``compute(inp)`` ``repeat`` times; print wall, CPU and the load around them; return the
    best (wall, CPU) seconds. The results digest shows that both key forms give the same results."""
    times, cpu = [], []
    load_before = _load()
    results = None
    for _ in range(repeat):
        c0 = _clock()
        results = compute(inp)
        wall, c = _clock()
        times.append(wall - c0[0])
        cpu.append(c - c0[1])
    assert results is not None
    print(f"engine ({keys} keys): best {min(times):.2f} s of {repeat} ({', '.join(f'{t:.2f}' for t in times)}); "
          f"CPU best {min(cpu):.2f} s ({', '.join(f'{t:.2f}' for t in cpu)}); load {load_before} → {_load()}; "
          f"results digest {results_digest(results)[:16]}")  # fmt: skip
    return min(times), min(cpu)


def _rows(inp: CycleInput) -> int:
    f = inp.facts
    return (
        f.indicator_results.height
        + f.ratings.height
        + f.votes.height
        + f.adjustments.height
        + inp.declared.height
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="province")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--no-serialise", action="store_true", help="skip the digest and results JSON timings"
    )
    parser.add_argument("--keys", choices=["string", "enum", "both"], default="both",
                        help="key columns as strings, pre-encoded as pl.Enum (as the adapter passes them; the "
                             "encoding is not timed), or both in one run")  # fmt: skip
    parser.add_argument("--no-reference", action="store_true", help="skip the reference timing")
    parser.add_argument("--declared", type=int, default=140, help="declared leaves per unit (0: none)")
    args = parser.parse_args(argv)
    sizes = SCALES[args.scale]
    t0 = time.perf_counter()
    big = synthesise(sizes, args.seed, args.declared)
    f = big.facts
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(f"synthesised {args.scale}: {big.units.id.size:,} units, {big.officials.id.size:,} officials, "
          f"{big.declared.height:,} declared leaves, "
          f"{f.ratings.height:,} ratings, {f.indicator_results.height:,} indicator results, "
          f"{f.adjustments.height:,} adjustments, {f.votes.height:,} vote rows "
          f"in {time.perf_counter() - t0:.1f} s")  # fmt: skip
    inputs = {"string": big}
    if args.keys in ("enum", "both"):
        t0 = time.perf_counter()
        inputs["enum"] = enum_keys(big)
        print(f"key columns pre-encoded as pl.Enum in {time.perf_counter() - t0:.2f} s (not counted below)")
        if args.keys == "enum":
            del inputs["string"]
    best: tuple[float, float] = (float("inf"), float("inf"))
    for keys, inp in inputs.items():
        engine = time_engine(inp, keys, args.repeat)
        best = (min(best[0], engine[0]), min(best[1], engine[1]))
    big = inputs["enum" if args.keys == "enum" else "string"]
    c0 = _clock()
    digest_value = input_digest(big, province_scheme(), {"code": "bench"})
    print(f"input digest: {_since(c0)} ({digest_value[:12]})")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if not args.no_reference:
        reference(big, sizes, args.seed, best, args.declared)
    if not args.no_serialise:
        serialise(big)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024  # KiB on Linux
    print(f"peak RSS: {peak:.2f} GiB")
    return 0


def reference(
    big: CycleInput, sizes: Sizes, seed: int, engine: tuple[float, float], declared: int = 0
) -> None:
    """Time the reference on a 1% slice, scale it to the rows of ``big`` and print the ratio.

    ``engine`` is the best (wall, CPU) seconds of the engine; the CPU ratio is the steadier one
    on a shared machine.
    """
    small_sizes = Sizes(max(sizes.units // 100, 16), sizes.public_per_unit, sizes.raters_per_official,
                        max(sizes.adjustments // 100, 10))  # fmt: skip
    small = synthesise(small_sizes, seed, declared)
    c0 = _clock()
    reference_compute(small)
    wall, cpu = _clock()
    scale = _rows(big) / _rows(small)
    ref_wall, ref_cpu = (wall - c0[0]) * scale, (cpu - c0[1]) * scale
    print(f"reference: {wall - c0[0]:.2f} s ({cpu - c0[1]:.2f} s CPU) on {_rows(small):,} rows → {ref_wall:.0f} s "
          f"({ref_cpu:.0f} s CPU) scaled to {_rows(big):,} rows")  # fmt: skip
    print(
        f"ratio: engine is {ref_wall / engine[0]:.0f}× the reference ({ref_cpu / engine[1]:.0f}× in CPU time)"
    )


if __name__ == "__main__":
    sys.exit(main())
