"""Indicator results → leaf rates → component scores, by rolling each entity's own tree up.

An entity's tree is its category's framework (the scheme's indicator tree) plus its own declared
nodes (``CycleInput.declared``: levels 3–4 under framework nodes, "一个单位一张蓝图"). Each node's
score (0–100) is the weighted mean of its children's scores; a component's score is the weighted
mean of the roots that contain leaves of that component, the tree being restricted to that
component's leaves. With ``missing_indicator = "zero"`` an absent leaf counts as 0 and the weights
are fixed by the entity's tree; with ``"exclude"`` only reported leaves weigh, renormalised at
every level. A unit's function zone (and an official's unit's) selects the category's
``zone_weights`` for framework nodes. Falsification (弄虚作假) adjustments zero a leaf before the
roll-up.

Vectorised throughout: the "zero" denominators are the dynamic ones (Σ weights of the rows
present) after every leaf of an entity's tree without a result gets a score-0 *structure* row;
structure rows never reach the output or ``comp_has``. Declared leaves are grouped by (rule
type, params) and each group's rule runs once over all its rows; the groups of an elementwise
rule kind (``rules.BATCHED_KINDS``) run together, one pass per kind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import NoReturn

import numpy as np
import polars as pl
from numpy.typing import NDArray

from jixiao.scoring.errors import FactsError, SchemeError
from jixiao.scoring.frames import EntityTable, column, encode, floats, require
from jixiao.scoring.rules import (
    BATCHED_KINDS,
    GROUP_RULES,
    RULE_TYPES,
    LeafFacts,
    RuleOutput,
    RuleParams,
    apply_batched,
    apply_rule,
    parse_rule,
)
from jixiao.scoring.scheme import MAX_TREE_DEPTH, Node, Scheme
from jixiao.scoring.sorting import stable_argsort, unique_inverse

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
BoolArr = NDArray[np.bool_]
STATUSES = ("ok", "missing", "falsified")  # IndicatorScores.status codes index this
STATUS_OK, STATUS_MISSING, STATUS_FALSIFIED = 0, 1, 2
GRADE_MAP = RULE_TYPES.index("grade_map")


@dataclass(frozen=True)
class RuleGroup:
    """Leaves scored by one rule: a framework leaf, or declared leaves sharing (type, params)."""

    code: str  # the leaf named in errors (the group's first declared code)
    rule_type: str
    rule: RuleParams
    declared: bool


@dataclass(frozen=True)
class Tree:
    """Every framework node and every declared node, flattened.

    Nodes ``0..n_framework-1`` are the scheme's (category order, then code); the declared nodes
    follow in code order. Leaves are the nodes with a rule group.
    """

    nodes: tuple[Node, ...]  # the framework nodes
    n_framework: int
    code: pl.Series  # every node's code
    category: I64
    parent: I64  # -1 for roots
    weight: F64  # declared weights; framework weights of entities without a weighted zone
    depth: I64
    component: I64  # local component index for leaves, -1 otherwise
    rule_type: I64  # index into RULE_TYPES for leaves, -1 otherwise
    group: I64  # rule group of a leaf, -1 otherwise
    groups: tuple[RuleGroup, ...]
    owner: I64  # entity of a declared node, -1 for framework nodes
    low_ambition: BoolArr  # declared nodes approved although flagged 目标偏低
    params: pl.Series  # declared nodes' params (JSON text), in declared node order
    zone_weight: F64  # [1 + zone, framework node]: row 0 the scheme weights, then per scheme.zones()
    n_comp: int

    @property
    def size(self) -> int:
        """Return the number of nodes."""
        return int(self.parent.shape[0])


def _framework(scheme: Scheme) -> tuple[list[Node], I64]:
    nodes: list[Node] = []
    cats: list[int] = []
    for ci, category in enumerate(scheme.categories):
        nodes.extend(category.nodes)
        cats.extend([ci] * len(category.nodes))
    return nodes, np.array(cats, dtype=np.int64)


def build_tree(scheme: Scheme, ents: EntityTable | None = None, declared: pl.DataFrame | None = None) -> Tree:
    """Flatten the framework trees and the entities' declared nodes (SchemeError/FactsError name
    the entity and the code of a bad declared row)."""
    nodes, cats = _framework(scheme)
    index = {n.code: i for i, n in enumerate(nodes)}
    nf = len(nodes)
    n_comp = max(len(c.components) for c in scheme.categories)
    parent = np.array([index[n.parent] if n.parent else -1 for n in nodes], dtype=np.int64)
    comp = np.full(nf, -1, dtype=np.int64)
    rule_type = np.full(nf, -1, dtype=np.int64)
    group = np.full(nf, -1, dtype=np.int64)
    groups: list[RuleGroup] = []
    for i, node in enumerate(nodes):
        if node.component is not None and node.rule is not None and node.rule_type is not None:
            comp[i] = scheme.categories[cats[i]].component_codes().index(node.component)
            rule_type[i] = RULE_TYPES.index(node.rule_type)
            group[i] = len(groups)
            groups.append(RuleGroup(node.code, node.rule_type, node.rule, False))
    weight = np.array([n.weight for n in nodes], dtype=np.float64)
    zones = scheme.zones()
    zone_weight = np.tile(weight, (len(zones) + 1, 1))
    for category in scheme.categories:
        for zone, table in category.zone_weights.items():
            for code, w in table.items():
                zone_weight[zones.index(zone) + 1, index[code]] = w
    fw = _Arrays(
        pl.Series([n.code for n in nodes], dtype=pl.String), cats, parent, weight,
        np.array([n.depth for n in nodes], dtype=np.int64), comp, rule_type, group,
        np.full(nf, -1, dtype=np.int64), np.zeros(nf, dtype=np.bool_),
    )  # fmt: skip
    params = pl.Series([], dtype=pl.String)
    if declared is not None and declared.height and ents is not None:
        d, params, more = _declared(scheme, ents, declared, fw, len(groups))
        groups.extend(more)
        fw = fw.concat(d)
    return Tree(tuple(nodes), nf, fw.code, fw.category, fw.parent, fw.weight, fw.depth, fw.component,
                fw.rule_type, fw.group, tuple(groups), fw.owner, fw.low_ambition, params, zone_weight,
                n_comp)  # fmt: skip


@dataclass(frozen=True)
class _Arrays:
    code: pl.Series
    category: I64
    parent: I64
    weight: F64
    depth: I64
    component: I64
    rule_type: I64
    group: I64
    owner: I64
    low_ambition: BoolArr

    def concat(self, other: _Arrays) -> _Arrays:
        return _Arrays(
            pl.concat([self.code, other.code]),
            *(np.concatenate([getattr(self, f), getattr(other, f)]) for f in
              ("category", "parent", "weight", "depth", "component", "rule_type", "group", "owner", "low_ambition")),
        )  # fmt: skip


def _declared(
    scheme: Scheme, ents: EntityTable, frame: pl.DataFrame, fw: _Arrays, first_group: int
) -> tuple[_Arrays, pl.Series, list[RuleGroup]]:
    """Validate the declared table and return its nodes (in code order) and rule groups."""
    where = "declared"
    require(frame, ["entity", "code", "parent", "weight"], where)
    nf = fw.parent.shape[0]
    table = pl.DataFrame([
        column(frame, "code", pl.String(), where).alias("code"),
        column(frame, "entity", pl.String(), where).alias("entity")
        if not isinstance(frame.schema["entity"], pl.Enum) else frame.get_column("entity"),
        column(frame, "parent", pl.String(), where).alias("parent"),
        column(frame, "weight", pl.Float64(), where).alias("weight"),
        column(frame, "component", pl.String(), where).alias("component"),
        column(frame, "rule", pl.String(), where).alias("rule"),
        column(frame, "params", pl.String(), where).alias("params"),
        column(frame, "low_ambition", pl.Boolean(), where).fill_null(False).alias("low_ambition"),
    ])  # fmt: skip
    if not table.get_column("code").is_sorted():  # an adapter reading in code order saves the sort
        table = table.sort("code")
    code = table.get_column("code")
    entity = encode(table.get_column("entity"), ents.id_enum, f"{where}.entity")
    n = table.height

    def fail(i: int, message: str, error: type[SchemeError | FactsError] = SchemeError) -> NoReturn:
        raise error(f"{where}: entity {str(ents.ids[entity[i]])!r}, leaf {code[i]!r}", message)

    if code.null_count():
        raise SchemeError(where, "every declared leaf needs a code")
    same = (
        np.flatnonzero((code.slice(1) == code.slice(0, n - 1)).to_numpy()) if n > 1 else np.zeros(0, np.int64)
    )
    if same.size:
        fail(int(same[0]), "the code is declared twice (codes must be unique)")
    clash = np.flatnonzero(code.is_in(fw.code.implode()).to_numpy())
    if clash.size:
        fail(int(clash[0]), "the code is a framework node's code")
    # Parents: a framework node of the entity's category, or a declared node of the same entity.
    parent_code = table.get_column("parent")
    if parent_code.null_count():
        fail(int(np.flatnonzero(parent_code.is_null().to_numpy())[0]), "a declared leaf needs a parent")
    on_fw = parent_code.cast(pl.Enum(fw.code), strict=False).to_physical().cast(pl.Int64)
    parent = np.array(on_fw.fill_null(-1).to_numpy(), dtype=np.int64)  # a writable copy
    rest = np.flatnonzero(parent < 0)
    if rest.size:
        at = find_sorted(code, parent_code.gather(rest))  # ``code`` is sorted by now
        if np.any(at < 0):
            fail(int(rest[np.flatnonzero(at < 0)[0]]), f"parent {parent_code[int(rest[np.flatnonzero(at < 0)[0]])]!r} "
                 "is neither a framework node nor a declared leaf")  # fmt: skip
        parent[rest] = nf + at
    category = ents.category[entity]
    on_framework = parent < nf
    fw_parent = np.minimum(parent, nf - 1) if nf else parent
    wrong = on_framework & (fw.category[fw_parent] != category) if nf else np.zeros(n, np.bool_)
    if np.any(wrong):
        i = int(np.flatnonzero(wrong)[0])
        fail(i, f"parent {parent_code[i]!r} is not a framework node of the entity's category")
    if nf and np.any(on_framework & (fw.group[fw_parent] >= 0)):
        i = int(np.flatnonzero(on_framework & (fw.group[fw_parent] >= 0))[0])
        fail(i, f"parent {parent_code[i]!r} is a framework leaf (it has a rule); declare under an inner node")
    other = ~on_framework & (entity[np.maximum(parent - nf, 0)] != entity)
    if np.any(other):
        i = int(np.flatnonzero(other)[0])
        fail(i, f"parent {parent_code[i]!r} is another entity's declared leaf")
    depth = np.full(n, -1, dtype=np.int64)
    depth[on_framework] = fw.depth[parent[on_framework]] + 1
    for _ in range(MAX_TREE_DEPTH):
        todo = np.flatnonzero((depth < 0) & ~on_framework)
        if todo.size == 0:
            break
        up = depth[parent[todo] - nf]
        depth[todo[up > 0]] = up[up > 0] + 1
    if np.any((depth < 0) | (depth > MAX_TREE_DEPTH)):
        i = int(np.flatnonzero((depth < 0) | (depth > MAX_TREE_DEPTH))[0])
        fail(i, f"the entity's tree is deeper than {MAX_TREE_DEPTH} levels (or has a cycle)")
    weight = np.asarray(table.get_column("weight").to_numpy(), dtype=np.float64)
    bad = ~np.isfinite(weight) | (weight < 0)
    if np.any(bad):
        fail(int(np.flatnonzero(bad)[0]), "the weight must be a number ≥ 0")
    inner = np.zeros(n, dtype=np.bool_)
    inner[parent[~on_framework] - nf] = True
    leaf = ~inner
    # Components: an indicators component of the entity's category (leaves only; inner nodes'
    # rule and component are ignored).
    comp = np.full(n, -1, dtype=np.int64)
    comp_code = table.get_column("component")
    for ci, cat in enumerate(scheme.categories):
        sel = np.flatnonzero(leaf & (category == ci))
        if sel.size == 0:
            continue
        allowed = [c.code for c in cat.components if c.source == "indicators"]
        local = comp_code.gather(sel).cast(pl.Enum(allowed), strict=False).to_physical().cast(pl.Int64)
        local_codes = np.asarray(local.fill_null(-1).to_numpy(), dtype=np.int64)
        if np.any(local_codes < 0):
            i = int(sel[np.flatnonzero(local_codes < 0)[0]])
            fail(i, f"component {comp_code[i]!r} is not an indicators component of category {cat.code!r}")
        comp[sel] = np.array([cat.component_codes().index(a) for a in allowed], dtype=np.int64)[local_codes]
    # Rule groups: one per distinct (rule, params), in (rule, params) order; parsed once each.
    leaves = np.flatnonzero(leaf)
    keyed = table.select("rule", pl.col("params").fill_null("{}")).with_row_index("row").filter(
        pl.col("row").is_in(pl.Series(leaves, dtype=pl.UInt32).implode())
    )  # fmt: skip
    distinct = keyed.group_by("rule", "params").agg(pl.col("row").min().alias("first"), pl.col("row"))
    distinct = distinct.sort("rule", "params", nulls_last=True)
    groups: list[RuleGroup] = []
    for rule, params, first in distinct.select("rule", "params", "first").iter_rows():
        i = int(first)
        if rule is None:
            fail(i, "a declared leaf needs a rule type")
        try:
            raw = json.loads(params)
        except ValueError:
            fail(i, "params must be JSON text of an object")
        if rule in GROUP_RULES:
            fail(i, f"rule type {rule!r} compares the entities sharing a leaf; a declared leaf belongs "
                 "to one entity (use completion, steps, threshold_deduction, bonus_deduction, "
                 "grade_map, yoy_improvement or veto)")  # fmt: skip
        try:
            kind, parsed = parse_rule(str(code[i]), {"type": rule, "params": raw})
        except SchemeError as exc:
            raise SchemeError(f"{where}: entity {str(ents.ids[entity[i]])!r}, leaf {code[i]!r}", exc.message,
                              param=exc.param, problem=exc.problem) from None  # fmt: skip
        groups.append(RuleGroup(str(code[i]), kind, parsed, True))
    members = distinct.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("group"), "row").explode("row")
    group = np.full(n, -1, dtype=np.int64)
    group[members.get_column("row").to_numpy()] = members.get_column("group").to_numpy() + first_group
    rule_type = np.full(n, -1, dtype=np.int64)
    kinds = np.array([RULE_TYPES.index(g.rule_type) for g in groups], dtype=np.int64)
    rule_type[leaves] = kinds[group[leaves] - first_group] if groups else -1
    low = np.asarray(table.get_column("low_ambition").to_numpy(), dtype=np.bool_)
    arrays = _Arrays(code, category, parent, weight, depth, comp, rule_type, group, entity, low)
    return arrays, table.get_column("params"), groups


def find_sorted(keys: pl.Series, queries: pl.Series) -> I64:
    """Return the position of every query in ``keys`` (unique strings, ascending), -1 if absent.

    A binary search per query and one check of the key found: about half the CPU of a hash join
    on 1.4 M declared codes, and no lookup frame to build.
    """
    if keys.len() == 0:
        return np.full(queries.len(), -1, dtype=np.int64)
    at = keys.search_sorted(queries).clip(0, keys.len() - 1)
    hit = (keys.gather(at) == queries).fill_null(False).to_numpy()
    return np.where(hit, at.cast(pl.Int64).to_numpy(), -1)


def node_index(tree: Tree, codes: pl.Series, where: str) -> I64:
    """Return the node of every leaf code in ``codes`` (FactsError for an unknown or inner code)."""
    # Unconditional: free for a String column, and reading ``.dtype`` of an Enum column builds its
    # categories anew (0.15 s for 1.7 M codes), more than the cast itself.
    codes = codes.cast(pl.String)
    if codes.null_count():
        raise FactsError(where, "must not be null")
    fw_codes = tree.code.slice(0, tree.n_framework)
    on_fw = codes.cast(pl.Enum(fw_codes), strict=False).to_physical().cast(pl.Int64)
    node = np.array(on_fw.fill_null(-1).to_numpy(), dtype=np.int64)  # a writable copy
    rest = np.flatnonzero(node < 0)
    if rest.size:
        declared = tree.code.slice(tree.n_framework)
        asked = codes.gather(rest)
        at = find_sorted(declared, asked)  # declared nodes are in code order
        if np.any(at < 0):
            unknown = sorted(set(asked.filter(pl.Series(at < 0)).to_list()))[:5]
            raise FactsError(where, f"unknown value(s) {unknown}")
        node[rest] = tree.n_framework + at
    inner = tree.group[node] < 0
    if np.any(inner):
        raise FactsError(where, f"{codes[int(np.flatnonzero(inner)[0])]!r} is not a leaf (it has children)")
    return node


@dataclass(frozen=True)
class IndicatorScores:
    """Leaf rows (sorted by entity, then leaf) and component scores of indicator components."""

    entity: I64
    node: I64
    value: F64
    label: pl.Series  # String
    target: F64
    last_year: F64
    rate: F64
    status: NDArray[np.int8]  # index into STATUSES (small codes: no Python strings per row)
    veto: BoolArr
    share: F64  # share of the leaf in its component's score
    comp_score: F64  # [entity, component]
    comp_has: BoolArr  # [entity, component]: some leaf reported


def score_indicators(
    scheme: Scheme, tree: Tree, ents: EntityTable, frame: pl.DataFrame, falsified: tuple[I64, I64]
) -> IndicatorScores:
    """Apply every leaf's rule and roll each entity's tree up into component scores."""
    where = "indicator_results"
    require(frame, ["entity", "indicator"], where)
    n_ent = ents.size
    entity = encode(frame.get_column("entity"), ents.id_enum, f"{where}.entity")
    node = node_index(tree, frame.get_column("indicator"), f"{where}.indicator (a leaf code)")
    n_nodes = tree.size
    key = entity * n_nodes + node  # the output order: by entity, then leaf
    order = stable_argsort(key)  # free when the results come in (entity, leaf) order
    key = key[order]
    if key.size > 1 and np.any(key[1:] == key[:-1]):
        i = int(np.flatnonzero(key[1:] == key[:-1])[0])
        raise FactsError(
            where,
            f"entity {str(ents.ids[key[i] // n_nodes])!r} has two results for {tree.code[int(key[i] % n_nodes)]!r}",
        )
    entity, node = key // n_nodes, key % n_nodes
    owner = tree.owner[node]
    wrong = (owner >= 0) & (owner != entity)
    if np.any(wrong):
        i = int(np.flatnonzero(wrong)[0])
        raise FactsError(where, f"indicator {tree.code[int(node[i])]!r} is a declared leaf of "
                                f"{str(ents.ids[owner[i]])!r}, not of {str(ents.ids[entity[i]])!r}")  # fmt: skip
    wrong = tree.category[node] != ents.category[entity]
    if np.any(wrong):
        i = int(np.flatnonzero(wrong)[0])
        raise FactsError(
            where,
            f"indicator {tree.code[int(node[i])]!r} is not in the category of {str(ents.ids[entity[i]])!r}",
        )
    value = floats(frame, "value", where)[order]
    target = floats(frame, "target", where)[order]
    last = floats(frame, "last_year", where)[order]
    label_series = column(frame, "label", pl.String(), where).gather(pl.Series(order, dtype=pl.Int64))
    # Python strings only where a rule reads them (grade_map); the results take the Series.
    label = np.full(label_series.len(), None, dtype=np.object_)
    graded = np.flatnonzero(tree.rule_type[node] == GRADE_MAP)
    if graded.size:
        label[graded] = label_series.gather(pl.Series(graded, dtype=pl.Int64)).to_numpy()
    n = entity.shape[0]
    rate = np.zeros(n, dtype=np.float64)
    veto = np.zeros(n, dtype=np.bool_)
    group = tree.group[node]
    # A stable sort of 16-bit keys is a radix sort in NumPy (~5× faster than int64 on 2.9 M rows).
    small = group.astype(np.int16) if len(tree.groups) < 2**15 else group
    by_group = np.argsort(small, kind="stable")
    g_sorted = group[by_group]
    bounds = np.flatnonzero(np.diff(g_sorted, prepend=-1, append=-1))
    runs = list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))
    for a, b in _batched_rules(tree, runs, g_sorted, by_group, value, label, target, last, rate, veto):
        spec = tree.groups[int(g_sorted[a])]
        rows = by_group[a:b]
        out = apply_rule(spec.code, spec.rule, LeafFacts(value[rows], label[rows], target[rows], last[rows]))
        rate[rows], veto[rows] = out.rate, out.veto
    missing = np.where(tree.rule_type[node] == GRADE_MAP, label_series.is_null().to_numpy(), np.isnan(value))
    status = np.where(missing, STATUS_MISSING, STATUS_OK).astype(np.int8)
    f_ent, f_node = falsified
    if f_ent.size and key.size:
        # ``key`` is sorted and unique: a binary search per falsified pair, not a pass per row.
        want = f_ent * n_nodes + f_node
        at = np.minimum(np.searchsorted(key, want), key.size - 1)
        hit = at[key[at] == want]
        rate[hit], status[hit] = 0.0, STATUS_FALSIFIED
    pad_e, pad_n = _structure_rows(scheme, tree, ents, entity, node)
    all_e, all_n = np.concatenate([entity, pad_e]), np.concatenate([node, pad_n])
    all_s = np.concatenate([100.0 * rate, np.zeros(pad_e.size)])
    share, comp_score = roll_up(scheme, tree, ents, all_e, all_n, all_s)
    share = share[:n]
    comp_has = np.zeros((n_ent, tree.n_comp), dtype=np.bool_)
    comp_has[entity, tree.component[node]] = True
    return IndicatorScores(
        entity, node, value, label_series, target, last, rate, status, veto, share, comp_score, comp_has
    )


def _batched_rules(
    tree: Tree, runs: list[tuple[int, int]], g_sorted: I64, by_group: I64, value: F64,
    label: NDArray[np.object_], target: F64, last: F64, rate: F64, veto: BoolArr,
) -> list[tuple[int, int]]:  # fmt: skip
    """Score the leaves of each kind in ``BATCHED_KINDS`` in one pass (writing ``rate``, ``veto``)
    and return the runs (rows of one leaf group in ``by_group``) left to score one by one.

    A province has ~1,300 rule groups (declared leaves with their own params), most of them
    elementwise kinds: one pass per kind instead of one per group. When a batch would raise, no
    batch is written and every run is returned: leaf by leaf, the error names the same leaf.
    """
    by_kind: dict[type, list[int]] = {}
    for i, (a, _) in enumerate(runs):
        by_kind.setdefault(type(tree.groups[int(g_sorted[a])].rule), []).append(i)
    done: list[int] = []
    results: list[tuple[I64, RuleOutput]] = []
    for kind, members in by_kind.items():
        if kind not in BATCHED_KINDS or len(members) < 2:
            continue
        lengths = np.array([runs[i][1] - runs[i][0] for i in members], dtype=np.int64)
        rows = np.concatenate([by_group[runs[i][0] : runs[i][1]] for i in members])
        local = np.repeat(np.arange(len(members), dtype=np.int64), lengths)
        params = [tree.groups[int(g_sorted[runs[i][0]])].rule for i in members]
        out = apply_batched(params, local, LeafFacts(value[rows], label[rows], target[rows], last[rows]))
        if out is None:
            return runs
        results.append((rows, out))
        done.extend(members)
    for rows, out in results:
        rate[rows], veto[rows] = out.rate, out.veto
    skip = set(done)
    return [run for i, run in enumerate(runs) if i not in skip]


def _structure_rows(scheme: Scheme, tree: Tree, ents: EntityTable, entity: I64, node: I64) -> tuple[I64, I64]:
    """Return (entity, node) of every leaf of a "zero" entity's own tree that has no result row.

    ``entity``, ``node`` are the result rows. Presence is read from dense marks, not searched:
    a framework leaf of a category by a (leaf, member) table, a declared leaf by its node alone
    (its results are its owner's, checked before). The rows come out category by category,
    framework leaves leaf-major, then the declared leaves in node order.
    """
    zero = np.array([c.missing_indicator == "zero" for c in scheme.categories], dtype=np.bool_)
    nf = tree.n_framework
    fw_leaf = np.flatnonzero(tree.group[:nf] >= 0)
    n_cat = len(scheme.categories)
    # Per category: its members' rank in entity order and its framework leaves' rank in node order.
    n_members = np.bincount(ents.category, minlength=n_cat).astype(np.int64)
    by_cat = np.argsort(ents.category, kind="stable")
    member_rank = np.empty(ents.size, dtype=np.int64)
    member_rank[by_cat] = np.arange(ents.size) - np.repeat(np.cumsum(n_members) - n_members, n_members)
    leaf_rank = np.full(nf, -1, dtype=np.int64)
    offset = np.full(n_cat, -1, dtype=np.int64)  # start of the category's table, -1: no table
    parts_e: list[I64] = []
    parts_n: list[I64] = []
    size = 0
    for ci in np.flatnonzero(zero).tolist():
        leaves = fw_leaf[tree.category[fw_leaf] == ci]
        members = np.flatnonzero(ents.category == ci)
        if leaves.size and members.size:
            parts_e.append(np.tile(members, leaves.size))
            parts_n.append(np.repeat(leaves, members.size))
            leaf_rank[leaves] = np.arange(leaves.size)
            offset[ci] = size
            size += leaves.size * members.size
    seen = np.zeros(size, dtype=np.bool_)
    on_fw = np.flatnonzero(node < nf)
    r_e, r_n = entity[on_fw], node[on_fw]
    r_cat = ents.category[r_e]
    tabled = offset[r_cat] >= 0
    r_e, r_n, r_cat = r_e[tabled], r_n[tabled], r_cat[tabled]
    seen[offset[r_cat] + leaf_rank[r_n] * n_members[r_cat] + member_rank[r_e]] = True
    declared = nf + np.flatnonzero(tree.group[nf:] >= 0)
    declared = declared[zero[tree.category[declared]]]
    reported = np.zeros(tree.size, dtype=np.bool_)
    reported[node] = True
    parts_e.append(tree.owner[declared])
    parts_n.append(declared)
    want_e, want_n = np.concatenate(parts_e), np.concatenate(parts_n)
    present = np.concatenate([seen, reported[declared]])
    return want_e[~present], want_n[~present]


def row_weights(tree: Tree, ents: EntityTable, entity: I64, node: I64) -> F64:
    """Return the weight of ``node`` in the tree of ``entity`` (zone weights for framework nodes)."""
    w = tree.weight[node]
    if tree.zone_weight.shape[0] > 1:
        fw = np.flatnonzero(node < tree.n_framework)
        w = w.copy()
        w[fw] = tree.zone_weight[ents.zone[entity[fw]] + 1, node[fw]]
    return w


def roll_up(
    scheme: Scheme, tree: Tree, ents: EntityTable, entity: I64, node: I64, score: F64
) -> tuple[F64, F64]:
    """Return (leaf share in its component, component scores) of leaf rows (result and structure
    rows: the denominators are the Σ weights of the rows present)."""
    n_comp = tree.n_comp
    n_nodes = tree.size
    n_cat = len(scheme.categories)
    comp = tree.component[node]
    # Current rows: (entity, node, component, score); plus the link from each row to its parent row.
    cur_e, cur_n, cur_c, cur_s = entity, node, comp, score
    factors: list[tuple[I64, F64]] = []  # per level: (parent row of each row, weight factor)
    comp_score = np.zeros((ents.size, n_comp), dtype=np.float64)
    max_depth = int(tree.depth.max()) if n_nodes else 0
    for depth in range(max_depth, 0, -1):
        at = tree.depth[cur_n] == depth
        if not np.any(at):
            continue
        # Rows above this depth wait for their turn; rows at it roll into their parents.
        at_e, at_n = cur_e[at], cur_n[at]
        w = row_weights(tree, ents, at_e, at_n)
        parent = tree.parent[at_n]
        is_root = parent < 0
        group_node = np.where(is_root, n_nodes + ents.category[at_e], parent)
        key = (at_e * (n_nodes + n_cat) + group_node) * n_comp + cur_c[at]
        uniq, inv = unique_inverse(key)
        num = np.bincount(inv, weights=w * cur_s[at], minlength=uniq.size)
        den = np.bincount(inv, weights=w, minlength=uniq.size)
        g_e = uniq // n_comp // (n_nodes + n_cat)
        g_node = uniq // n_comp % (n_nodes + n_cat)
        g_c = uniq % n_comp
        g_root = g_node >= n_nodes
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
        cur_e = np.concatenate([cur_e[keep], g_e[parents_kept]])
        cur_n = np.concatenate([cur_n[keep], g_node[parents_kept]])
        cur_c = np.concatenate([cur_c[keep], g_c[parents_kept]])
        cur_s = np.concatenate([cur_s[keep], g_s[parents_kept]])
    # Share of each leaf: the product of its factors on the way up (roots map to index -1).
    share = np.ones(entity.shape[0], dtype=np.float64)
    row = np.arange(entity.shape[0])
    for new_index, row_factor in factors:
        alive = row >= 0
        share[alive] *= row_factor[row[alive]]
        nxt = np.full(row.shape[0], -1, dtype=np.int64)
        nxt[alive] = new_index[row[alive]]
        row = nxt
    return share, comp_score
