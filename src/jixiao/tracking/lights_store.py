"""Store a batch of units' lights, set-based: read, compute on columns, write only what changed.

One batch is a handful of queries whatever its size (the leaves with their latest counted report,
their milestones, the stored lights, the tracked units and their stored unit lights; COPY on
PostgreSQL), :mod:`jixiao.tracking.lights_columns` for the rules, and a diff against the stored
rows, so that only lights whose colour, progress, reason or filing changed are written:

- PostgreSQL: a few changed rows (after a report) in one ``UPDATE … FROM (VALUES …)`` and one
  ``INSERT … ON CONFLICT``; many (the daily job) COPY into a temporary table, then one
  ``UPDATE … FROM`` and one ``INSERT … SELECT … ON CONFLICT``; stale rows go in one ``DELETE``;
- elsewhere (SQLite): ``bulk_create(update_conflicts=True)`` in batches, one statement each.

``IndicatorLight.as_of`` is the day the indicator's light was last written with a change: an
unchanged light keeps it (rewriting 1.4 M rows daily only to move a date is what made the job
slow). ``UnitLight.as_of``, which the lights page shows, is the day of the last recompute.
The caller holds the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import polars as pl
from django.db import connection

from jixiao.declarations.models import Declaration, DeclaredIndicator, Milestone
from jixiao.organisation.models import Unit
from jixiao.schemes.models import Cycle
from jixiao.sql_frames import copy_into, read_frame
from jixiao.tracking.lights_columns import LEAF_SCHEMA, MILESTONE_SCHEMA, lights_frame, unit_lights_frame
from jixiao.tracking.models import IndicatorLight, ProgressReport, ReportStatus, UnitLight

if TYPE_CHECKING:  # the service module imports this one
    from jixiao.tracking.lights import LightRules

COUNTED = (ReportStatus.SUBMITTED.value, ReportStatus.GRADED.value)
#: The columns whose change rewrites a stored indicator light.
COMPARED = (
    "cycle_id",
    "unit_id",
    "category_id",
    "lead_department_id",
    "color",
    "expected_c",
    "reported_c",
    "reason",
)
UNIT_COMPARED = ("category_id", "green", "yellow", "red", "color", "as_of")
SQLITE_BATCH = 2000
VALUES_MAX = 1000  # changed lights written with inline values; more go through COPY (PostgreSQL)
TEMP = "tracking_light_changes"


def _t(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _in(ids: Sequence[int]) -> str:
    """An ``IN`` list of integers (formatted here: ids are ints, never user text)."""
    return "(" + ", ".join(str(int(i)) for i in ids) + ")" if ids else "(NULL)"


def _tracked(cycle_id: int, statuses: Sequence[str], unit_ids: Sequence[int]) -> tuple[str, list[Any]]:
    where = f"d.cycle_id = %s AND d.status IN ({', '.join(['%s'] * len(statuses))}) AND d.unit_id IN {_in(unit_ids)}"
    return where, [cycle_id, *statuses]


def read_leaves(
    *, cycle_id: int, statuses: Sequence[str], unit_ids: Sequence[int], on: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The tracked leaves of ``unit_ids`` (no declared child) with their latest counted report
    up to ``on`` (:data:`LEAF_SCHEMA`), and their milestones (:data:`MILESTONE_SCHEMA`)."""
    where, params = _tracked(cycle_id, statuses, unit_ids)
    ind, dec, rep = _t(DeclaredIndicator), _t(Declaration), _t(ProgressReport)
    # The latest counted report by one probe of the (indicator, period) unique index per leaf.
    leaves = read_frame(
        f"""SELECT i.id, d.unit_id, u.category_id, i.lead_department_id, i.effective_from,
                   CAST(ROUND(r.progress_percent * 100) AS BIGINT), r.grade
            FROM {ind} i
            JOIN {dec} d ON d.id = i.declaration_id
            JOIN {_t(Unit)} u ON u.id = d.unit_id
            LEFT JOIN {rep} r ON r.id = (
                SELECT r2.id FROM {rep} r2
                WHERE r2.indicator_id = i.id AND r2.status IN (%s, %s) AND r2.period <= %s
                ORDER BY r2.period DESC LIMIT 1)
            WHERE {where} AND NOT EXISTS (SELECT 1 FROM {ind} c WHERE c.under_id = i.id)""",
        [*COUNTED, on, *params],
        LEAF_SCHEMA,
    )
    milestones = read_frame(
        f"""SELECT m.indicator_id, m.due, CAST(ROUND(m.expected_percent * 100) AS BIGINT)
            FROM {_t(Milestone)} m
            JOIN {ind} i ON i.id = m.indicator_id
            JOIN {dec} d ON d.id = i.declaration_id
            WHERE {where}""",
        params,
        MILESTONE_SCHEMA,
    )
    return leaves, milestones


