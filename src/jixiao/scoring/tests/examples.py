"""Small hand-made schemes and inputs shared by the tests (no Django)."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from jixiao.scoring.scheme import parse_scheme
from jixiao.scoring.types import (
    ADJUSTMENT_COLUMNS,
    INDICATOR_RESULT_COLUMNS,
    PREVIOUS_COLUMNS,
    RATING_COLUMNS,
    VOTE_COLUMNS,
    CycleInput,
    Facts,
    Officials,
    Units,
)

TEAM_LEVELS = [
    {"label": "一等", "ratio": 0.15},
    {"label": "二等", "ratio": None},
    {"label": "三等", "ratio": 0.05},
]
OFFICIAL_LEVELS = [
    {"label": "优秀", "ratio": 0.15},
    {"label": "称职", "ratio": None},
    {"label": "基本称职", "ratio": 0.04, "by_rank": False},
    {"label": "不称职", "ratio": 0.01, "by_rank": False},
]
RATER_GROUPS = [
    {"code": "org", "min_ballots": 1},
    {"code": "superior", "min_ballots": 1},
    {"code": "peer", "trim_share": 0.05, "trim_min_count": 5, "min_ballots": 3},
    {"code": "public", "trim_share": 0.05, "trim_min_count": 5, "min_ballots": 3},
    {"code": "third", "min_ballots": 1},
    {"code": "media", "min_ballots": 1},
]
ONE_PLUS_FIVE = {"org": 20, "superior": 15, "peer": 15, "public": 35, "third": 15, "media": 5}


def county_category(code: str = "county", **overrides: Any) -> dict[str, Any]:
    """Xiangxi counties: routine 20 / annual 45 / self-building 20 / public recognition 15."""
    cat: dict[str, Any] = {
        "code": code,
        "subject": "unit",
        "components": [
            {"code": "routine", "source": "indicators", "weight": 20},
            {"code": "annual", "source": "indicators", "weight": 45},
            {"code": "building", "source": "indicators", "weight": 20},
            {"code": "public", "source": "ratings", "weight": 15, "groups": ONE_PLUS_FIVE},
        ],
        "indicators": [
            {"code": f"{code}.R", "parent": None, "weight": 100, "component": "routine",
             "rule": {"type": "completion", "params": {"cap": 1.0}}},
            {"code": f"{code}.A", "parent": None, "weight": 100},
            {"code": f"{code}.A1", "parent": f"{code}.A", "weight": 60, "component": "annual",
             "rule": {"type": "completion", "params": {"target": 100}}},
            {"code": f"{code}.A2", "parent": f"{code}.A", "weight": 40, "component": "annual",
             "rule": {"type": "rank_points", "params": {"points": [60, 57, 54, 51, 48], "floor": 45}}},
            {"code": f"{code}.B", "parent": None, "weight": 100, "component": "building",
             "rule": {"type": "grade_map", "params": {"map": {"优": 1.0, "良": 0.8, "中": 0.6, "差": 0.3}}}},
        ],
        "tie_break": ["annual"],
        "adjustments": {"deduction_component": "annual"},
        "grading": {"levels": TEAM_LEVELS},
    }  # fmt: skip
    cat.update(overrides)
    return cat


def official_category(code: str = "cadres", **overrides: Any) -> dict[str, Any]:
    """Officials: head = 70 team + 30 quality; member = 50 team + 30 portfolio + 20 quality."""
    cat: dict[str, Any] = {
        "code": code,
        "subject": "official",
        "components": [
            {"code": "team", "source": "team", "weight": 50, "layer_weights": {"head": 70}},
            {"code": "portfolio", "source": "indicators", "weight": 30, "layer_weights": {"head": 0}},
            {"code": "quality", "source": "ratings", "weight": 20, "layer_weights": {"head": 30},
             "groups": {"org": 20, "superior": 30, "peer": 50},
             "items": {"de": 1, "neng": 1, "qin": 1, "ji": 1, "lian": 1}},
        ],
        "indicators": [
            {"code": f"{code}.P", "parent": None, "weight": 100, "component": "portfolio",
             "rule": {"type": "completion", "params": {"target": 100}}},
        ],
        "grading": {
            "levels": OFFICIAL_LEVELS,
            "hard_rules": [
                {"type": "vote_share", "labels": ["基本称职", "不称职"], "more_than": "1/3", "grade": "基本称职"},
                {"type": "target_below", "threshold": 0.6, "grade": "基本称职"},
            ],
            "sanctions": [
                {"level": "admonish", "effect": "ceiling", "grade": "称职"},
                {"level": "warning", "effect": "ceiling", "grade": "称职"},
                {"level": "accountable", "effect": "forced", "grade": "基本称职"},
                {"level": "serious_warning", "effect": "no_grade"},
                {"level": "demerit", "effect": "no_grade"},
                {"level": "removal", "effect": "forced", "grade": "不称职"},
            ],
            "team_caps": {
                "一等": {"member_share": 0.3},
                "二等": {"member_share": 0.2, "head_ceiling": "称职"},
                "三等": {"member_share": 0.15, "head_ceiling": "基本称职"},
            },
        },
    }  # fmt: skip
    cat.update(overrides)
    return cat


def scheme_dict(*categories: dict[str, Any], decimals: int = 2) -> dict[str, Any]:
    """Return a scheme dict with the 1+5+N rater groups."""
    return {"score_decimals": decimals, "rater_groups": RATER_GROUPS, "categories": list(categories)}


def frame(rows: list[dict[str, Any]], columns: dict[str, pl.DataType]) -> pl.DataFrame:
    """Return a frame of ``rows`` with the fact table's schema (absent keys are null)."""
    return pl.DataFrame([{k: r.get(k) for k in columns} for r in rows], schema=columns)


def cycle(
    scheme: dict[str, Any],
    units: list[tuple[str, str]],
    officials: list[tuple[str, str, str, str]] = (),  # type: ignore[assignment]
    results: list[dict[str, Any]] = (),  # type: ignore[assignment]
    ratings: list[dict[str, Any]] = (),  # type: ignore[assignment]
    votes: list[dict[str, Any]] = (),  # type: ignore[assignment]
    adjustments: list[dict[str, Any]] = (),  # type: ignore[assignment]
    previous: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> CycleInput:
    """Build a CycleInput from plain rows: units (id, category), officials (id, unit, layer, category)."""
    return CycleInput(
        scheme=parse_scheme(scheme),
        units=Units(
            np.array([u[0] for u in units], dtype=np.str_), np.array([u[1] for u in units], dtype=np.str_)
        ),
        officials=Officials(*(np.array([o[i] for o in officials], dtype=np.str_) for i in range(4))),
        facts=Facts(
            indicator_results=frame(list(results), INDICATOR_RESULT_COLUMNS),
            ratings=frame(list(ratings), RATING_COLUMNS),
            votes=frame(list(votes), VOTE_COLUMNS),
            adjustments=frame(list(adjustments), ADJUSTMENT_COLUMNS),
            previous=frame(list(previous), PREVIOUS_COLUMNS),
        ),
    )
