"""The scoring engine: ``compute(CycleInput) -> Results``.

Pipeline (docs/scoring.md has the full model):
entities in id order → adjustments parsed → leaf rules and tree roll-up → trimmed rater means and
group weights → component adjustments and weighted totals (units) → the team part of officials →
officials' totals → ranking per category → grading (units first, then officials).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from jixiao.scoring import ENGINE_VERSION
from jixiao.scoring.adjustments import EntityAdjustments, parse_adjustments
from jixiao.scoring.compose import Tree, build_tree, node_index, score_indicators
from jixiao.scoring.frames import NO_LAYER, EntityTable, build_entities
from jixiao.scoring.grading import GradingFacts, grade_all
from jixiao.scoring.officials import fill_team_components
from jixiao.scoring.ranking import rank_within_categories, round_scores
from jixiao.scoring.raters import item_means, score_ratings
from jixiao.scoring.results import build_results
from jixiao.scoring.routine import entity_scores, graded_rows
from jixiao.scoring.scheme import LAYERS, Scheme
from jixiao.scoring.types import CycleInput, Results

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
BoolArr = NDArray[np.bool_]
SOURCE_CODES = {"indicators": 1, "ratings": 2, "team": 3, "routine": 4}


@dataclass(frozen=True)
class Totals:
    """Component scores after adjustments and the total of every entity."""

    final: F64  # [entity, component]
    weighted: F64  # Σ weight × component / 100
    total_deduction: F64
    total_bonus: F64
    debt_factor: F64
    total: F64  # rounded to the scheme's score_decimals


def _weights(scheme: Scheme, ents: EntityTable, n_comp: int) -> tuple[F64, I64]:
    """Return per-entity component weights and per-category component sources."""
    n_cat = len(scheme.categories)
    w = np.zeros((n_cat, len(LAYERS) + 1, n_comp))
    src = np.zeros((n_cat, n_comp), dtype=np.int64)
    for ci, category in enumerate(scheme.categories):
        for j, comp in enumerate(category.components):
            src[ci, j] = SOURCE_CODES[comp.source]
            for li, layer_code in enumerate((*LAYERS, "unit")):
                w[ci, li, j] = comp.weights.get(layer_code, 0.0)
    layer = np.where(ents.layer == NO_LAYER, len(LAYERS), ents.layer)
    return w[ents.category, layer], src


def _totals(scheme: Scheme, ents: EntityTable, raw: F64, weights: F64, adj: EntityAdjustments) -> Totals:
    n_comp = raw.shape[1]
    pol = [c.adjustments for c in scheme.categories]
    comp_index = [c.component_codes() for c in scheme.categories]
    ded_j = np.array([-1 if p.deduction_component is None else comp_index[i].index(p.deduction_component)
                      for i, p in enumerate(pol)])[ents.category]  # fmt: skip
    bonus_j = np.array([-1 if p.bonus_component is None else comp_index[i].index(p.bonus_component)
                        for i, p in enumerate(pol)])[ents.category]  # fmt: skip
    cols = np.arange(n_comp)
    # A deduction never takes a component below 0; a bonus is added after it.
    final = np.where(cols == ded_j[:, None], np.maximum(raw - adj.deduction[:, None], 0.0), raw)
    final = final + np.where(cols == bonus_j[:, None], adj.bonus[:, None], 0.0)
    weighted = np.einsum("ij,ij->i", weights, final) / 100.0
    total_ded = np.where(ded_j < 0, adj.deduction, 0.0)
    total_bonus = np.where(bonus_j < 0, adj.bonus, 0.0)
    rate = np.array([p.debt_rate_per_point if p.debt_enabled else 0.0 for p in pol])[ents.category]
    debt_factor = np.maximum(1.0 - rate * adj.debt_points, 0.0)
    total = np.maximum(weighted - total_ded + total_bonus, 0.0) * debt_factor
    return Totals(
        final, weighted, total_ded, total_bonus, debt_factor, round_scores(total, scheme.score_decimals)
    )


def score_routine(scheme: Scheme, ents: EntityTable, frame: pl.DataFrame, n_comp: int) -> tuple[F64, BoolArr]:
    """Return the routine components' scores and has-data flags (routine.py), [entity, component]."""
    score = np.zeros((ents.size, n_comp), dtype=np.float64)
    has = np.zeros((ents.size, n_comp), dtype=np.bool_)
    ids: list[str] | None = None
    for ci, category in enumerate(scheme.categories):
        for j, comp in enumerate(category.components):
            if comp.source != "routine" or frame.height == 0:
                continue
            ids = list(ents.ids) if ids is None else ids
            members = np.flatnonzero(ents.category == ci)
            mine = frame.filter(
                pl.col("entity").cast(pl.String).is_in(pl.Series(ents.ids[members]).implode())
            )
            rows = graded_rows(mine, ids, comp.grade_points, "routine")
            s, _, h = entity_scores(rows, ents.size)
            score[members, j], has[members, j] = s[members], h[members]
    return score, has


