"""Hypothesis strategies: random but valid cycle bundles (schemes and facts) for the engine."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from jixiao.scoring.tests.examples import OFFICIAL_LEVELS, RATER_GROUPS, TEAM_LEVELS

SCORES = st.integers(0, 200).map(lambda x: x / 2)  # 0.0, 0.5, … 100.0
VALUES = st.one_of(st.none(), st.integers(0, 150).map(float))
ITEMS = ("de", "neng", "overall")


ROW_RULES = [
    "completion",
    "steps",
    "threshold_deduction",
    "bonus_deduction",
    "grade_map",
    "yoy_improvement",
    "veto",
]
GRADE_POINTS = {"完成": 100, "按期": 90, "滞后": 55.5}
ZONES = ("", "Z1", "Z2", "Z3")  # Z3: a zone no category weighs differently
PERIODS = ("2026-01", "2026-02", "2026-03")


def _rule(draw: st.DrawFn, kinds: list[str] | None = None) -> dict[str, Any]:
    kind = draw(st.sampled_from(kinds or [
        "completion", "steps", "threshold_deduction", "bonus_deduction", "grade_map", "rank_points",
        "best_proportion", "yoy_improvement", "vs_average", "veto",
    ]))  # fmt: skip
    params: dict[str, Any] = {
        "completion": {
            "target": 100,
            "cap": draw(st.sampled_from([1.0, 1.2])),
            "floor": draw(st.sampled_from([0, 0.5])),
        },
        "steps": {"steps": [[90, 1.0], [60, 0.6]], "below": 0.1},
        "threshold_deduction": {"threshold": 80, "per_unit": 0.05},
        "bonus_deduction": {"base": 1.0, "per_unit": -0.05, "cap": 0.5},
        "grade_map": {"map": {"优": 1.0, "良": 0.8, "差": 0.3}},
        "rank_points": {"points": [60, 57, 54, 51, 48], "floor": 40},
        "best_proportion": {},
        "yoy_improvement": {"base": 0.6, "per_point": 0.04},
        "vs_average": {"tiers": [[1.1, 1.0], [1.0, 0.8]], "below": 0.5},
        "veto": {},
    }[kind]
    return {"type": kind, "params": params}


def _hard(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    if kind == "low_ambition":
        return {
            "type": kind,
            "grade": draw(st.sampled_from(["一等", "二等", "三等"])),
            "min_count": draw(st.integers(1, 2)),
        }
    return {"type": kind, "share": 0.1, "grade": "三等"}


@st.composite
def bundles(draw: st.DrawFn, max_units: int = 10) -> dict[str, Any]:
    """Return a random cycle bundle with one or two unit categories and an official category."""
    n_cats = draw(st.integers(1, 2))
    w = st.integers(0, 5)
    categories: list[dict[str, Any]] = []
    leaves: dict[str, list[tuple[str, str]]] = {}
    inner: dict[str, list[tuple[str, int]]] = {}  # category → (inner or slot node, depth)
    for c in range(n_cats):
        code = f"C{c}"
        comps = ["routine", "annual", "public"]
        weights = [draw(st.integers(0, 33)) for _ in range(3)]
        weights.append(100 - sum(weights))
        nodes: list[dict[str, Any]] = []
        leaves[code] = []
        inner[code] = []
        if draw(st.booleans()):  # a framework slot the units fill with declared leaves
            nodes.append({"code": f"{code}.s", "parent": None, "weight": draw(w)})
            inner[code].append((f"{code}.s", 1))
        for a in range(draw(st.integers(1, 3))):
            root = f"{code}.{a}"
            if draw(st.booleans()):  # a root leaf
                comp = draw(st.sampled_from(comps[:2]))
                nodes.append(
                    {"code": root, "parent": None, "weight": draw(w), "component": comp, "rule": _rule(draw)}
                )
                leaves[code].append((root, nodes[-1]["rule"]["type"]))
                continue
            nodes.append({"code": root, "parent": None, "weight": draw(w)})
            inner[code].append((root, 1))
            for b in range(draw(st.integers(1, 3))):
                leaf = f"{root}.{b}"
                parent = root
                if draw(st.booleans()):
                    nodes.append({"code": f"{leaf}.x", "parent": root, "weight": draw(w)})
                    parent = f"{leaf}.x"
                    inner[code].append((parent, 2))
                comp = draw(st.sampled_from(comps[:2]))
                nodes.append(
                    {
                        "code": leaf,
                        "parent": parent,
                        "weight": draw(w),
                        "component": comp,
                        "rule": _rule(draw),
                    }
                )
                leaves[code].append((leaf, nodes[-1]["rule"]["type"]))
        hard = draw(st.lists(st.sampled_from(["bottom_share", "last_place_twice", "low_ambition"]), max_size=3,
                             unique=True))  # fmt: skip
        zone_weights = {
            z: {n["code"]: draw(w) for n in nodes if n["parent"] is None and draw(st.booleans())}
            for z in draw(st.lists(st.sampled_from(["Z1", "Z2"]), max_size=2, unique=True))
        }  # fmt: skip
        categories.append({
            "code": code, "subject": "unit",
            "components": [
                {"code": "routine", "source": "indicators", "weight": weights[0]},
                {"code": "annual", "source": "indicators", "weight": weights[1]},
                {"code": "monthly", "source": "routine", "weight": weights[2], "grade_points": GRADE_POINTS},
                {"code": "public", "source": "ratings", "weight": weights[3],
                 "groups": {"public": draw(st.integers(1, 40)), "third": draw(st.integers(0, 20))}},
            ],
            "indicators": nodes,
            "zone_weights": zone_weights,
            "missing_indicator": draw(st.sampled_from(["zero", "exclude"])),
            "tie_break": ["annual"],
            "adjustments": {"deduction_component": draw(st.sampled_from(["annual", None])),
                            "bonus_cap": draw(st.sampled_from([None, 2.0]))},
            "grading": {
                "levels": TEAM_LEVELS, "rounding": draw(st.sampled_from(["floor", "round_half_up", "ceil"])),
                "hard_rules": [_hard(draw, h) for h in hard],
                "falsification_grade": draw(st.sampled_from([None, "三等"])),
            },
        })  # fmt: skip
    official_leaf = ("P.1", "completion")
    categories.append({
        "code": "cadres", "subject": "official",
        "components": [
            {"code": "team", "source": "team", "weight": 50, "layer_weights": {"head": 70},
             "team_component": draw(st.sampled_from([None, "annual"]))},
            {"code": "portfolio", "source": "indicators", "weight": 30, "layer_weights": {"head": 0}},
            {"code": "quality", "source": "ratings", "weight": 20, "layer_weights": {"head": 30},
             "groups": {"org": 20, "superior": 30, "peer": 50}, "items": {"de": 2, "neng": 1}},
        ],
        "indicators": [{"code": "P.1", "parent": None, "weight": 1, "component": "portfolio",
                        "rule": {"type": "completion", "params": {"target": 100}}}],
        "grading": {
            "levels": OFFICIAL_LEVELS,
            "hard_rules": [
                {"type": "vote_share", "labels": ["基本称职", "不称职"], "more_than": "1/3", "grade": "基本称职"},
                {"type": "target_below", "threshold": 0.6, "grade": "基本称职"},
                {"type": "bottom_share", "share": 0.05, "grade": "基本称职", "component": "quality"},
            ],
            "sanctions": [
                {"level": "admonish", "effect": "ceiling", "grade": "称职"},
                {"level": "accountable", "effect": "forced", "grade": "基本称职"},
                {"level": "demerit", "effect": "no_grade"},
                {"level": "removal", "effect": "forced", "grade": "不称职"},
            ],
            "team_caps": {"一等": {"member_share": 0.3}, "二等": {"member_share": 0.2, "head_ceiling": "称职"},
                          "三等": {"member_share": 0.15, "head_ceiling": "基本称职"}},
        },
    })  # fmt: skip
    scheme = {
        "score_decimals": draw(st.sampled_from([2, 6])),
        "rater_groups": RATER_GROUPS,
        "categories": categories,
    }
    n_units = draw(st.integers(1, max_units))
    unit_ids = [f"U{i:02d}" for i in range(n_units)]
    unit_cat = [draw(st.sampled_from([f"C{c}" for c in range(n_cats)])) for _ in unit_ids]
    unit_zone = [draw(st.sampled_from(ZONES)) for _ in unit_ids]
    declared: dict[str, list[Any]] = {k: [] for k in
                                      ("entity", "code", "parent", "weight", "component", "rule", "params", "low_ambition")}  # fmt: skip
    own: dict[str, list[tuple[str, str]]] = {u: [] for u in unit_ids}  # unit → its declared leaves

    def declare(u: str, parent: str) -> str:
        code = f"D{len(declared['code']):03d}"
        rule = _rule(draw, ROW_RULES)
        row = {"entity": u, "code": code, "parent": parent, "weight": float(draw(w)),
               "component": draw(st.sampled_from(["routine", "annual"])), "rule": rule["type"],
               "params": json.dumps(rule["params"], sort_keys=True), "low_ambition": draw(st.booleans())}  # fmt: skip
        for k, v in row.items():
            declared[k].append(v)
        own[u].append((code, rule["type"]))
        return code

    for u, cat in zip(unit_ids, unit_cat, strict=True):
        for _ in range(draw(st.integers(0, 3)) if inner[cat] else 0):
            parent, depth = draw(st.sampled_from(inner[cat]))
            code = declare(u, parent)
            if depth == 2 and draw(st.booleans()):  # a level-4 under a declared level-3
                own[u] = [leaf for leaf in own[u] if leaf[0] != code]
                declare(u, code)
    officials: dict[str, list[str]] = {"id": [], "unit": [], "layer": [], "category": []}
    for u in unit_ids:
        for k in range(draw(st.integers(0, 3))):
            officials["id"].append(f"{u}-O{k}")
            officials["unit"].append(u)
            officials["layer"].append("head" if k == 0 else draw(st.sampled_from(["member", "other"])))
            officials["category"].append("cadres")
    res: dict[str, list[Any]] = {"entity": [], "indicator": [], "value": [], "label": [], "last_year": []}
    for u, cat in zip(unit_ids, unit_cat, strict=True):
        for leaf, kind in leaves[cat] + own[u]:
            if draw(st.integers(0, 9)) == 0:
                continue  # not reported
            res["entity"].append(u)
            res["indicator"].append(leaf)
            value = draw(VALUES)
            if kind == "veto":
                value = draw(st.sampled_from([None, 0.0, 0.0, 1.0]))
            res["value"].append(value)
            res["label"].append(
                draw(st.sampled_from([None, "优", "良", "差"])) if kind == "grade_map" else None
            )
            res["last_year"].append(draw(VALUES))
    for o in officials["id"]:
        if draw(st.booleans()):
            res["entity"].append(o)
            res["indicator"].append(official_leaf[0])
            res["value"].append(draw(VALUES))
            res["label"].append(None)
            res["last_year"].append(None)
    ratings: dict[str, list[Any]] = {"entity": [], "group": [], "item": [], "score": []}
    for u in unit_ids:
        for g in ("public", "third"):
            for _ in range(draw(st.integers(0, 8))):
                ratings["entity"].append(u)
                ratings["group"].append(g)
                ratings["item"].append("overall")
                ratings["score"].append(draw(SCORES))
    for o in officials["id"]:
        for g in ("org", "superior", "peer"):
            for _ in range(draw(st.integers(0, 7))):
                ratings["entity"].append(o)
                ratings["group"].append(g)
                ratings["item"].append(draw(st.sampled_from(ITEMS[:2])))
                ratings["score"].append(draw(SCORES))
    votes: dict[str, list[Any]] = {"entity": [], "label": [], "count": []}
    for o in officials["id"]:
        if draw(st.booleans()):
            for label in ("优秀", "称职", "基本称职", "不称职"):
                votes["entity"].append(o)
                votes["label"].append(label)
                votes["count"].append(draw(st.integers(0, 6)))
    adjustments: dict[str, list[Any]] = {"entity": [], "kind": [], "points": [], "level": [], "indicator": [],
                                         "reason": []}  # fmt: skip
    everyone = unit_ids + officials["id"]
    for _ in range(draw(st.integers(0, 6))):
        e = draw(st.sampled_from(everyone))
        is_unit = e in unit_ids
        kinds = ["deduction", "bonus", "debt", "veto_excellent", "no_grade"]
        kinds += ["falsification"] if is_unit and res["entity"].count(e) else []
        kinds += ["sanction"] if not is_unit else []
        kind = draw(st.sampled_from(kinds))
        adjustments["entity"].append(e)
        adjustments["kind"].append(kind)
        adjustments["points"].append(
            float(draw(st.integers(0, 6))) if kind in ("deduction", "bonus", "debt") else None
        )
        adjustments["level"].append(
            draw(st.sampled_from(["admonish", "accountable", "demerit", "removal"]))
            if kind == "sanction"
            else None
        )
        own = [ind for ent, ind in zip(res["entity"], res["indicator"], strict=True) if ent == e]
        adjustments["indicator"].append(draw(st.sampled_from(own)) if kind == "falsification" else None)
        adjustments["reason"].append("probation" if kind == "no_grade" else None)
    previous: dict[str, list[Any]] = {"entity": [], "rank": [], "category_size": []}
    for u, cat in zip(unit_ids, unit_cat, strict=True):
        if draw(st.booleans()):
            size = unit_cat.count(cat)
            previous["entity"].append(u)
            previous["rank"].append(draw(st.integers(1, size)))
            previous["category_size"].append(size)
    routine: dict[str, list[Any]] = {"entity": [], "indicator": [], "period": [], "grade": []}
    for u in unit_ids:
        for _ in range(draw(st.integers(0, 4))):
            routine["entity"].append(u)
            routine["indicator"].append("D000")
            routine["period"].append(draw(st.sampled_from(PERIODS)))
            routine["grade"].append(draw(st.sampled_from([None, *GRADE_POINTS])))
    return {
        "format": "jixiao.cycle-bundle", "version": 2, "cycle": {"code": "test"}, "scheme": scheme,
        "units": {"id": unit_ids, "category": unit_cat, "zone": unit_zone}, "officials": officials,
        "declared": declared,
        "facts": {"indicator_results": res, "ratings": ratings, "votes": votes, "adjustments": adjustments,
                  "previous": previous, "routine": routine},
    }  # fmt: skip
