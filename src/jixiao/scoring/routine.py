"""Routine results (平时实绩) from the lead departments' grades of monthly progress reports.

A *graded report* is one row of the ``routine`` facts table (entity, indicator, period
``"YYYY-MM"``, grade label); a row whose grade is null is not graded yet and is skipped. With a
``grade_points`` map ``{grade label: points 0–100}``:

- an entity's **period score** is the mean of the points of its graded reports in that period;
- its **routine score** (a ``source: "routine"`` component) is the mean of its period scores, so
  that a month with many reports weighs no more than a month with one; no graded report at all
  means ``has_data = false`` (score 0).

``period_ranking`` ranks the units of each category on one period's score (the monthly ranking,
月排名, the tracking pages publish), or on the mean of several months' scores: a quarter's score
(季度排名, the race) is the mean of its monthly scores, as the routine score is of the year's. Sums run over rows sorted by (entity, period, points), so the
results do not depend on the order of the input rows (bit for bit).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from jixiao.scoring.errors import FactsError
from jixiao.scoring.frames import column, encode, require
from jixiao.scoring.params import grade_points as grade_points_of
from jixiao.scoring.ranking import round_scores
from jixiao.scoring.types import Units

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
BoolArr = NDArray[np.bool_]
PERIOD = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
GradePoints = Mapping[str, float]
RANKING_COLUMNS: dict[str, pl.DataType] = {
    "entity": pl.String(), "category": pl.String(), "score": pl.Float64(), "reports": pl.Int64(),
    "rank": pl.Int64(), "category_size": pl.Int64(),
}  # fmt: skip


@dataclass(frozen=True)
class RoutineRows:
    """Graded reports encoded: entity index, period index (sorted periods), points; sorted."""

    entity: I64
    period: I64
    points: F64
    periods: tuple[str, ...]


def graded_rows(frame: pl.DataFrame, ids: list[str], grade_points: GradePoints, where: str = "routine",
                known_only: bool = False) -> RoutineRows:  # fmt: skip
    """Return the graded reports of ``frame`` with their points, sorted by (entity, period, points).

    ``ids`` are the known entity ids in sorted order (unknown ids raise FactsError, or are dropped
    with ``known_only``); a grade missing from ``grade_points`` raises FactsError.
    """
    if frame.height == 0:
        empty = np.zeros(0, dtype=np.int64)
        return RoutineRows(empty, empty, np.zeros(0, dtype=np.float64), ())
    require(frame, ["entity", "period", "grade"], where)
    grade = column(frame, "grade", pl.String(), where)
    frame = frame.select(
        pl.col("entity").cast(pl.String), column(frame, "period", pl.String(), where).alias("period"),
        grade.alias("grade"),
    ).filter(pl.col("grade").is_not_null())  # fmt: skip
    if known_only:
        frame = frame.filter(pl.col("entity").is_in(pl.Series(ids, dtype=pl.String).implode()))
    periods = tuple(sorted(frame.get_column("period").drop_nulls().unique().to_list()))
    bad = [p for p in periods if not PERIOD.match(p)]
    if bad or frame.get_column("period").null_count():
        raise FactsError(f"{where}.period", f"periods must be 'YYYY-MM', got {bad[:5] or [None]}")
    labels = frame.get_column("grade").unique().to_list()
    unknown = sorted(set(labels) - set(grade_points))
    if unknown:
        raise FactsError(
            f"{where}.grade", f"grade(s) {unknown[:5]} are not in grade_points {sorted(grade_points)}"
        )
    entity = encode(frame.get_column("entity"), ids, f"{where}.entity")
    period = encode(frame.get_column("period"), periods, f"{where}.period")
    points = frame.get_column("grade").replace_strict(dict(grade_points), return_dtype=pl.Float64).to_numpy()
    points = np.asarray(points, dtype=np.float64)
    order = np.lexsort((points, period, entity))
    return RoutineRows(entity[order], period[order], points[order], periods)


def entity_scores(rows: RoutineRows, n: int) -> tuple[F64, I64, BoolArr]:
    """Return per entity (index < n): mean of its period means, graded reports, has any report."""
    reports = np.bincount(rows.entity, minlength=n).astype(np.int64)
    score = np.zeros(n, dtype=np.float64)
    if rows.entity.size:
        key = rows.entity * max(len(rows.periods), 1) + rows.period
        starts = np.flatnonzero(np.diff(key, prepend=-1))
        group = np.cumsum(np.diff(key, prepend=-1) != 0) - 1
        period_mean = np.bincount(group, weights=rows.points) / np.bincount(group)
        g_entity = rows.entity[starts]
        periods = np.bincount(g_entity, minlength=n)
        total = np.bincount(g_entity, weights=period_mean, minlength=n)
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(periods > 0, total / np.maximum(periods, 1), 0.0)
    return score, reports, reports > 0


def period_ranking(
    units: Units, routine: pl.DataFrame, grade_points: GradePoints | Mapping[str, GradePoints],
    period: str | Sequence[str], decimals: int = 2,
) -> pl.DataFrame:  # fmt: skip
    """Return the monthly ranking (月排名) of ``period`` within each unit category; with several
    periods (a quarter's months), the ranking on the mean of each unit's scores of those months
    it has graded reports in.

    ``grade_points`` is one ``{grade: points}`` map for every category, or ``{category: {grade:
    points}}`` (units of a category missing from it are not ranked). Only units with at least one
    graded report in ``period`` are ranked; routine rows of other entities (officials, unknown
    ids) are ignored. Columns: entity, category, score (the period score, rounded like totals to
    ``decimals``), reports (graded reports in the period), rank (1..n within the category: higher
    score first, ties by entity id) and category_size (units ranked in the category); rows sorted
    by category, then rank.
    """
    wanted = [period] if isinstance(period, str) else list(period)
    bad = [p for p in wanted if not PERIOD.match(p)]
    if bad or not wanted:
        raise FactsError("period", f"must be 'YYYY-MM', got {bad[0] if bad else 'no period'!r}")
    per_category = bool(grade_points) and all(isinstance(v, Mapping) for v in grade_points.values())
    ids = np.asarray(units.id).astype(np.str_)
    cats = np.asarray(units.category).astype(np.str_)
    order = np.argsort(ids, kind="stable")
    ids, cats = ids[order], cats[order]
    frame = (
        routine.filter(pl.col("period").cast(pl.String).is_in(pl.Series(wanted, dtype=pl.String).implode()))
        if routine.height
        else routine
    )
    parts: list[pl.DataFrame] = []
    for category in sorted(set(cats.tolist())):
        points: object = grade_points.get(category) if per_category else grade_points
        if points is None:
            continue
        table = grade_points_of(f"grade_points[{category}]" if per_category else "grade_points", points)
        members = ids[cats == category]
        mine = frame.filter(pl.col("entity").cast(pl.String).is_in(pl.Series(members.tolist()).implode()))
        rows = graded_rows(mine, members.tolist(), table, known_only=True)
        score, reports, has = entity_scores(rows, members.size)
        shown = round_scores(score, decimals)
        sel = np.flatnonzero(has)
        ranked = sel[np.lexsort((sel, -shown[sel]))]  # members are id-sorted: index order = id order
        parts.append(pl.DataFrame({
            "entity": members[ranked].tolist(), "category": [category] * ranked.size, "score": shown[ranked],
            "reports": reports[ranked], "rank": np.arange(1, ranked.size + 1, dtype=np.int64),
            "category_size": np.full(ranked.size, ranked.size, dtype=np.int64),
        }, schema=RANKING_COLUMNS))  # fmt: skip
    if not parts:
        return pl.DataFrame(schema=RANKING_COLUMNS)
    return pl.concat(parts)


__all__ = ["RANKING_COLUMNS", "entity_scores", "graded_rows", "period_ranking"]
