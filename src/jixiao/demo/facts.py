"""Step ``facts``: a year of facts for every cycle — indicator results, ratings, votes, adjustments.

What the scoring engine reads (``facts`` app tables), generated so that a cycle computes and the
results look like a real year:

- every unit has a latent *strength* (fixed across years, with a yearly drift); every official's
  strength leans on their unit's. Indicator values, ratings and votes are drawn around it, so the
  same units tend to lead and the categories still spread out;
- 指标完成情况 IndicatorResult: one row per (unit, leaf) of the unit's scheme, with value, target,
  grade label or last year's value as the leaf's rule needs (completion ratios around 92%, grade
  labels from the rule's map, veto leaves 1/0 and mostly 0 — the strongest unit of each category
  has one triggered, so a 一票否优 visibly caps a grade);
- 测评得分 EvaluationScore: individual ratings (ballots = 1) per entity, rater group and item — units on
  the satisfaction scale 100/80/60/30/0 (public, third party, media) or 60–100, officials 60–100 on
  德能勤绩廉 and on their portfolio (分管工作);
- 测评票数 VoteCount for every official (about 1% with more than a third 基本称职 + 不称职 votes);
- 加减分与否决 Adjustment: supervision deductions, sanctions (诫勉, 追责 …), a veto of excellence,
  a no-grade case, a falsified item and a debt ratio over its limit.

Columns are drawn with NumPy (one seeded ``numpy.random.Generator`` per cycle) and written with
PostgreSQL ``COPY`` or, on SQLite, ``executemany`` in large batches — a province cycle holds about
ten million ratings.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from django.db import DatabaseError, connections, models, transaction
from numpy.typing import NDArray

from jixiao.demo import catalog
from jixiao.demo.pipeline import Context
from jixiao.facts.models import Adjustment, AdjustmentKind, EvaluationScore, IndicatorResult, VoteCount
from jixiao.organisation.models import Layer, Official, Unit
from jixiao.schemes.models import Cycle, IndicatorNode

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
COPY_CHUNK = 1_000_000  # rows per COPY / executemany batch
LEAF_SOURCE = "牵头单位评定"
GROUP_SOURCE = {
    "org": "组织部门考察",
    "leaders": "上级领导评价",
    "peers": "同级互评",
    "public": "群众满意度调查",
    "third_party": "第三方测评",
    "media": "媒体评价",
}
# Upper cut points of the strength score for grade labels, best label first (4 labels: ~20/40/30/10%).
GRADE_CUTS = (0.85, -0.25, -1.3)
SATISFACTION_CUTS = (0.55, -0.45, -1.6, -2.3)  # 很满意 / 满意 / 基本满意 / 不太满意 / 不满意


def numpy_rng(ctx: Context, name: str) -> np.random.Generator:
    """Return a NumPy generator seeded by the run's seed and ``name`` (stable across runs)."""
    digest = hashlib.sha256(f"jixiao-demo:{ctx.seed}:{name}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


@dataclass(frozen=True)
class World:
    """The assessed entities as arrays: units, officials and their latent strengths."""

    unit_pk: I64
    unit_category: NDArray[np.str_]
    unit_strength: F64
    official_pk: I64
    official_unit: I64  # index into the unit arrays
    official_layer: NDArray[np.str_]
    official_strength: F64


def _world(ctx: Context) -> World:
    units = list(
        Unit.objects.using(ctx.using)
        .filter(is_active=True)
        .order_by("pk")
        .values_list("pk", "category__code")
    )
    officials = list(
        Official.objects.using(ctx.using)
        .filter(is_active=True, unit__is_active=True)
        .order_by("pk")
        .values_list("pk", "unit_id", "layer")
    )
    unit_pk = np.array([u[0] for u in units], dtype=np.int64)
    rng = numpy_rng(ctx, "facts:strength")
    unit_strength = rng.standard_normal(unit_pk.size)
    official_unit = np.searchsorted(unit_pk, np.array([o[1] for o in officials], dtype=np.int64))
    official_strength = 0.5 * unit_strength[official_unit] + 0.85 * rng.standard_normal(len(officials))
    return World(
        unit_pk=unit_pk,
        unit_category=np.array([u[1] for u in units], dtype=np.str_),
        unit_strength=unit_strength,
        official_pk=np.array([o[0] for o in officials], dtype=np.int64),
        official_unit=official_unit.astype(np.int64),
        official_layer=np.array([o[2] for o in officials], dtype=np.str_),
        official_strength=official_strength,
    )


# --- writing ------------------------------------------------------------------------------------


def write_rows(ctx: Context, model: type[models.Model], frame: pl.DataFrame, text: Sequence[str] = ()) -> int:
    """Append ``frame`` (columns named as the table's columns, ``id`` included) to ``model``'s table.

    PostgreSQL: ``COPY … FROM STDIN`` in CSV, ``text`` naming the NOT NULL text columns whose empty
    strings must stay empty strings (not NULL). SQLite: ``executemany`` on the raw connection.
    """
    if frame.height == 0:
        return 0
    connection = connections[ctx.using]
    connection.ensure_connection()
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in frame.columns)
    for start in range(0, frame.height, COPY_CHUNK):
        chunk = frame.slice(start, COPY_CHUNK)
        if connection.vendor == "postgresql":
            buffer = io.BytesIO()
            chunk.write_csv(buffer, include_header=False, null_value="")
            force = f", FORCE_NOT_NULL ({', '.join(text)})" if text else ""
            sql = f"COPY {table} ({names}) FROM STDIN (FORMAT csv{force})"
            with connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
                copy.write(buffer.getvalue())
        else:
            marks = ", ".join("?" for _ in frame.columns)
            connection.connection.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks})", chunk.iter_rows()
            )
    ctx.counts[model._meta.label] += frame.height
    ctx.touched.add(model)
    return frame.height


