"""Explanations (M13, PIPL art. 24): why an entity's score, rank and grade are what they are.

``explain(results, scheme, entity_id)`` returns a JSON-able dict built from the columnar
results: every component (raw, adjustment, weight, points), every indicator (rule, params,
input, rate, points, status), every rater group and item (ratings, kept after trimming, mean,
used or withheld), every adjustment, the rank, and the grade with the code of the deciding rule
and its params. Codes are stable identifiers (e.g. ``forced.hard_rule.vote_share``); the UI
translates them into Chinese.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from jixiao.scoring.scheme import Scheme
from jixiao.scoring.types import Results


def _rows(frame: pl.DataFrame, entity: str, drop: tuple[str, ...] = ("entity",)) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in row.items() if k not in drop}
        for row in frame.filter(pl.col("entity") == entity).iter_rows(named=True)
    ]


def explain(results: Results, scheme: Scheme, entity: str) -> dict[str, Any]:
    """Return the breakdown of one entity (KeyError if the entity is unknown)."""
    found = results.entities.filter(pl.col("entity") == entity)
    if found.height == 0:
        raise KeyError(entity)
    row = found.row(0, named=True)
    category = scheme.category(row["category"])
    params = {n.code: dict(n.raw_params) for n in category.nodes if n.rule is not None}
    indicators = _rows(results.indicators, entity)
    for ind in indicators:
        ind["params"] = params.get(ind["indicator"], {})
    decided_by = row["decided_by"]
    decision: dict[str, Any] = {"code": decided_by, **dict(results.decisions.get(entity, {}))}
    if decided_by in ("quota.top", "quota.bottom"):
        level = category.grading.levels[category.grading.index(row["grade"])]
        decision.update(ratio=str(level.ratio), places=row["places"], of=row["graded_count"],
                        rounding=category.grading.rounding)  # fmt: skip
    elif decided_by == "fill":
        decision.update(of=row["graded_count"])
    return {
        "entity": entity,
        "kind": row["kind"],
        "category": row["category"],
        "layer": row["layer"],
        "unit": row["unit"],
        "engine_version": results.engine_version,
        "total": row["total"],
        "weighted": row["weighted"],
        "total_deduction": row["total_deduction"],
        "total_bonus": row["total_bonus"],
        "debt_factor": row["debt_factor"],
        "components": _rows(results.components, entity),
        "indicators": indicators,
        "raters": _rows(results.raters, entity),
        "adjustments": _rows(results.adjustments, entity),
        "rank": {
            "rank": row["rank"],
            "of": row["category_size"],
            "tie_break": ["total", *category.tie_break, "id"],
        },
        "grade": {"label": row["grade"], "decision": decision},
        "flags": [name for name in ("last_place", "last_place_twice", "top_twice") if row[f"flag_{name}"]],
    }
