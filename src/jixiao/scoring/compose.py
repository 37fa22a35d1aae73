"""Indicator results → leaf rates → component scores, by rolling the four-level tree up.

Each node's score (0–100) is the weighted mean of its children's scores; a component's score is
the weighted mean of the roots that contain leaves of that component, the tree being restricted
to that component's leaves. With ``missing_indicator = "zero"`` an absent leaf counts as 0 and
the weights are fixed by the scheme; with ``"exclude"`` only reported leaves weigh, renormalised
at every level. Falsification (弄虚作假) adjustments zero a leaf before the roll-up.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from jixiao.scoring.errors import FactsError
from jixiao.scoring.frames import EntityTable, column, encode, floats, require
from jixiao.scoring.rules import LeafFacts, apply_rule
from jixiao.scoring.scheme import Node, Scheme

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
BoolArr = NDArray[np.bool_]
STATUS_OK, STATUS_MISSING, STATUS_FALSIFIED = "ok", "missing", "falsified"


@dataclass(frozen=True)
class Tree:
    """Every node of every category, flattened; leaves are the nodes with a rule."""

    nodes: tuple[Node, ...]
    category: I64
    parent: I64  # -1 for roots
    weight: F64
    depth: I64
    component: I64  # local component index for leaves, -1 otherwise
    leaves: I64  # node indices of the leaves
    leaf_codes: tuple[str, ...]
    static_den: F64  # [node, component]: Σ weight of children holding that component
    static_root_den: F64  # [category, component]: Σ weight of roots holding that component


def build_tree(scheme: Scheme) -> Tree:
    """Flatten the scheme's indicator trees and precompute the fixed denominators."""
    nodes: list[Node] = []
    cats: list[int] = []
    for ci, category in enumerate(scheme.categories):
        nodes.extend(category.nodes)
        cats.extend([ci] * len(category.nodes))
    index = {n.code: i for i, n in enumerate(nodes)}
    n_comp = max(len(c.components) for c in scheme.categories)
    parent = np.array([index[n.parent] if n.parent else -1 for n in nodes], dtype=np.int64)
    comp = np.full(len(nodes), -1, dtype=np.int64)
    for i, node in enumerate(nodes):
        if node.component is not None:
            comp[i] = scheme.categories[cats[i]].component_codes().index(node.component)
    holds = np.zeros((len(nodes), n_comp), dtype=np.bool_)
    for leaf in np.flatnonzero(comp >= 0).tolist():
        j: int = leaf
        while j >= 0:
            holds[j, comp[leaf]] = True
            j = int(parent[j])
    weight = np.array([n.weight for n in nodes], dtype=np.float64)
    static_den = np.zeros((len(nodes), n_comp), dtype=np.float64)
    static_root_den = np.zeros((len(scheme.categories), n_comp), dtype=np.float64)
    for i in range(len(nodes)):
        p = int(parent[i])
        target = static_den[p] if p >= 0 else static_root_den[cats[i]]
        target += np.where(holds[i], weight[i], 0.0)
    leaves = np.flatnonzero(comp >= 0).astype(np.int64)
    return Tree(
        tuple(nodes), np.array(cats, dtype=np.int64), parent, weight,
        np.array([n.depth for n in nodes], dtype=np.int64), comp, leaves,
        tuple(nodes[int(i)].code for i in leaves), static_den, static_root_den,
    )  # fmt: skip


@dataclass(frozen=True)
class IndicatorScores:
    """Leaf rows (sorted by entity, then leaf) and component scores of indicator components."""

    entity: I64
    node: I64
    value: F64
    label: NDArray[np.object_]
    target: F64
    last_year: F64
    rate: F64
    status: NDArray[np.object_]
    veto: BoolArr
    share: F64  # share of the leaf in its component's score
    comp_score: F64  # [entity, component]
    comp_has: BoolArr  # [entity, component]: some leaf reported


def score_indicators(
    scheme: Scheme, tree: Tree, ents: EntityTable, frame: pl.DataFrame, falsified: tuple[I64, I64]
) -> IndicatorScores:
    """Apply every leaf's rule and roll the trees up into component scores."""
    where = "indicator_results"
    require(frame, ["entity", "indicator"], where)
    entity = encode(frame.get_column("entity"), list(ents.ids), f"{where}.entity")
    leaf = encode(frame.get_column("indicator"), tree.leaf_codes, f"{where}.indicator (a leaf code)")
    node = tree.leaves[leaf]
    order = np.lexsort((entity, node))
    entity, node = entity[order], node[order]
    key = node * ents.size + entity
    if key.size > 1 and np.any(key[1:] == key[:-1]):
        i = int(np.flatnonzero(key[1:] == key[:-1])[0])
        raise FactsError(
            where, f"entity {ents.ids[entity[i]]!r} has two results for {tree.nodes[node[i]].code!r}"
        )
    wrong = tree.category[node] != ents.category[entity]
    if np.any(wrong):
        i = int(np.flatnonzero(wrong)[0])
        raise FactsError(
            where, f"indicator {tree.nodes[node[i]].code!r} is not in the category of {ents.ids[entity[i]]!r}"
        )
    value = floats(frame, "value", where)[order]
    target = floats(frame, "target", where)[order]
    last = floats(frame, "last_year", where)[order]
    label = np.asarray(column(frame, "label", pl.String(), where).to_numpy(), dtype=np.object_)[order]
    n = entity.shape[0]
    rate = np.zeros(n, dtype=np.float64)
    veto = np.zeros(n, dtype=np.bool_)
    bounds = np.flatnonzero(np.diff(node, prepend=-1, append=-1))
    for a, b in itertools.pairwise(bounds.tolist()):
        spec = tree.nodes[int(node[a])]
        assert spec.rule is not None
        out = apply_rule(spec.code, spec.rule, LeafFacts(value[a:b], label[a:b], target[a:b], last[a:b]))
        rate[a:b], veto[a:b] = out.rate, out.veto
    no_label = np.array([x is None for x in label.tolist()], dtype=np.bool_)
    missing = np.where(spec_is_label(tree, node), no_label, np.isnan(value))
    status = np.where(missing, STATUS_MISSING, STATUS_OK).astype(np.object_)
    f_ent, f_node = falsified
    if f_ent.size:
        hit = np.isin(key, f_node * ents.size + f_ent)
        rate[hit], status[hit] = 0.0, STATUS_FALSIFIED
    share, comp_score, comp_has = roll_up(scheme, tree, ents, entity, node, 100.0 * rate)
    # Canonical output order: by entity, then leaf.
    out_order = np.lexsort((node, entity))
    return IndicatorScores(
        entity[out_order], node[out_order], value[out_order], label[out_order], target[out_order],
        last[out_order], rate[out_order], status[out_order], veto[out_order], share[out_order],
        comp_score, comp_has,
    )  # fmt: skip