STORED_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "indicator_id": pl.Int64(),
    "cycle_id": pl.Int64(),
    "unit_id": pl.Int64(),
    "category_id": pl.Int64(),
    "lead_department_id": pl.Int64(),
    "color": pl.String(),
    "expected_c": pl.Int64(),
    "reported_c": pl.Int64(),
    "reason": pl.String(),
}
UNIT_SCHEMA: dict[str, pl.DataType] = {"unit_id": pl.Int64(), "category_id": pl.Int64()}
STORED_UNIT_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "unit_id": pl.Int64(),
    "category_id": pl.Int64(),
    "green": pl.Int64(),
    "yellow": pl.Int64(),
    "red": pl.Int64(),
    "color": pl.String(),
    "as_of": pl.Date(),
}


def store_batch(
    *, cycle: Cycle, statuses: Sequence[str], unit_ids: Sequence[int], on: date, rules: LightRules
) -> tuple[int, int]:
    """Recompute and store the lights of ``unit_ids`` (tracked or not: an untracked unit loses
    its lights) in the caller's transaction; return (indicator lights computed, written)."""
    leaves, milestones = read_leaves(cycle_id=cycle.pk, statuses=statuses, unit_ids=unit_ids, on=on)
    lights = lights_frame(leaves, milestones, year=cycle.year, on=on, rules=rules).with_columns(
        cycle_id=pl.lit(cycle.pk, pl.Int64)
    )
    where, params = _tracked(cycle.pk, statuses, unit_ids)
    units = read_frame(
        f"""SELECT DISTINCT d.unit_id, u.category_id FROM {_t(Declaration)} d
            JOIN {_t(Unit)} u ON u.id = d.unit_id WHERE {where}""",
        params,
        UNIT_SCHEMA,
    )
    stored = read_frame(
        f"""SELECT id, indicator_id, cycle_id, unit_id, category_id, lead_department_id, color,
                   CAST(ROUND(expected_percent * 100) AS BIGINT), CAST(ROUND(reported_percent * 100) AS BIGINT),
                   reason
            FROM {_t(IndicatorLight)} WHERE cycle_id = %s AND unit_id IN {_in(unit_ids)}""",
        [cycle.pk],
        STORED_SCHEMA,
    )
    written = _write_indicator_lights(lights, stored, on=on)
    _write_unit_lights(cycle=cycle, units=unit_lights_frame(lights, units), unit_ids=unit_ids, on=on)
    return lights.height, written


def _changed(new: pl.DataFrame, old: pl.DataFrame, key: str, compared: Sequence[str]) -> pl.DataFrame:
    """``new``'s rows absent from ``old`` or different in a ``compared`` column (nulls equal),
    with ``id`` (the stored row's, null for a new one)."""
    joined = new.join(
        old.select("id", key, *[pl.col(c).alias(f"{c}_old") for c in compared]), on=key, how="left"
    )
    differs = pl.any_horizontal([pl.col(c).ne_missing(pl.col(f"{c}_old")) for c in compared])
    return joined.filter(pl.col("id").is_null() | differs).select("id", *new.columns)


def _write_indicator_lights(lights: pl.DataFrame, stored: pl.DataFrame, *, on: date) -> int:
    changed = _changed(lights, stored, "indicator_id", COMPARED).with_columns(as_of=pl.lit(on))
    stale = stored.join(lights.select("indicator_id"), on="indicator_id", how="anti")["id"].to_list()
    if stale:  # indicators removed by a change request lose their light
        IndicatorLight.objects.filter(pk__in=stale).delete()
    if changed.is_empty():
        return 0
    if connection.vendor == "postgresql":
        _upsert_postgresql(changed)
    else:
        IndicatorLight.objects.bulk_create(
            [
                IndicatorLight(
                    indicator_id=r["indicator_id"],
                    cycle_id=r["cycle_id"],
                    unit_id=r["unit_id"],
                    category_id=r["category_id"],
                    lead_department_id=r["lead_department_id"],
                    color=r["color"],
                    expected_percent=_percent(r["expected_c"]),
                    reported_percent=None if r["reported_c"] is None else _percent(r["reported_c"]),
                    reason=r["reason"],
                    as_of=r["as_of"],
                )
                for r in changed.iter_rows(named=True)
            ],
            batch_size=SQLITE_BATCH,
            update_conflicts=True,
            unique_fields=["indicator"],
            update_fields=[
                "cycle",
                "unit",
                "category",
                "lead_department",
                "color",
                "expected_percent",
                "reported_percent",
                "reason",
                "as_of",
            ],
        )
    return changed.height


def _percent(hundredths: int) -> Decimal:
    return Decimal(hundredths).scaleb(-2)


_COLUMNS = (
    "cycle_id", "unit_id", "category_id", "lead_department_id", "color", "expected_percent",
    "reported_percent", "reason", "as_of",
)  # fmt: skip
_SET = f"({', '.join(_COLUMNS)}) = ROW({', '.join(f'EXCLUDED.{c}' for c in _COLUMNS)})"


def _upsert_postgresql(changed: pl.DataFrame) -> None:
    """A few changed lights (after a report) in two statements with their values inline; many
    (the daily job) through COPY into a temporary table."""
    if changed.height <= VALUES_MAX:
        _upsert_values(changed)
    else:
        _upsert_copy(changed)


