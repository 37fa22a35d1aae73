"""Multi-rater aggregation (M8, M9): trimmed means per item, groups weighted and renormalised.

For each (entity, rater group, item) the individual ratings are sorted; when there are more than
``trim_min_count`` of them, ``floor(trim_share × n)`` are dropped at each end; the rest are
averaged. A group's score is the item-weighted mean of its item means. A group with fewer than
``min_ballots`` ballots (the largest rating count over its items) is withheld — not shown and not
counted as zero. A ratings component is the group-weighted mean over the groups not withheld,
so the weights renormalise over the groups that actually rated (知情相关原则).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from jixiao.scoring.errors import FactsError
from jixiao.scoring.frames import EntityTable, encode_raw, floats, require
from jixiao.scoring.scheme import Scheme
from jixiao.scoring.sorting import sort_values

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
BoolArr = NDArray[np.bool_]
MAX_DECIMALS = 6  # scores with up to this many decimals take the exact packed-sort path


@dataclass(frozen=True)
class ItemMeans:
    """One row per (entity, group, item) that was rated: counts and trimmed mean."""

    entity: I64
    group: I64
    item: I64
    items: tuple[str, ...]
    count: I64
    kept: I64
    mean: F64


@dataclass(frozen=True)
class RaterScores:
    """Component scores from ratings, and the detail rows for the explanation."""

    comp_score: F64  # [entity, component]
    comp_has: BoolArr
    detail: pl.DataFrame  # entity_idx, component_idx, group, item, ratings, kept, mean, status


def _sorted_keys(key: I64, score: F64, key_bits: int) -> tuple[I64, F64]:
    """Return (key, score) sorted by key then score; ``key`` and ``score`` are consumed.

    Fast path: when every score has at most MAX_DECIMALS decimals, pack key and the scaled score
    into one int64 and sort the values (no argsort; ``sort_values``: ~10× faster); decoding is
    exact because ``rint(s * 10**d) / 10**d == s`` was checked for every score. The arrays are
    large (10 M rows), so the work is done in place to avoid fresh allocations.
    """
    probe = score[:4096]  # cheap screen of the decimals before checking every score
    buf = np.empty_like(score)
    for d in range(MAX_DECIMALS + 1):
        scale = float(10**d)
        if not np.array_equal(np.rint(probe * scale) / scale, probe):
            continue
        np.multiply(score, scale, out=buf)
        np.rint(buf, out=buf)
        top = float(buf.max()) if buf.size else 0.0
        q_bits = max(int(top).bit_length(), 1)
        if key_bits + q_bits > 62:
            break
        if not np.array_equal(buf / scale, score):
            continue
        packed = key
        packed <<= q_bits
        packed |= buf.astype(np.int64)
        packed = sort_values(packed)
        np.bitwise_and(packed, (1 << q_bits) - 1, out=buf, casting="unsafe")
        buf /= scale
        packed >>= q_bits
        return packed, buf
    order = np.lexsort((score, key))
    return key[order], score[order]


def item_means(scheme: Scheme, ents: EntityTable, frame: pl.DataFrame) -> ItemMeans:
    """Aggregate individual ratings into trimmed means per (entity, group, item)."""
    where = "ratings"
    require(frame, ["entity", "group", "item", "score"], where)
    groups = scheme.rater_groups
    items_series = frame.get_column("item")
    if not isinstance(items_series.dtype, pl.Enum):
        items_series = items_series.cast(pl.String)
    items = tuple(sorted(x for x in items_series.unique().cast(pl.String).to_list() if x is not None))
    score = floats(frame, "score", where)
    if not np.all(np.isfinite(score)) or np.any(score < 0):
        raise FactsError(f"{where}.score", "scores must be finite and ≥ 0")
    n_g, n_i = max(len(groups), 1), max(len(items), 1)
    key = encode_raw(frame.get_column("entity"), ents.id_enum, f"{where}.entity").astype(np.int64)
    key *= n_g
    key += encode_raw(frame.get_column("group"), [g.code for g in groups], f"{where}.group")
    key *= n_i
    key += encode_raw(items_series, items, f"{where}.item")
    key_bits = int(ents.size * n_g * n_i).bit_length()
    key_s, score_s = _sorted_keys(key, score.copy() if score.base is not None else score, key_bits)
    if key_s.size == 0:
        z = np.zeros(0, dtype=np.int64)
        return ItemMeans(z, z, z, items, z, z, np.zeros(0))
    starts = np.flatnonzero(key_s[1:] != key_s[:-1]) + 1
    starts = np.concatenate([np.zeros(1, dtype=np.int64), starts])
    count = np.diff(np.append(starts, key_s.size))
    g_key = key_s[starts]
    g_group = g_key // n_i % n_g
    num = np.array([g.trim_share.numerator for g in groups], dtype=np.int64)[g_group]
    den = np.array([g.trim_share.denominator for g in groups], dtype=np.int64)[g_group]
    min_count = np.array([g.trim_min_count for g in groups], dtype=np.int64)[g_group]
    trim = np.where(count > min_count, count * num // den, 0)
    trimmed = np.flatnonzero(trim > 0)
    if trimmed.size:
        # Zero the `trim` lowest and highest ratings of every trimmed run (they are sorted).
        t = trim[trimmed]
        offsets = np.arange(int(t.sum())) - np.repeat(np.cumsum(t) - t, t)
        low = np.repeat(starts[trimmed], t) + offsets
        high = np.repeat(starts[trimmed] + count[trimmed] - t, t) + offsets
        score_s[low] = 0.0
        score_s[high] = 0.0
    total = np.add.reduceat(score_s, starts)
    kept = count - 2 * trim
    return ItemMeans(g_key // n_i // n_g, g_group, g_key % n_i, items, count, kept, total / kept)


def score_ratings(scheme: Scheme, ents: EntityTable, means: ItemMeans, n_comp: int) -> RaterScores:
    """Weigh item means into group scores and groups into ratings components."""
    comp_score = np.zeros((ents.size, n_comp), dtype=np.float64)
    comp_has = np.zeros((ents.size, n_comp), dtype=np.bool_)
    n_g = len(scheme.rater_groups)
    min_ballots = np.array([g.min_ballots for g in scheme.rater_groups], dtype=np.int64)
    cat = ents.category[means.entity] if means.entity.size else np.zeros(0, dtype=np.int64)
    parts: list[dict[str, NDArray[np.generic]]] = []
    # The rows of each category, in row order (a stable 16-bit sort is a radix sort), so that each
    # component reads only its category's rows instead of passing over all of them.
    n_cat = len(scheme.categories)
    by_cat = np.argsort(cat.astype(np.int16) if n_cat < 2**15 else cat, kind="stable")
    cat_bounds = np.searchsorted(cat[by_cat], np.arange(n_cat + 1))
    for ci, category in enumerate(scheme.categories):
        in_cat = by_cat[cat_bounds[ci] : cat_bounds[ci + 1]]
        for j, comp in enumerate(category.components):
            if comp.source != "ratings":
                continue
            group_w = np.array([comp.groups.get(g.code, 0.0) for g in scheme.rater_groups])
            item_w = np.array([comp.items.get(it, 0.0) if comp.items else 1.0 for it in means.items])
            if item_w.size == 0:
                continue
            rows = in_cat[(group_w[means.group[in_cat]] > 0) & (item_w[means.item[in_cat]] > 0)]
            if rows.size == 0:
                continue
            e, g = means.entity[rows], means.group[rows]
            w_i = item_w[means.item[rows]]
            # The item means are in (entity, group, item) order: each (entity, group) is one run,
            # so the runs are the groups (what np.unique would give, without its sort).
            eg = e * n_g + g
            new_run = np.ones(eg.size, dtype=np.bool_)
            new_run[1:] = eg[1:] != eg[:-1]
            starts = np.flatnonzero(new_run)
            uniq, inv = eg[starts], np.cumsum(new_run) - 1
            s_g = np.bincount(inv, weights=w_i * means.mean[rows]) / np.bincount(inv, weights=w_i)
            ballots = np.maximum.reduceat(means.count[rows], starts)
            u_e, u_g = uniq // n_g, uniq % n_g
            shown = ballots >= min_ballots[u_g]
            w_g = np.where(shown, group_w[u_g], 0.0)
            num = np.bincount(u_e, weights=w_g * s_g, minlength=ents.size)
            den = np.bincount(u_e, weights=w_g, minlength=ents.size)
            has = den > 0
            comp_score[has, j] = num[has] / den[has]
            comp_has[has, j] = True
            parts.append({
                "entity": e, "component": np.full(rows.size, j, dtype=np.int64), "group": g,
                "item": means.item[rows], "ratings": means.count[rows], "kept": means.kept[rows],
                "mean": means.mean[rows], "shown": shown[inv],
            })  # fmt: skip
    if parts:
        detail = pl.DataFrame({k: np.concatenate([p[k] for p in parts]) for k in parts[0]})
    else:
        detail = pl.DataFrame(
            schema={"entity": pl.Int64, "component": pl.Int64, "group": pl.Int64, "item": pl.Int64,
                    "ratings": pl.Int64, "kept": pl.Int64, "mean": pl.Float64, "shown": pl.Boolean}
        )  # fmt: skip
    return RaterScores(comp_score, comp_has, detail)