def spec_is_label(tree: Tree, node: I64) -> BoolArr:
    """Return, per row, whether the leaf's rule reads the label rather than the value."""
    is_label = np.array([n.rule_type == "grade_map" for n in tree.nodes], dtype=np.bool_)
    return np.asarray(is_label[node], dtype=np.bool_)


def roll_up(
    scheme: Scheme, tree: Tree, ents: EntityTable, entity: I64, node: I64, score: F64
) -> tuple[F64, F64, BoolArr]:
    """Return (leaf share in its component, component scores, component has data)."""
    n_comp = tree.static_den.shape[1]
    exclude = np.array([c.missing_indicator == "exclude" for c in scheme.categories], dtype=np.bool_)
    comp = tree.component[node]
    n_nodes = len(tree.nodes)
    # Current rows: (entity, node, component, score); plus the link from each row to its parent row.
    cur_e, cur_n, cur_c, cur_s = entity, node, comp, score
    row_of_leaf = np.arange(entity.shape[0])  # leaf row → current row index
    factors: list[tuple[I64, F64]] = []  # per level: (parent row of each row, weight factor)
    comp_score = np.zeros((ents.size, n_comp), dtype=np.float64)
    comp_has = np.zeros((ents.size, n_comp), dtype=np.bool_)
    max_depth = int(tree.depth.max()) if n_nodes else 0
    for depth in range(max_depth, 0, -1):
        at = tree.depth[cur_n] == depth
        if not np.any(at):
            continue
        # Rows above this depth wait for their turn; rows at it roll into their parents.
        w = tree.weight[cur_n[at]]
        parent = tree.parent[cur_n[at]]
        is_root = parent < 0
        group_node = np.where(is_root, n_nodes + tree.category[cur_n[at]], parent)
        key = (cur_e[at] * (n_nodes + len(scheme.categories)) + group_node) * n_comp + cur_c[at]
        uniq, inv = np.unique(key, return_inverse=True)
        num = np.bincount(inv, weights=w * cur_s[at], minlength=uniq.size)
        g_e = uniq // n_comp // (n_nodes + len(scheme.categories))
        g_node = uniq // n_comp % (n_nodes + len(scheme.categories))
        g_c = uniq % n_comp
        g_root = g_node >= n_nodes
        g_cat = np.where(g_root, g_node - n_nodes, tree.category[np.minimum(g_node, n_nodes - 1)])
        dyn = np.bincount(inv, weights=w, minlength=uniq.size)
        static = np.where(
            g_root, tree.static_root_den[np.minimum(g_cat, len(scheme.categories) - 1), g_c],
            tree.static_den[np.minimum(g_node, n_nodes - 1), g_c],
        )  # fmt: skip
        den = np.where(exclude[g_cat], dyn, static)
        with np.errstate(divide="ignore", invalid="ignore"):
            g_s = np.where(den > 0, num / den, 0.0)
            factor = np.where(den[inv] > 0, w / den[inv], 0.0)
        # Map every current row to the index of its new row (rows not at this depth keep theirs).
        keep = np.flatnonzero(~at)
        new_index = np.empty(cur_e.shape[0], dtype=np.int64)
        parents_kept = np.flatnonzero(~g_root)
        pos_parent = np.full(uniq.size, -1, dtype=np.int64)
        pos_parent[parents_kept] = keep.size + np.arange(parents_kept.size)
        new_index[keep] = np.arange(keep.size)
        new_index[np.flatnonzero(at)] = pos_parent[inv]
        row_factor = np.ones(cur_e.shape[0], dtype=np.float64)
        row_factor[at] = factor
        factors.append((new_index, row_factor))
        roots = np.flatnonzero(g_root)
        comp_score[g_e[roots], g_c[roots]] = g_s[roots]
        comp_has[g_e[roots], g_c[roots]] = True
        cur_e = np.concatenate([cur_e[keep], g_e[parents_kept]])
        cur_n = np.concatenate([cur_n[keep], g_node[parents_kept]])
        cur_c = np.concatenate([cur_c[keep], g_c[parents_kept]])
        cur_s = np.concatenate([cur_s[keep], g_s[parents_kept]])
    # Share of each leaf: the product of its factors on the way up (roots map to index -1).
    share = np.ones(entity.shape[0], dtype=np.float64)
    row = row_of_leaf
    for new_index, row_factor in factors:
        alive = row >= 0
        share[alive] *= row_factor[row[alive]]
        nxt = np.full(row.shape[0], -1, dtype=np.int64)
        nxt[alive] = new_index[row[alive]]
        row = nxt
    return share, comp_score, comp_has
