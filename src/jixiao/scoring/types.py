"""Typed column bundles: what the engine takes in and gives back.

Entities (units/teams and officials) are NumPy string columns; facts are Polars frames with the
columns listed on each class. Ids are strings and share one namespace across units and officials
(the adapter may use e.g. ``"U12"`` and ``"O345"``). Chinese terms: 单位/班子 unit or team,
领导干部 official, 指标 indicator, 测评 rating, 民主测评票 vote, 加减分/问责 adjustment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from jixiao.scoring.scheme import Scheme

StrArr = NDArray[np.str_]

INDICATOR_RESULT_COLUMNS: dict[str, pl.DataType] = {
    "entity": pl.String(), "indicator": pl.String(), "value": pl.Float64(), "label": pl.String(),
    "target": pl.Float64(), "last_year": pl.Float64(),
}  # fmt: skip
RATING_COLUMNS: dict[str, pl.DataType] = {
    "entity": pl.String(), "group": pl.String(), "item": pl.String(), "score": pl.Float64(),
}  # fmt: skip
VOTE_COLUMNS: dict[str, pl.DataType] = {"entity": pl.String(), "label": pl.String(), "count": pl.Int64()}
ADJUSTMENT_COLUMNS: dict[str, pl.DataType] = {
    "entity": pl.String(), "kind": pl.String(), "points": pl.Float64(), "level": pl.String(),
    "indicator": pl.String(), "source": pl.String(), "reason": pl.String(),
}  # fmt: skip
PREVIOUS_COLUMNS: dict[str, pl.DataType] = {
    "entity": pl.String(), "rank": pl.Int64(), "category_size": pl.Int64(), "grade": pl.String(),
}  # fmt: skip
ROUTINE_COLUMNS: dict[str, pl.DataType] = {
    "entity": pl.String(), "indicator": pl.String(), "period": pl.String(), "grade": pl.String(),
}  # fmt: skip
DECLARED_COLUMNS: dict[str, pl.DataType] = {
    "entity": pl.String(), "code": pl.String(), "parent": pl.String(), "weight": pl.Float64(),
    "component": pl.String(), "rule": pl.String(), "params": pl.String(), "low_ambition": pl.Boolean(),
}  # fmt: skip
RESULT_DECLARED_COLUMNS: dict[str, pl.DataType] = {
    "entity": pl.String(), "indicator": pl.String(), "parent": pl.String(), "weight": pl.Float64(),
    "params": pl.String(), "low_ambition": pl.Boolean(),
}  # fmt: skip
ADJUSTMENT_KINDS = ("deduction", "bonus", "veto_excellent", "sanction", "no_grade", "falsification", "debt")


def empty_frame(columns: dict[str, pl.DataType]) -> pl.DataFrame:
    """Return an empty frame with the given schema."""
    return pl.DataFrame(schema=columns)


def _no_zones() -> StrArr:
    return np.array([], dtype=np.str_)


@dataclass(frozen=True)
class Units:
    """Units / leadership teams (单位/领导班子): ``id``, ``category`` (a scheme category code) and
    ``zone`` (功能区 code selecting the category's ``zone_weights``; ``""`` = no zone). An empty
    ``zone`` array (the default) means no unit has a zone."""

    id: StrArr
    category: StrArr
    zone: StrArr = field(default_factory=_no_zones)


@dataclass(frozen=True)
class Officials:
    """Officials (领导干部): ``id``, ``unit`` (their team's unit id), ``layer`` and ``category``.

    ``layer`` is ``head`` (班子正职), ``member`` (班子成员) or ``other`` (其他干部).
    """

    id: StrArr
    unit: StrArr
    layer: StrArr
    category: StrArr


def _default(columns: dict[str, pl.DataType]) -> pl.DataFrame:
    return empty_frame(columns)


@dataclass(frozen=True)
class Facts:
    """The cycle's fact tables; every frame may omit nullable columns.

    - ``indicator_results``: entity, indicator (a leaf code), value (number; yes/no as 1/0),
      label (a grade label for grade_map rules), target, last_year. One row per (entity, leaf).
    - ``ratings``: entity, group (rater group code), item (rating item code), score ≥ 0 — one row
      per individual rating, so that trimming works.
    - ``votes``: entity, label (优秀/称职/基本称职/不称职 or the scheme's labels), count.
    - ``adjustments``: entity, kind (one of ``ADJUSTMENT_KINDS``), points (deduction/bonus points,
      debt: percentage points over the limit), level (sanction level), indicator (falsified
      leaf), source, reason.
    - ``previous``: entity, rank, category_size, grade — last year's result, for cross-year rules.
    - ``routine``: entity, indicator (the reported indicator's code, informative), period
      (``"YYYY-MM"``), grade (the lead department's grade label; null = not graded yet) — one row
      per graded monthly report, feeding ``source: "routine"`` components (平时实绩, routine.py).
    """

    indicator_results: pl.DataFrame = field(default_factory=lambda: _default(INDICATOR_RESULT_COLUMNS))
    ratings: pl.DataFrame = field(default_factory=lambda: _default(RATING_COLUMNS))
    votes: pl.DataFrame = field(default_factory=lambda: _default(VOTE_COLUMNS))
    adjustments: pl.DataFrame = field(default_factory=lambda: _default(ADJUSTMENT_COLUMNS))
    previous: pl.DataFrame = field(default_factory=lambda: _default(PREVIOUS_COLUMNS))
    routine: pl.DataFrame = field(default_factory=lambda: _default(ROUTINE_COLUMNS))


@dataclass(frozen=True)
class CycleInput:
    """Everything one scoring run needs: the scheme, the entities, the facts and the entities' own
    declared leaves.

    ``declared`` (columns ``DECLARED_COLUMNS``): one row per declared indicator (levels 3–4) of an
    entity — entity, code (globally unique, e.g. ``"D<pk>"``), parent (a framework node of the
    entity's category, or another declared code of the same entity), weight (within the parent,
    among that entity's children of it), component, rule (rule type), params (JSON text of the
    rule params), low_ambition (approved although flagged 目标偏低). Empty by default.
    """

    scheme: Scheme
    units: Units
    officials: Officials
    facts: Facts
    declared: pl.DataFrame = field(default_factory=lambda: _default(DECLARED_COLUMNS))


@dataclass(frozen=True)
class Results:
    """Columnar results of one run, every frame sorted by entity id (then its other keys).

    - ``entities``: entity, kind (unit/official), category, layer, unit, total, rank,
      category_size, weighted, total_deduction, total_bonus, debt_factor, grade (null =
      不确定等次, no grade), decided_by (reason code), graded_count (n of the quota), places (of
      the quota level that decided, -1 otherwise), flag_last_place, flag_last_place_twice,
      flag_top_twice.
    - ``components``: entity, component, weight, raw, adjustment, score (0–100), points (in total).
    - ``indicators``: entity, indicator, component, rule, value, label, target, last_year, rate,
      score (100 × rate), share (of the component), points (in the total), status
      (ok/missing/falsified), veto.
    - ``raters``: entity, component, group, item, ratings, kept, mean, status (used/withheld);
      ordered by (category, component) in scheme order, then entity, group, item.
    - ``adjustments``: entity, kind, level, indicator, points, source, reason.
    - ``declared``: the entities' declared nodes (entity, indicator, parent, weight, params,
      low_ambition), sorted by entity then code; explanations read their params from it.
    - ``decisions``: entity id → the deciding rule's params and the ceilings that applied
      (JSON-able), only for entities whose grade needs more than ``decided_by`` and ``places``.
    """

    engine_version: str
    score_decimals: int
    entities: pl.DataFrame
    components: pl.DataFrame
    indicators: pl.DataFrame
    raters: pl.DataFrame
    adjustments: pl.DataFrame
    decisions: Mapping[str, Mapping[str, Any]]  # entity id → params of its grade decision (sparse)
    # The entities' declared nodes as scored (entity, indicator, parent, weight, params JSON text,
    # low_ambition), for explanations; part of the input (and its digest), not of the results digest.
    declared: pl.DataFrame = field(default_factory=lambda: _default(RESULT_DECLARED_COLUMNS))