@contextmanager
def _without_row_triggers(ctx: Context) -> Iterator[None]:
    """On PostgreSQL, skip the per-row foreign-key triggers while the facts are copied in.

    Django's foreign keys are deferred: every copied row would queue its checks until the commit,
    which for a province (tens of millions of checks) takes longer than writing the rows. The facts
    refer only to rows this run has just written, so the checks are skipped for the step when the
    role may (``session_replication_role`` needs a superuser, else the checks run as usual).
    """
    connection = connections[ctx.using]
    switched = False
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic(using=ctx.using), connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
            switched = True
        except DatabaseError:
            switched = False
    try:
        yield
    finally:
        if switched:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = origin")


def _ids(ctx: Context, model: type[models.Model], count: int) -> I64:
    block = ctx.allocate(model, count)
    return np.arange(block.start, block.stop, dtype=np.int64)


def _timestamp(ctx: Context, year: int) -> str:
    # Stored as UTC; SQLite keeps Django's naive ISO text, PostgreSQL a timestamptz.
    suffix = "+00" if connections[ctx.using].vendor == "postgresql" else ""
    return f"{year}-12-20 08:00:00{suffix}"


def _take(values: Sequence[str], index: NDArray[np.integer[Any]]) -> pl.Series:
    return pl.Series(list(values), dtype=pl.String).gather(pl.Series(index.astype(np.int64)))


def _nullable(values: F64) -> pl.Series:
    return pl.Series(values).fill_nan(None)


# --- indicator results --------------------------------------------------------------------------


@dataclass(frozen=True)
class Leaves:
    """Leaf indicators of one cycle, grouped by category."""

    pk: I64
    category: NDArray[np.str_]
    rule: NDArray[np.str_]
    params: list[dict[str, Any]]
    measures: list[catalog.Measure]


def _leaves(ctx: Context, cycle: Cycle) -> Leaves:
    rows = list(
        IndicatorNode.objects.using(ctx.using)
        .filter(scheme__cycle=cycle)
        .exclude(rule_type="")
        .order_by("pk")
        .values_list("pk", "scheme__category__code", "rule_type", "rule_params", "name")
    )
    return Leaves(
        pk=np.array([r[0] for r in rows], dtype=np.int64),
        category=np.array([r[1] for r in rows], dtype=np.str_),
        rule=np.array([r[2] for r in rows], dtype=np.str_),
        params=[dict(r[3]) for r in rows],
        measures=[catalog.measure_for(r[4], r[2]) for r in rows],
    )


