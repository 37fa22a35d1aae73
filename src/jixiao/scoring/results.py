"""Turn the engine's arrays into the :class:`Results` frames (ids and codes as strings)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from numpy.typing import NDArray

from jixiao.scoring.adjustments import EntityAdjustments
from jixiao.scoring.compose import STATUSES, IndicatorScores, Tree
from jixiao.scoring.frames import NO_LAYER, UNIT, EntityTable
from jixiao.scoring.grading import DECISION_CODES, FLAGS, Grades
from jixiao.scoring.raters import ItemMeans, RaterScores
from jixiao.scoring.rules import RULE_TYPES
from jixiao.scoring.scheme import LAYERS, Scheme
from jixiao.scoring.sorting import stable_argsort
from jixiao.scoring.types import RESULT_DECLARED_COLUMNS, Results

if TYPE_CHECKING:
    from jixiao.scoring.engine import Totals

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


def _take(values: list[str] | pl.Series, index: NDArray[np.int64]) -> pl.Series:
    """Return ``values[index]`` as a String series (``values`` small, ``index`` maybe large)."""
    series = values if isinstance(values, pl.Series) else pl.Series(values, dtype=pl.String)
    return series.gather(pl.Series(index, dtype=pl.Int64))


def _where(mask: NDArray[np.bool_], values: pl.Series) -> pl.Series:
    """Return ``values`` with null where ``mask`` is false."""
    return values.zip_with(pl.Series(mask), pl.Series([None] * len(values), dtype=pl.String))


def build_results(
    scheme: Scheme, ents: EntityTable, tree: Tree, ind: IndicatorScores, means: ItemMeans, rat: RaterScores,
    adj: EntityAdjustments, weights: F64, raw: F64, has: NDArray[np.bool_], totals: Totals, rank: I64,
    size: I64, grades: Grades, version: str,
) -> Results:  # fmt: skip
    """Assemble the result frames, each sorted by entity id then its own keys."""
    ids = pl.Series(ents.ids, dtype=pl.String)
    cats = scheme.categories
    cat_codes = [c.code for c in cats]
    grade_label = [
        None if g < 0 else cats[int(c)].grading.levels[int(g)].label
        for g, c in zip(grades.grade.tolist(), ents.category.tolist(), strict=True)
    ]
    entities = pl.DataFrame({
        "entity": ids,
        "kind": _take(["unit", "official"], (ents.kind != UNIT).astype(np.int64)),
        "category": _take(cat_codes, ents.category),
        "layer": _where(ents.layer != NO_LAYER, _take(list(LAYERS), np.maximum(ents.layer, 0))),
        "unit": _where(ents.team >= 0, _take(ids, np.maximum(ents.team, 0))),
        "weighted": totals.weighted,
        "total_deduction": totals.total_deduction,
        "total_bonus": totals.total_bonus,
        "debt_factor": totals.debt_factor,
        "total": totals.total,
        "rank": rank,
        "category_size": size,
        "grade": pl.Series(grade_label, dtype=pl.String),
        "decided_by": _take(list(DECISION_CODES), grades.decided_by),
        "graded_count": grades.graded_count,
        "places": grades.places,
        **{f"flag_{name}": grades.flags[name] for name in FLAGS},
    })  # fmt: skip
    # Components: one row per (entity, component of its category).
    n_comp = raw.shape[1]
    n_of = np.array([len(c.components) for c in cats])[ents.category]
    e_idx, j_idx = np.nonzero(np.arange(n_comp)[None, :] < n_of[:, None])
    comp_names = [[c.code for c in cat.components] for cat in cats]
    flat = [f"{ci}:{j}" for ci, cat in enumerate(cats) for j in range(len(cat.components))]
    lookup = {k: i for i, k in enumerate(flat)}
    flat_code = [comp_names[int(k.split(":")[0])][int(k.split(":")[1])] for k in flat]
    flat_source = [cats[int(k.split(":")[0])].components[int(k.split(":")[1])].source for k in flat]
    offset = np.array([lookup[f"{ci}:0"] for ci in range(len(cats))])
    flat_i = offset[ents.category[e_idx]] + j_idx
    final = totals.final[e_idx, j_idx]
    w = weights[e_idx, j_idx]
    components = pl.DataFrame({
        "entity": _take(ids, e_idx), "component": _take(flat_code, flat_i),
        "source": _take(flat_source, flat_i), "weight": w, "raw": raw[e_idx, j_idx],
        "adjustment": final - raw[e_idx, j_idx], "score": final, "points": w * final / 100.0,
        "has_data": has[e_idx, j_idx],
    })  # fmt: skip
    score = 100.0 * ind.rate
    leaf_j = np.maximum(tree.component[ind.node], 0)
    comp_w = weights[ind.entity, leaf_j]
    indicators = pl.DataFrame({
        "entity": _take(ids, ind.entity), "indicator": _take(tree.code, ind.node),
        "component": _take(flat_code, offset[tree.category[ind.node]] + leaf_j),
        "rule": _take(list(RULE_TYPES), np.maximum(tree.rule_type[ind.node], 0)),
        "value": pl.Series(ind.value).fill_nan(None), "label": ind.label,
        "target": pl.Series(ind.target).fill_nan(None), "last_year": pl.Series(ind.last_year).fill_nan(None),
        "rate": ind.rate, "score": score, "share": ind.share, "points": ind.share * score * comp_w / 100.0,
        "status": _take(list(STATUSES), ind.status.astype(np.int64)), "veto": ind.veto,
    })  # fmt: skip
    d = rat.detail  # in (category, component, entity, group, item) order already
    d_e = d.get_column("entity").to_numpy()
    d_j = d.get_column("component").to_numpy()
    group_codes = [g.code for g in scheme.rater_groups]
    raters = pl.DataFrame({
        "entity": _take(ids, d_e),
        "component": _take(flat_code, offset[ents.category[d_e]] + d_j) if d.height else pl.Series([], dtype=pl.String),
        "group": _take(group_codes, d.get_column("group").to_numpy()),
        "item": _take(list(means.items), d.get_column("item").to_numpy()),
        "ratings": d.get_column("ratings"), "kept": d.get_column("kept"), "mean": d.get_column("mean"),
        "status": _take(["withheld", "used"], d.get_column("shown").to_numpy().astype(np.int64)),
    })  # fmt: skip
    a = adj.detail
    adjustments = a.with_columns(entity=_take(ids, a.get_column("entity").to_numpy()))
    nf = tree.n_framework
    d_owner = tree.owner[nf:]
    d_order = stable_argsort(d_owner)  # by entity, then code (node order)
    d_nodes = nf + d_order
    declared = pl.DataFrame({
        "entity": _take(ids, d_owner[d_order]), "indicator": _take(tree.code, d_nodes),
        "parent": _take(tree.code, tree.parent[d_nodes]), "weight": tree.weight[d_nodes],
        "params": tree.params.gather(pl.Series(d_order, dtype=pl.Int64)).fill_null("{}"),
        "low_ambition": tree.low_ambition[d_nodes],
    }, schema=RESULT_DECLARED_COLUMNS)  # fmt: skip
    id_text: list[str] = ents.ids.tolist()  # one conversion, not a NumPy scalar per entity
    return Results(
        engine_version=version, score_decimals=scheme.score_decimals, entities=entities,
        components=components, indicators=indicators, raters=raters, adjustments=adjustments,
        decisions={id_text[e]: grades.decisions[e] for e in sorted(grades.decisions)},
        declared=declared,
    )  # fmt: skip