def _upsert_values(changed: pl.DataFrame) -> None:
    table = _t(IndicatorLight)
    rows = [
        (
            r["id"], r["indicator_id"], r["cycle_id"], r["unit_id"], r["category_id"], r["lead_department_id"],
            r["color"], _percent(r["expected_c"]), None if r["reported_c"] is None else _percent(r["reported_c"]),
            r["reason"], r["as_of"],
        )
        for r in changed.iter_rows(named=True)
    ]  # fmt: skip
    types = (
        "bigint",
        "bigint",
        "bigint",
        "bigint",
        "bigint",
        "bigint",
        "text",
        "numeric",
        "numeric",
        "text",
        "date",
    )
    row_sql = "(" + ", ".join(f"%s::{t}" for t in types) + ")"
    old, new = [r for r in rows if r[0] is not None], [r[1:] for r in rows if r[0] is None]
    with connection.cursor() as cursor:
        if old:
            cursor.execute(
                f"""UPDATE {table} l SET ({", ".join(_COLUMNS)}) = ({", ".join(f"v.{c}" for c in _COLUMNS)})
                    FROM (VALUES {", ".join([row_sql] * len(old))}) AS v(id, indicator_id, {", ".join(_COLUMNS)})
                    WHERE l.id = v.id""",
                [x for r in old for x in r],
            )
        if new:
            # ON CONFLICT: a leaf whose light was filed under another unit or cycle (not read).
            placeholders = "(" + ", ".join(["%s"] * len(new[0])) + ")"
            cursor.execute(
                f"""INSERT INTO {table} (indicator_id, {", ".join(_COLUMNS)})
                    VALUES {", ".join([placeholders] * len(new))}
                    ON CONFLICT (indicator_id) DO UPDATE SET {_SET}""",
                [x for r in new for x in r],
            )


def _upsert_copy(changed: pl.DataFrame) -> None:
    # Outside a transaction the temporary table would be emptied after each statement.
    assert connection.in_atomic_block, "store_batch runs in the caller's transaction"
    table = _t(IndicatorLight)
    with connection.cursor() as cursor:
        # Emptied at each commit; created once per session.
        cursor.execute(
            f"""CREATE TEMP TABLE IF NOT EXISTS {TEMP} (
                    id bigint, indicator_id bigint, cycle_id bigint, unit_id bigint, category_id bigint,
                    lead_department_id bigint, color text, expected_c bigint, reported_c bigint,
                    reason text, as_of date) ON COMMIT DELETE ROWS"""
        )
        # Batches in one outer transaction (savepoints) would see the rows of the ones before.
        cursor.execute(f"DELETE FROM {TEMP}")
        copy_into(
            TEMP,
            changed.select(
                "id", "indicator_id", "cycle_id", "unit_id", "category_id", "lead_department_id",
                "color", "expected_c", "reported_c", "reason", "as_of",
            ),
        )  # fmt: skip
        values = """t.cycle_id, t.unit_id, t.category_id, t.lead_department_id, t.color,
                    t.expected_c / 100.0, t.reported_c / 100.0, t.reason, t.as_of"""
        cursor.execute(
            f"""UPDATE {table} l SET ({", ".join(_COLUMNS)}) = ({values})
                FROM {TEMP} t WHERE t.id IS NOT NULL AND l.id = t.id"""
        )
        cursor.execute(
            f"""INSERT INTO {table} (indicator_id, {", ".join(_COLUMNS)})
                SELECT t.indicator_id, {values} FROM {TEMP} t WHERE t.id IS NULL
                ON CONFLICT (indicator_id) DO UPDATE SET {_SET}"""
        )


def _write_unit_lights(*, cycle: Cycle, units: pl.DataFrame, unit_ids: Sequence[int], on: date) -> int:
    stored = read_frame(
        f"""SELECT id, unit_id, category_id, green, yellow, red, color, as_of FROM {_t(UnitLight)}
            WHERE cycle_id = %s AND unit_id IN {_in(unit_ids)}""",
        [cycle.pk],
        STORED_UNIT_SCHEMA,
    )
    gone = stored.join(units.select("unit_id"), on="unit_id", how="anti")["unit_id"].to_list()
    if gone:  # units whose declaration left tracking lose their lights
        IndicatorLight.objects.filter(cycle=cycle, unit_id__in=gone).delete()
        UnitLight.objects.filter(cycle=cycle, unit_id__in=gone).delete()
    changed = _changed(units.with_columns(as_of=pl.lit(on)), stored, "unit_id", UNIT_COMPARED)
    if changed.is_empty():
        return 0
    UnitLight.objects.bulk_create(
        [
            UnitLight(
                cycle=cycle,
                unit_id=r["unit_id"],
                category_id=r["category_id"],
                green=r["green"],
                yellow=r["yellow"],
                red=r["red"],
                color=r["color"],
                as_of=r["as_of"],
            )
            for r in changed.iter_rows(named=True)
        ],
        batch_size=SQLITE_BATCH,
        update_conflicts=True,
        unique_fields=["cycle", "unit"],
        update_fields=["category", "green", "yellow", "red", "color", "as_of"],
    )
    return changed.height
