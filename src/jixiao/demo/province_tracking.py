"""Step ``province_tracking``: the province's declared leaves and, optionally, its year of tracking.

At the province scale (or with the ``"declared"`` flag) every unit gets a published 目标申报 for
the scored cycle (2025) whose declared indicators mirror its category's tree below the framework:
a declared level-3 row per level-3 node (under the level-2 framework node, the node's weight)
and a declared level-4 row per leaf (``under`` its level-3 row, the leaf's weight, rule and
parameters, lead department, and the unit's own target from its 2025 result). About 140 leaves
per unit, 1.4 M for 10,000 units (2 M rows with the level-3 ones), so that ``jixiao compute
--cycle 2025`` scores each unit on framework + its declared leaves once the engine's adapter
reads them, with the same scores as the office's tree today. If ``IndicatorResult`` has a
``declared`` column (the declared-results migration), the unit's results are copied onto its
declared leaves too (:func:`declared_results_hook`).

With the ``"tracking"`` flag (``jixiao generate --scale province --tracking``) it also writes 12
monthly reports per declared leaf (~17 M ``ProgressReport`` rows, graded), and the lights as of
31 December per leaf and per unit — what the office's lights page and the monthly ranking read at
province scale. The schedule is linear (no milestone rows: 5.6 M more rows for no page that needs
them); the versions keep no snapshot (it would be ~80 KB per unit, 0.8 GB in all).

Everything is written with PostgreSQL ``COPY`` (``facts.write_rows``), the per-row foreign-key
triggers off as in the facts step, and the tables are ANALYZEd at the end; each part prints its time.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from django.db import connections

from jixiao.declarations.models import Declaration, DeclarationStatus, DeclarationVersion, DeclaredIndicator
from jixiao.demo import catalog
from jixiao.demo.facts import I64, _ids, _without_row_triggers, numpy_rng, write_rows
from jixiao.demo.pipeline import Context
from jixiao.facts.models import IndicatorResult
from jixiao.organisation.models import Unit
from jixiao.schemes.models import Cycle, IndicatorNode
from jixiao.scoring.rules import GROUP_RULES
from jixiao.tracking.models import (
    IndicatorLight,
    Light,
    ProgressGrade,
    ProgressReport,
    ReportStatus,
    UnitLight,
)

YEAR = 2025
CORE_CAP = 9
REPORT_CHUNK = 100_000  # declared leaves per batch of monthly reports (1.2 M rows)
RED_SHARE = 0.8
TEXT_COLUMNS_DECLARED = (
    "name",
    "measure",
    "target_text",
    "rule_type",
    "evidence_required",
    "kind",
    "ambition_reason",
)


def _stamp(ctx: Context, day: str, clock: str = "10:00:00") -> str:
    suffix = "+00" if connections[ctx.using].vendor == "postgresql" else ""
    return f"{day} {clock}{suffix}"


@dataclass(frozen=True)
class _Tree:
    """One category's nodes below the framework, as arrays (level 3 and leaves)."""

    l3_parent: I64  # the level-2 framework node
    l3_name: list[str]
    l3_weight: list[str]
    l3_kind: list[str]
    l3_long: list[bool]
    leaf_pk: I64
    leaf_l3: I64  # index into the level-3 arrays
    leaf_name: list[str]
    leaf_measure: list[str]
    leaf_weight: list[str]
    leaf_rule: list[str]
    leaf_params: list[str]
    leaf_text: list[str]
    leaf_lead: list[int | None]
    leaf_kind: list[str]
    leaf_long: list[bool]