def _labels_by_rate(params: Mapping[str, Any]) -> list[str]:
    grades: dict[str, float] = dict(params.get("map", {}))
    return sorted(grades, key=lambda label: (-grades[label], label))


def indicator_frame(
    rng: np.random.Generator, world: World, strength: F64, leaves: Leaves, year: int
) -> pl.DataFrame:
    """One row per (unit, leaf of the unit's category): value, grade label, target, last year."""
    ents: list[I64] = []
    leaf_rows: list[I64] = []
    for code in np.unique(leaves.category).tolist():
        units = np.flatnonzero(world.unit_category == code)
        mine = np.flatnonzero(leaves.category == code)
        ents.append(np.repeat(units, mine.size))
        leaf_rows.append(np.tile(mine, units.size))
    ent = np.concatenate(ents) if ents else np.zeros(0, dtype=np.int64)
    leaf = np.concatenate(leaf_rows) if leaf_rows else np.zeros(0, dtype=np.int64)
    n = ent.size
    difficulty = rng.normal(0.0, 0.3, leaves.pk.size)
    z = 0.75 * strength[ent] + 0.65 * rng.standard_normal(n) - difficulty[leaf]
    lower = np.array([bool(p.get("lower_is_better")) for p in leaves.params])[leaf]
    # Each leaf's level in its unit of measure (a share near 60–96 %, money in 亿元 …); values are
    # drawn around it and kept inside what the unit allows (a percentage never above 100).
    low = np.array([m.typical[0] for m in leaves.measures])
    high = np.array([m.typical[1] for m in leaves.measures])
    scale = (low + (high - low) * rng.random(leaves.pk.size))[leaf]
    floor = np.array([m.bounds[0] for m in leaves.measures])[leaf]
    ceiling = np.array([m.bounds[1] for m in leaves.measures])[leaf]
    unit_factor = rng.uniform(0.8, 1.2, n)
    value = np.full(n, np.nan)
    target = np.full(n, np.nan)
    last_year = np.full(n, np.nan)
    label = np.full(n, -1, dtype=np.int64)  # index into the leaf's labels
    rule = leaves.rule[leaf]

    def bounded(values: F64, where: NDArray[np.bool_]) -> F64:
        return np.clip(values, floor[where], ceiling[where])

    sel = rule == "completion"
    t = np.round(bounded(scale[sel] * unit_factor[sel], sel), 1)
    ratio = np.clip(0.92 + 0.11 * z[sel], 0.4, 1.4)
    target[sel] = t
    value[sel] = np.round(bounded(np.where(lower[sel], t / ratio, t * ratio), sel), 2)

    sel = rule == "steps"
    top = np.array([max((s[0] for s in p.get("steps", [[100, 1]])), default=100) for p in leaves.params])
    on_ratio = np.array([p.get("on") == "ratio" for p in leaves.params])[leaf]
    value[sel] = np.round(np.clip(top[leaf[sel]] - 9.0 + 8.0 * z[sel], 40.0, 100.0), 1)
    target[sel & on_ratio] = 100.0

    sel = rule == "threshold_deduction"
    t = np.round(bounded(scale[sel], sel), 1)
    # The shortfall is in units of the measure, at most a fifth of the target.
    short = np.maximum(0.0, 1.5 - 2.5 * z[sel] + rng.normal(0.0, 1.0, int(sel.sum())))
    short = np.round(np.minimum(short * np.maximum(t / 20.0, 1.0), t / 5.0), 1)
    target[sel] = t
    value[sel] = np.round(bounded(np.where(lower[sel], t + short, t - short), sel), 2)

    sel = rule == "bonus_deduction"
    per_unit = np.array([float(p.get("per_unit", 0.0)) for p in leaves.params])[leaf[sel]]
    problems = rng.poisson(np.clip(0.8 - 0.6 * z[sel], 0.05, None))
    merits = rng.poisson(np.exp(0.8 + 0.4 * z[sel]))
    value[sel] = np.where(per_unit < 0, problems, merits).astype(np.float64)

    sel = rule == "grade_map"
    cuts = np.array(GRADE_CUTS)
    label[sel] = np.searchsorted(-cuts, -z[sel])

    for kind, spread in (("rank_points", 0.12), ("best_proportion", 0.25), ("vs_average", 0.15)):
        sel = rule == kind
        sign = np.where(lower[sel], -1.0, 1.0)
        value[sel] = np.round(bounded(scale[sel] * np.exp(sign * spread * z[sel]), sel), 2)

    sel = rule == "yoy_improvement"
    last = np.round(bounded(scale[sel] * unit_factor[sel], sel), 1)
    growth = (3.0 + 3.0 * z[sel]) / 100.0
    last_year[sel] = last
    value[sel] = np.round(bounded(last * np.where(lower[sel], 1.0 - growth, 1.0 + growth), sel), 2)

    sel = rule == "veto"
    triggered = rng.random(n) < 0.003
    # The strongest unit of one category (another each year) has a veto leaf triggered, so that a
    # 一票否优 visibly keeps a leading unit out of the top grade.
    codes = np.unique(world.unit_category).tolist()
    if codes:
        units = np.flatnonzero(world.unit_category == codes[year % len(codes)])
        best = int(units[np.argmax(strength[units])])
        rows = np.flatnonzero(sel & (ent == best))
        triggered[rows[:1]] = True
    value[sel] = triggered[sel].astype(np.float64)

    # People and items are whole numbers (NaN stays NaN).
    whole = np.array([m.integer for m in leaves.measures])[leaf]
    for column in (value, target, last_year):
        column[whole] = np.round(column[whole])

    labels = [
        _labels_by_rate(p) if kind == "grade_map" else []
        for p, kind in zip(leaves.params, leaves.rule.tolist(), strict=True)
    ]
    flat_labels = sorted({x for ls in labels for x in ls})
    grade_index = np.full(n, -1, dtype=np.int64)
    has = np.flatnonzero(label >= 0)
    if has.size:
        lookup = np.full((leaves.pk.size, max(len(ls) for ls in labels)), -1, dtype=np.int64)
        for i, ls in enumerate(labels):
            for j, x in enumerate(ls):
                lookup[i, j] = flat_labels.index(x)
        width = np.array([max(len(ls), 1) for ls in labels])
        grade_index[has] = lookup[leaf[has], np.minimum(label[has], width[leaf[has]] - 1)]
    grade = _take(["", *flat_labels], grade_index + 1)
    return pl.DataFrame(
        {
            "unit_id": world.unit_pk[ent],
            "indicator_id": leaves.pk[leaf],
            "value": _nullable(value),
            "grade": grade,
            "target": _nullable(target),
            "last_year": _nullable(last_year),
        }
    )