def low_ambition(tree: Tree) -> dict[int, list[str]]:
    """Return entity → codes of its declared nodes flagged low_ambition (in code order)."""
    flagged = np.flatnonzero(tree.low_ambition)
    out: dict[int, list[str]] = {}
    codes = tree.code.gather(pl.Series(flagged, dtype=pl.Int64)).to_list() if flagged.size else []
    for e, code in zip(tree.owner[flagged].tolist(), codes, strict=True):
        out.setdefault(int(e), []).append(str(code))
    return out


def compute(inp: CycleInput) -> Results:
    """Score, rank and grade a cycle; the result is a pure function of ``inp``.

    Raises SchemeError / FactsError (both ``ScoringError``) naming the offending place.
    """
    scheme = inp.scheme
    ents = build_entities(scheme, inp.units, inp.officials)
    # The item means read only the entities and the ratings: they run in a thread beside the tree
    # and the indicators (NumPy and Polars release the GIL in their large loops, so two cores
    # both work). An error of the main path still wins: the thread's result is read after it.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="item-means") as pool:
        pending_means = pool.submit(item_means, scheme, ents, inp.facts.ratings)
        tree = build_tree(scheme, ents, inp.declared)
        adj = parse_adjustments(scheme, ents, inp.facts.adjustments, lambda s, w: node_index(tree, s, w))
        ind = score_indicators(scheme, tree, ents, inp.facts.indicator_results, adj.falsified_pairs)
        means = pending_means.result()
    n_comp = ind.comp_score.shape[1]
    rat = score_ratings(scheme, ents, means, n_comp)
    weights, src = _weights(scheme, ents, n_comp)
    source = src[ents.category]
    rou_score, rou_has = score_routine(scheme, ents, inp.facts.routine, n_comp)
    raw = np.where(source == 1, ind.comp_score, np.where(source == 2, rat.comp_score, rou_score))
    has = np.where(source == 1, ind.comp_has, np.where(source == 2, rat.comp_has, rou_has))
    totals = _totals(scheme, ents, raw, weights, adj)
    fill_team_components(scheme, ents, raw, has, totals.final, totals.total)
    totals = _totals(scheme, ents, raw, weights, adj)
    rank, size = rank_within_categories(scheme, ents, totals.total, totals.final)
    gfacts = GradingFacts(ind.entity, tree.rule_type[ind.node], ind.node, tree.code, ind.rate, ind.veto,
                          inp.facts.votes, inp.facts.previous, adj, low_ambition(tree))  # fmt: skip
    grades = grade_all(scheme, ents, totals.final, rank, size, gfacts)
    return build_results(
        scheme,
        ents,
        tree,
        ind,
        means,
        rat,
        adj,
        weights,
        raw,
        has,
        totals,
        rank,
        size,
        grades,
        ENGINE_VERSION,
    )