def _trees(ctx: Context, cycle: Cycle) -> dict[int, _Tree]:
    """Per category id: the scheme's level-3 nodes and leaves (level-4 nodes)."""
    rows = list(
        IndicatorNode.objects.using(ctx.using)
        .filter(scheme__cycle=cycle, level__in=(3, 4))
        .order_by("scheme__category_id", "level", "parent_id", "order", "pk")
        .values_list(
            "pk",
            "scheme__category_id",
            "parent_id",
            "level",
            "name",
            "weight",
            "rule_type",
            "rule_params",
            "target_text",
            "lead_unit_id",
            "kind",
            "is_long_term",
        )
    )
    by_category: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows:
        by_category.setdefault(row[1], []).append(row)
    out: dict[int, _Tree] = {}
    for category, nodes in by_category.items():
        level3 = [n for n in nodes if n[3] == 3]
        index3 = {n[0]: i for i, n in enumerate(level3)}
        leaves = [n for n in nodes if n[3] == 4 and n[2] in index3]
        out[category] = _Tree(
            l3_parent=np.array([n[2] for n in level3], dtype=np.int64),
            l3_name=[n[4] for n in level3],
            l3_weight=[str(n[5]) for n in level3],
            l3_kind=[n[10] for n in level3],
            l3_long=[n[11] for n in level3],
            leaf_pk=np.array([n[0] for n in leaves], dtype=np.int64),
            leaf_l3=np.array([index3[n[2]] for n in leaves], dtype=np.int64),
            leaf_name=[n[4] for n in leaves],
            leaf_measure=[
                "" if n[6] == "grade_map" else catalog.measure_for(n[4], n[6]).unit for n in leaves
            ],
            leaf_weight=[str(n[5]) for n in leaves],
            leaf_rule=[_own_rule(n[6], n[7])[0] for n in leaves],
            leaf_params=[_own_rule(n[6], n[7])[1] for n in leaves],
            leaf_text=[n[8] for n in leaves],
            leaf_lead=[n[9] for n in leaves],
            leaf_kind=[n[10] for n in leaves],
            leaf_long=[n[11] for n in leaves],
        )
    return out


def _own_rule(rule: str, params: Any) -> tuple[str, str]:
    """The rule of a unit's own copy of a framework leaf: the leaf's, unless it compares the units
    sharing the leaf (rank points, best proportion, vs average), which a target one unit declares
    cannot do (the engine refuses it); then completion against 100 (the value as a percentage)."""
    if rule in GROUP_RULES:
        return "completion", json.dumps({"target": 100})
    return rule, json.dumps(params, ensure_ascii=False, sort_keys=True)


def _uids(rng: np.random.Generator, n: int) -> pl.Series:
    """``n`` distinct-enough random UUIDs as 32 hex digits (what both databases accept)."""
    high = rng.integers(0, 2**63, n, dtype=np.int64)
    low = rng.integers(0, 2**63, n, dtype=np.int64)
    return pl.Series([f"{a:016x}{b:016x}" for a, b in zip(high.tolist(), low.tolist(), strict=True)])


def _take(values: list[Any], index: I64, dtype: Any = None) -> pl.Series:
    return pl.Series(values, dtype=dtype).gather(pl.Series(index))


def _results(ctx: Context, cycle: Cycle) -> pl.DataFrame:
    """The cycle's unit results per (leaf, unit): target, value, grade and last year."""
    rows = (
        IndicatorResult.objects.using(ctx.using)
        .filter(cycle=cycle, unit__isnull=False)
        .values_list("indicator_id", "unit_id", "value", "grade", "target", "last_year")
    )
    columns: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) or [()] * 6
    return pl.DataFrame(
        {
            "leaf": pl.Series(columns[0], dtype=pl.Int64),
            "unit_id": pl.Series(columns[1], dtype=pl.Int64),
            "value": pl.Series(columns[2], dtype=pl.Float64),
            "grade": pl.Series(columns[3], dtype=pl.String),
            "target": pl.Series(columns[4], dtype=pl.Float64),
            "last_year": pl.Series(columns[5], dtype=pl.Float64),
        }
    )


def run(ctx: Context) -> None:
    if ctx.scale.name != "province" and "declared" not in ctx.flags:
        return
    cycle = Cycle.objects.using(ctx.using).filter(year=YEAR).first()
    if cycle is None:
        return
    with _without_row_triggers(ctx):
        leaves = _declarations(ctx, cycle)
        declared_results_hook(ctx, cycle, leaves)
        if "tracking" in ctx.flags:
            _reports_and_lights(ctx, cycle, leaves)
    _analyze(ctx)


#: The tables this step fills. Without fresh statistics after a bulk load PostgreSQL plans the
#: tracking pages' queries as if the tables were empty: the lights page's lead-department list
#: ran for more than 10 minutes on the province before ANALYZE, about 2 s after.
ANALYZED = (
    Declaration,
    DeclarationVersion,
    DeclaredIndicator,
    IndicatorResult,
    ProgressReport,
    IndicatorLight,
    UnitLight,
)