# --- ratings ------------------------------------------------------------------------------------


def _ballots(rng: np.random.Generator, n: int, bounds: tuple[int, int]) -> I64:
    return rng.integers(bounds[0], bounds[1] + 1, n).astype(np.int64)


def _spread_scores(rng: np.random.Generator, mean: F64, ballot: I64, items: int) -> F64:
    """60–100 integers: an entity mean, a per-ballot rater bias and per-item noise."""
    bias = rng.normal(0.0, 4.0, ballot.size)
    rows = np.repeat(np.arange(ballot.size), items)
    score = mean[ballot][rows] + bias[rows] + rng.normal(0.0, 3.0, rows.size)
    return np.clip(np.rint(score), 40.0, 100.0)


def _satisfaction(rng: np.random.Generator, strength: F64) -> F64:
    x = 0.6 * strength + rng.standard_normal(strength.size)
    index = np.searchsorted(-np.array(SATISFACTION_CUTS), -x)
    return np.array(catalog.SATISFACTION_SCALE)[index]


def rating_frames(
    rng: np.random.Generator, world: World, unit_s: F64, official_s: F64, scale: str
) -> list[pl.DataFrame]:
    """Individual ratings (ballots = 1) of units and officials, one frame per rater group."""
    ballots = catalog.BALLOTS[scale]
    groups = [g[0] for g in catalog.RATER_GROUPS]
    frames: list[pl.DataFrame] = []
    unit_items = list(catalog.UNIT_ITEMS)
    for group, bounds in ballots["unit"].items():
        per = _ballots(rng, world.unit_pk.size, bounds)
        ent = np.repeat(np.arange(world.unit_pk.size), per)
        if group in catalog.SATISFACTION_GROUPS:
            score = _satisfaction(rng, np.repeat(unit_s[ent], len(unit_items)))
        else:
            score = _spread_scores(rng, 81.0 + 5.0 * unit_s, ent, len(unit_items))
        rows = np.repeat(ent, len(unit_items))
        frames.append(
            pl.DataFrame(
                {
                    "unit_id": pl.Series(world.unit_pk[rows]),
                    "official_id": pl.Series([None] * rows.size, dtype=pl.Int64),
                    "rater_group": _take(groups, np.full(rows.size, groups.index(group))),
                    "item": _take(unit_items, np.tile(np.arange(len(unit_items)), ent.size)),
                    "score": score,
                    "source": _take([GROUP_SOURCE[group]], np.zeros(rows.size, dtype=np.int64)),
                }
            )
        )
    quality = list(catalog.QUALITY_ITEMS)
    portfolio = list(catalog.PORTFOLIO_ITEMS)
    not_head = world.official_layer != Layer.HEAD
    for group, bounds in ballots["official"].items():
        per = _ballots(rng, world.official_pk.size, bounds)
        # Org and leaders also rate the portfolio (分管工作) of members and other officials.
        rates_portfolio = group in ("org", "leaders")
        items = quality + (portfolio if rates_portfolio else [])
        ent = np.repeat(np.arange(world.official_pk.size), per)
        score = _spread_scores(rng, 82.0 + 4.0 * official_s, ent, len(items))
        item = np.tile(np.arange(len(items)), ent.size)
        rows = np.repeat(ent, len(items))
        keep = (item < len(quality)) | not_head[rows]
        rows, item, score = rows[keep], item[keep], score[keep]
        frames.append(
            pl.DataFrame(
                {
                    "unit_id": pl.Series([None] * rows.size, dtype=pl.Int64),
                    "official_id": pl.Series(world.official_pk[rows]),
                    "rater_group": _take(groups, np.full(rows.size, groups.index(group))),
                    "item": _take(items, item),
                    "score": score,
                    "source": _take(["民主测评"], np.zeros(rows.size, dtype=np.int64)),
                }
            )
        )
    return frames