def _analyze(ctx: Context) -> None:
    """ANALYZE the step's tables on PostgreSQL (counts the rows inserted in this transaction)."""
    connection = connections[ctx.using]
    if connection.vendor != "postgresql":
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for model in ANALYZED:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    ctx.log(f"province_tracking: ANALYZE in {time.perf_counter() - started:.1f} s")


def _declarations(ctx: Context, cycle: Cycle) -> pl.DataFrame:
    """Write the declarations, versions and declared indicators; return the declared leaves
    (declared id, leaf pk, unit, category, lead department)."""
    started = time.perf_counter()
    rng = numpy_rng(ctx, "province_tracking:declared")
    units = list(
        Unit.objects.using(ctx.using).filter(is_active=True).order_by("pk").values_list("pk", "category_id")
    )
    trees = _trees(ctx, cycle)
    units = [(pk, category) for pk, category in units if category in trees]
    unit_pk = np.array([u[0] for u in units], dtype=np.int64)
    decl_ids = _ids(ctx, Declaration, len(units))
    published = _stamp(ctx, f"{YEAR}-03-31")
    write_rows(
        ctx,
        Declaration,
        pl.DataFrame(
            {
                "id": decl_ids,
                "cycle_id": cycle.pk,
                "unit_id": unit_pk,
                "status": DeclarationStatus.PUBLISHED.value,
                "version": 1,
                "published_version": 1,
                "submitted_at": _stamp(ctx, f"{YEAR}-02-20"),
                "approved_at": _stamp(ctx, f"{YEAR}-03-25"),
                "published_at": published,
                "updated_at": published,
            }
        ),
        text=("status",),
    )
    write_rows(
        ctx,
        DeclarationVersion,
        pl.DataFrame(
            {
                "id": _ids(ctx, DeclarationVersion, len(units)),
                "declaration_id": decl_ids,
                "number": 1,
                "snapshot": "[]",
                "note": "省级规模演示数据：快照从略",
                "submitted_at": _stamp(ctx, f"{YEAR}-02-20"),
            }
        ),
        text=("note",),
    )
    decl_of_unit = dict(zip(unit_pk.tolist(), decl_ids.tolist(), strict=True))
    results = _results(ctx, cycle)
    leaf_frames: list[pl.DataFrame] = []
    written = 0
    for category, tree in sorted(trees.items()):
        mine = np.array([pk for pk, c in units if c == category], dtype=np.int64)
        n_units, n3, n4 = mine.size, len(tree.l3_name), tree.leaf_pk.size
        if not n_units:
            continue
        per_unit = n3 + n4
        ids = _ids(ctx, DeclaredIndicator, n_units * per_unit)
        base = ids[::per_unit]  # first id of each unit's block
        decl = np.array([decl_of_unit[int(u)] for u in mine], dtype=np.int64)
        i3 = np.tile(np.arange(n3), n_units)
        u3 = np.repeat(np.arange(n_units), n3)
        level3 = pl.DataFrame(
            {
                "id": base[u3] + i3,
                "declaration_id": decl[u3],
                "uid": _uids(rng, n_units * n3),
                "parent_id": tree.l3_parent[i3],
                "under_id": pl.Series([None] * (n_units * n3), dtype=pl.Int64),
                "name": _take(tree.l3_name, i3),
                "measure": "",
                "target": pl.Series([None] * (n_units * n3), dtype=pl.Float64),
                "target_text": "",
                "rule_type": "",
                "rule_params": "{}",
                "weight": _take(tree.l3_weight, i3),
                "lead_department_id": pl.Series([None] * (n_units * n3), dtype=pl.Int64),
                "kind": _take(tree.l3_kind, i3),
                "is_long_term": _take(tree.l3_long, i3, pl.Boolean),
                "is_core": pl.Series(i3 < CORE_CAP),
                "order": i3,
            }
        )
        i4 = np.tile(np.arange(n4), n_units)
        u4 = np.repeat(np.arange(n_units), n4)
        leaf = pl.DataFrame(
            {
                "id": base[u4] + n3 + i4,
                "declaration_id": decl[u4],
                "uid": _uids(rng, n_units * n4),
                "parent_id": tree.l3_parent[tree.leaf_l3[i4]],
                "under_id": base[u4] + tree.leaf_l3[i4],
                "name": _take(tree.leaf_name, i4),
                "measure": _take(tree.leaf_measure, i4),
                "leaf": tree.leaf_pk[i4],
                "unit_id": mine[u4],
                "target_text": _take(tree.leaf_text, i4),
                "rule_type": _take(tree.leaf_rule, i4),
                "rule_params": _take(tree.leaf_params, i4),
                "weight": _take(tree.leaf_weight, i4),
                "lead_department_id": _take(tree.leaf_lead, i4, pl.Int64),
                "kind": _take(tree.leaf_kind, i4),
                "is_long_term": _take(tree.leaf_long, i4, pl.Boolean),
                "is_core": pl.Series(np.zeros(n_units * n4, dtype=bool)),
                "order": n3 + i4,
            }
        ).join(results.select("leaf", "unit_id", "target", "last_year"), on=["leaf", "unit_id"], how="left")
        leaf_frames.append(
            leaf.select(
                pl.col("id").alias("declared_id"),
                "leaf",
                "unit_id",
                pl.lit(category, dtype=pl.Int64).alias("category_id"),
                "lead_department_id",
            )
        )
        leaf = leaf.rename({"last_year": "last_year_actual"}).drop("leaf", "unit_id")
        constants = {"evidence_required": "", "ambition_reason": "", "low_ambition": False}
        for frame in (level3, leaf):
            frame = frame.with_columns(*(pl.lit(v).alias(k) for k, v in constants.items()))
            written += write_rows(ctx, DeclaredIndicator, frame, text=TEXT_COLUMNS_DECLARED)
    ctx.log(
        f"province_tracking: {len(units):,} declarations, {written:,} declared indicators "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return pl.concat(leaf_frames) if leaf_frames else pl.DataFrame()


def declared_results_hook(ctx: Context, cycle: Cycle, leaves: pl.DataFrame) -> int:
    """Copy each unit's results onto its declared leaves when ``IndicatorResult`` can hold them
    (a ``declared`` foreign key, from the declared-results migration); return the rows written.

    Lead: once the engine's adapter reads declared results, the facts step may stop writing the
    tree-leaf results for units that declare (they are the same values)."""
    names = {f.name for f in IndicatorResult._meta.get_fields()}
    if "declared" not in names or leaves.height == 0:
        return 0
    started = time.perf_counter()
    results = _results(ctx, cycle).join(
        leaves.select("declared_id", "leaf", "unit_id"), on=["leaf", "unit_id"], how="inner"
    )
    frame = pl.DataFrame(
        {
            "id": _ids(ctx, IndicatorResult, results.height),
            "cycle_id": cycle.pk,
            "unit_id": results["unit_id"],
            "declared_id": results["declared_id"],
            "value": results["value"],
            "grade": results["grade"],
            "target": results["target"],
            "last_year": results["last_year"],
            "evidence": "",
            "updated_at": _stamp(ctx, f"{YEAR}-12-20", "08:00:00"),
        }
    )
    written = write_rows(ctx, IndicatorResult, frame, text=("grade", "evidence"))
    ctx.log(f"province_tracking: {written:,} declared results in {time.perf_counter() - started:.1f} s")
    return written


def _reports_and_lights(ctx: Context, cycle: Cycle, leaves: pl.DataFrame) -> None:
    """12 graded monthly reports per declared leaf (linear schedule) and the year-end lights."""
    started = time.perf_counter()
    rng = numpy_rng(ctx, "province_tracking:reports")
    n = leaves.height
    months = np.arange(1, 13)
    expected = months / 12.0 * 100.0
    # Units keep up (60 %: all green), lag on some targets (25 %: yellow) or badly (15 %: red), so
    # that the office's page shows units of each colour rather than 140 leaves' worst everywhere.
    unit_ids, unit_index = np.unique(leaves["unit_id"].to_numpy(), return_inverse=True)
    unit_class = np.searchsorted([0.6, 0.85], rng.random(unit_ids.size))[unit_index]
    low = np.array([1.04, 0.86, 0.5])[unit_class]  # 1.04 × the 3 % noise still reaches 100 %
    pace = np.where(rng.random(n) < 0.15, rng.uniform(low, 1.04), rng.uniform(1.04, 1.2, n))
    periods = [f"{YEAR}-{m:02d}-01" for m in months]
    submitted = [_stamp(ctx, f"{YEAR}-{m:02d}-25") for m in months]
    graded = [_stamp(ctx, f"{YEAR + (m == 12)}-{m % 12 + 1:02d}-05", "15:00:00") for m in months]
    grades = np.array(
        [ProgressGrade.COMPLETED.value, ProgressGrade.ON_SCHEDULE.value, ProgressGrade.BEHIND.value]
    )
    declared_ids = leaves["declared_id"].to_numpy()
    final = np.zeros(n)
    rows = 0
    for start in range(0, n, REPORT_CHUNK):
        stop = min(n, start + REPORT_CHUNK)
        size = stop - start
        noise = rng.uniform(0.97, 1.03, (size, 12))
        progress = np.minimum(100.0, expected[None, :] * pace[start:stop, None] * noise)
        progress = np.round(np.maximum.accumulate(progress, axis=1), 2)
        final[start:stop] = progress[:, -1]
        grade = np.where(progress >= 100, 0, np.where(progress >= expected[None, :] * 0.95, 1, 2))
        month_index = np.tile(np.arange(12), size)
        frame = pl.DataFrame(
            {
                "id": _ids(ctx, ProgressReport, size * 12),
                "indicator_id": np.repeat(declared_ids[start:stop], 12),
                "period": _take(periods, month_index),
                "progress_percent": progress.reshape(-1),
                "narrative": "",
                "status": ReportStatus.GRADED.value,
                "submitted_at": _take(submitted, month_index),
                "grade": pl.Series(grades[grade.reshape(-1)]),
                "quality_comment": "",
                "graded_at": _take(graded, month_index),
            }
        )
        rows += write_rows(
            ctx, ProgressReport, frame, text=("narrative", "status", "grade", "quality_comment")
        )
    ctx.log(f"province_tracking: {rows:,} monthly reports in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    color = np.where(final < 100 * RED_SHARE, 2, np.where(final < 100, 1, 0))
    colors = np.array([Light.GREEN.value, Light.YELLOW.value, Light.RED.value])
    reasons = np.array(["已完成全年目标", "未完成全年目标", "实际进度低于应完成进度的80%"])
    as_of = f"{YEAR}-12-31"
    lights = pl.DataFrame(
        {
            "id": _ids(ctx, IndicatorLight, n),
            "indicator_id": declared_ids,
            "cycle_id": cycle.pk,
            "unit_id": leaves["unit_id"],
            "category_id": leaves["category_id"],
            "lead_department_id": leaves["lead_department_id"],
            "color": pl.Series(colors[color]),
            "expected_percent": 100.0,
            "reported_percent": final,
            "reason": pl.Series(reasons[color]),
            "as_of": as_of,
        }
    )
    write_rows(ctx, IndicatorLight, lights, text=("color", "reason"))
    per_unit = (
        lights.group_by("unit_id", "category_id")
        .agg(
            (pl.col("color") == Light.GREEN.value).sum().alias("green"),
            (pl.col("color") == Light.YELLOW.value).sum().alias("yellow"),
            (pl.col("color") == Light.RED.value).sum().alias("red"),
        )
        .sort("unit_id")
        .with_columns(
            pl.when(pl.col("red") > 0)
            .then(pl.lit(Light.RED.value))
            .when(pl.col("yellow") > 0)
            .then(pl.lit(Light.YELLOW.value))
            .otherwise(pl.lit(Light.GREEN.value))
            .alias("color"),
            pl.lit(as_of).alias("as_of"),
            pl.lit(cycle.pk).alias("cycle_id"),
        )
    )
    per_unit = per_unit.with_columns(pl.Series("id", _ids(ctx, UnitLight, per_unit.height))).select(
        "id", "cycle_id", "unit_id", "category_id", "green", "yellow", "red", "color", "as_of"
    )
    write_rows(ctx, UnitLight, per_unit, text=("color",))
    ctx.log(
        f"province_tracking: {n:,} indicator lights, {per_unit.height:,} unit lights in {time.perf_counter() - started:.1f} s"
    )