# --- votes --------------------------------------------------------------------------------------


def vote_frame(rng: np.random.Generator, world: World, official_s: F64) -> pl.DataFrame:
    """优秀/称职/基本称职/不称职 votes of every official; about 1% get over a third negative."""
    n = world.official_pk.size
    voters = rng.integers(catalog.VOTERS[0], catalog.VOTERS[1] + 1, n)
    z = 0.8 * official_s + 0.6 * rng.standard_normal(n)
    excellent = np.clip(0.30 + 0.12 * z, 0.02, 0.75)
    negative = np.clip(0.05 - 0.03 * z, 0.0, 0.2)
    pvals = np.stack([excellent, 1.0 - excellent - negative, 0.75 * negative, 0.25 * negative], axis=1)
    counts = rng.multinomial(voters, pvals)
    count = min(n, max(1, round(n * catalog.NEGATIVE_VOTE_SHARE)))
    chosen: I64 = rng.choice(n, size=count, replace=False).astype(np.int64)
    for i in chosen.tolist():
        total = int(voters[i])
        neg = min(total, total // 3 + 1 + int(rng.integers(0, max(total // 8, 1))))
        exc = (total - neg) // 5
        counts[i] = (exc, total - neg - exc, neg - neg // 4, neg // 4)
    return pl.DataFrame(
        {
            "official_id": world.official_pk,
            "excellent": counts[:, 0],
            "competent": counts[:, 1],
            "basic": counts[:, 2],
            "incompetent": counts[:, 3],
            "source": _take(["民主测评"], np.zeros(n, dtype=np.int64)),
        }
    )


# --- adjustments --------------------------------------------------------------------------------


def _pick(rng: np.random.Generator, weights: F64, count: int, taken: set[int]) -> list[int]:
    free = (
        np.array([i for i in range(weights.size) if i not in taken], dtype=np.int64)
        if taken
        else np.arange(weights.size)
    )
    count = min(count, free.size)
    if count == 0:
        return []
    p = weights[free] / weights[free].sum()
    out = [int(i) for i in rng.choice(free, size=count, replace=False, p=p)]
    taken.update(out)
    return out


def adjustment_rows(
    rng: np.random.Generator, world: World, unit_s: F64, official_s: F64, leaves: Leaves, scale: str
) -> list[dict[str, Any]]:
    """Deductions, sanctions, a veto, a no-grade case, a falsified item and debt over its limit."""
    deductions, admonish, warning, accountable, serious, removal, veto, no_grade, falsified, debt = (
        catalog.ADJUSTMENTS[scale]
    )
    rows: list[dict[str, Any]] = []
    weak_units = np.exp(-0.6 * unit_s)
    unit_rows = rng.choice(world.unit_pk.size, size=deductions, p=weak_units / weak_units.sum())
    points = rng.choice(np.array([0.5, 1.0, 1.0, 1.5, 2.0, 3.0]), size=deductions)
    reasons = rng.integers(0, len(catalog.SUPERVISION_REASONS), deductions)
    for u, p, r in zip(unit_rows.tolist(), points.tolist(), reasons.tolist(), strict=True):
        rows.append({"unit": u, "kind": AdjustmentKind.DEDUCTION, "points": p, "component": "annual",
                     "source": "督查督办", "reason": catalog.SUPERVISION_REASONS[r]})  # fmt: skip
    taken: set[int] = set()
    weak_officials = np.exp(-0.8 * official_s)
    for level, count in (("admonish", admonish), ("warning", warning), ("accountable", accountable),
                         ("serious_warning", serious), ("removal", removal)):  # fmt: skip
        for o in _pick(rng, weak_officials, count, taken):
            rows.append({"official": o, "kind": AdjustmentKind.SANCTION, "sanction": level,
                         "source": "纪检监察", "reason": catalog.SANCTION_REASONS[level]})  # fmt: skip
    for o in _pick(rng, np.ones(world.official_pk.size), no_grade, taken):
        rows.append({"official": o, "kind": AdjustmentKind.NO_GRADE, "source": "纪检监察",
                     "reason": "立案审查期间，暂不确定等次"})  # fmt: skip
    strong = np.exp(1.2 * unit_s)
    unit_taken: set[int] = set()
    for u in _pick(rng, strong, veto, unit_taken):
        rows.append({"unit": u, "kind": AdjustmentKind.VETO_EXCELLENT, "source": "安全生产委员会",
                     "reason": "发生较大生产安全事故，实行一票否优"})  # fmt: skip
    for u in _pick(rng, np.ones(world.unit_pk.size), falsified, unit_taken):
        mine = np.flatnonzero((leaves.category == world.unit_category[u]) & (leaves.rule == "completion"))
        if mine.size:
            leaf = int(leaves.pk[mine[int(rng.integers(0, mine.size))]])
            rows.append({"unit": u, "kind": AdjustmentKind.FALSIFICATION, "indicator": leaf, "source": "飞行检查",
                         "reason": "随机抽查发现统计数据弄虚作假，该项计零分"})  # fmt: skip
    counties = (world.unit_category == "county").astype(np.float64)
    if counties.sum():
        for u in _pick(rng, counties + 1e-12 * (counties == 0), min(debt, int(counties.sum())), set()):
            over = round(float(rng.uniform(0.5, 4.0)), 1)
            rows.append({"unit": u, "kind": AdjustmentKind.DEBT_OVER_LIMIT, "points": over, "source": "市财政局",
                         "reason": f"政府债务率超过警戒线{over}个百分点"})  # fmt: skip
    return rows


def adjustment_frame(rows: list[dict[str, Any]], world: World) -> pl.DataFrame:
    def col(key: str, default: Any) -> list[Any]:
        return [r.get(key, default) for r in rows]

    return pl.DataFrame(
        {
            "unit_id": [None if "unit" not in r else int(world.unit_pk[r["unit"]]) for r in rows],
            "official_id": [
                None if "official" not in r else int(world.official_pk[r["official"]]) for r in rows
            ],
            "kind": [str(k) for k in col("kind", "")],
            "points": col("points", None),
            "sanction": col("sanction", ""),
            "indicator_id": col("indicator", None),
            "component": col("component", ""),
            "source": col("source", ""),
            "reason": col("reason", ""),
        },
        schema={
            "unit_id": pl.Int64,
            "official_id": pl.Int64,
            "kind": pl.String,
            "points": pl.Float64,
            "sanction": pl.String,
            "indicator_id": pl.Int64,
            "component": pl.String,
            "source": pl.String,
            "reason": pl.String,
        },
    )


# --- the step -----------------------------------------------------------------------------------


def _with_ids(ctx: Context, model: type[models.Model], frame: pl.DataFrame, **constants: Any) -> pl.DataFrame:
    ids = _ids(ctx, model, frame.height)
    return frame.with_columns(
        pl.Series("id", ids), *(pl.lit(v).alias(k) for k, v in constants.items())
    ).select(["id", *constants, *frame.columns])


def run(ctx: Context) -> None:
    world = _world(ctx)
    with _without_row_triggers(ctx):
        for cycle in Cycle.objects.using(ctx.using).order_by("year"):
            _cycle_facts(ctx, world, cycle)


def _cycle_facts(ctx: Context, world: World, cycle: Cycle) -> None:
    started = time.perf_counter()
    rng = numpy_rng(ctx, f"facts:{cycle.year}")
    unit_s = world.unit_strength + 0.35 * rng.standard_normal(world.unit_pk.size)
    official_s = world.official_strength + 0.35 * rng.standard_normal(world.official_pk.size)
    stamp = _timestamp(ctx, cycle.year)
    leaves = _leaves(ctx, cycle)
    results = indicator_frame(rng, world, unit_s, leaves, cycle.year)
    write_rows(
        ctx,
        IndicatorResult,
        _with_ids(ctx, IndicatorResult, results, cycle_id=cycle.pk, evidence="", updated_at=stamp),
        text=("grade", "evidence"),
    )
    ratings = 0
    for frame in rating_frames(rng, world, unit_s, official_s, ctx.scale.name):
        ratings += write_rows(
            ctx,
            EvaluationScore,
            _with_ids(ctx, EvaluationScore, frame, cycle_id=cycle.pk, ballots=1),
            text=("rater_group", "item", "source"),
        )
    votes = vote_frame(rng, world, official_s)
    write_rows(ctx, VoteCount, _with_ids(ctx, VoteCount, votes, cycle_id=cycle.pk), text=("source",))
    rows = adjustment_rows(rng, world, unit_s, official_s, leaves, ctx.scale.name)
    adjustments = adjustment_frame(rows, world)
    write_rows(
        ctx,
        Adjustment,
        _with_ids(ctx, Adjustment, adjustments, cycle_id=cycle.pk, created_at=stamp),
        text=("kind", "sanction", "component", "source", "reason"),
    )
    ctx.log(
        f"facts {cycle.year}: {results.height:,} indicator results, {ratings:,} ratings, "
        f"{votes.height:,} votes, {adjustments.height:,} adjustments "
        f"in {time.perf_counter() - started:.1f} s"
    )
