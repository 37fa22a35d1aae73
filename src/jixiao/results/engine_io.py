"""The one adapter between the database and the pure scoring core.

It reads a cycle's scheme, entities and facts into the engine's typed inputs
(:class:`jixiao.scoring.types.CycleInput`) — columnar, with bulk reads (COPY on PostgreSQL) — and
nothing else in the project maps ORM rows to scoring types.

Engine ids are strings in one namespace: ``U<pk>`` a unit (its leadership team), ``O<pk>`` an
official, ``I<pk>`` an indicator of the office's tree, ``D<pk>`` a unit's declared indicator
(申报指标, levels 3–4 under a framework node); engine categories are the unit category's code for
teams and ``<code>:official`` for the officials of those units.

:func:`load_run_input` passes the entity columns of the facts and declared leaves as one
``pl.Enum`` of the assessed ids in the engine's order (:class:`EntityKeys`, coded from the raw
pks the queries send), the ratings' groups and items and the routine reports' columns as Enums
too, and the declared leaves in code order: the engine and the input digest read them by their
codes; the values (hence the digests) are the text ones. The separate readers give text.

Bundle version 2 adds: each unit's function zone (``Units.zone``, the zone's code) and the
categories' ``zone_weights``; the declared leaves of published declarations
(:func:`load_declared`); the monthly grades of progress reports (``facts.routine``,
:func:`load_routine`) for ``routine`` components with their ``grade_points``; the
``low_ambition`` hard rule.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np
import polars as pl
from django.conf import settings
from django.db import connection
from django.db.models import F
from psycopg.conninfo import make_conninfo

from jixiao.declarations.models import DeclarationStatus, DeclarationVersion, DeclaredIndicator
from jixiao.facts.models import AdjustmentKind
from jixiao.results.models import ScoringRun
from jixiao.schemes.models import (
    Component,
    ComponentSource,
    Cycle,
    GradingPolicy,
    GradingRuleType,
    IndicatorNode,
    Scheme,
    Subject,
    ZoneWeight,
)
from jixiao.scoring.bundle import cycle_input as _cycle_input
from jixiao.scoring.types import (
    ADJUSTMENT_COLUMNS,
    DECLARED_COLUMNS,
    INDICATOR_RESULT_COLUMNS,
    PREVIOUS_COLUMNS,
    RATING_COLUMNS,
    ROUTINE_COLUMNS,
    CycleInput,
    Facts,
    Officials,
    Units,
)

logger = logging.getLogger(__name__)
LIBPQ_OPTIONS = frozenset({
    "dbname", "user", "host", "hostaddr", "port", "service", "passfile", "connect_timeout", "options",
    "sslmode", "sslcert", "sslkey", "sslrootcert", "sslcrl", "sslpassword", "target_session_attrs",
})  # fmt: skip
OFFICIAL_SUFFIX = ":official"
VOTE_LABELS = {"excellent": "优秀", "competent": "称职", "basic": "基本称职", "incompetent": "不称职"}
_ADJUSTMENT_KIND = {AdjustmentKind.DEBT_OVER_LIMIT.value: "debt"}
_HARD_RULE_TYPE = {
    GradingRuleType.BOTTOM_SHARE: "bottom_share",
    GradingRuleType.EVALUATION_BOTTOM_SHARE: "bottom_share",
    GradingRuleType.TARGET_UNDER: "target_below",
    GradingRuleType.NEGATIVE_VOTES: "vote_share",
    GradingRuleType.CONSECUTIVE_LAST: "last_place_twice",
    GradingRuleType.LOW_AMBITION: "low_ambition",
}


def unit_key(pk: int) -> str:
    return f"U{pk}"


def official_key(pk: int) -> str:
    return f"O{pk}"


def indicator_key(pk: int) -> str:
    return f"I{pk}"


def declared_key(pk: int) -> str:
    return f"D{pk}"


def parse_key(key: str) -> tuple[str, int]:
    """Return ("U"|"O"|"I"|"D", pk) for an engine id."""
    return key[0], int(key[1:])


def _num(value: Decimal | float) -> float | int:
    number = float(value)
    return int(number) if number.is_integer() else number


# --- scheme -------------------------------------------------------------------------------------


def _flat_components(components: list[Component], subject: str) -> list[tuple[Component, float]]:
    """Flatten sub-components into leaf components with their share of the total (e.g. Nantong's
    万人评议 30 = social 20 + leaders 10 becomes two components weighing 20 and 10)."""
    mine = [c for c in components if c.subject == subject]
    children: dict[int | None, list[Component]] = {}
    for comp in mine:
        children.setdefault(comp.parent_id, []).append(comp)
    out: list[tuple[Component, float]] = []

    def walk(parent: int | None, scale: float) -> None:
        for comp in sorted(children.get(parent, []), key=lambda c: (c.order, c.pk)):
            weight = scale * float(comp.weight) / (100.0 if parent is not None else 1.0)
            if children.get(comp.pk):
                walk(comp.pk, weight)
            else:
                out.append((comp, weight))

    walk(None, 1.0)
    return out


def _component_dict(comp: Component, weight: float) -> dict[str, Any]:
    entry: dict[str, Any] = {"code": comp.code, "source": comp.source, "weight": round(weight, 9)}
    if comp.layer_weights:
        entry["layer_weights"] = {k: _num(Decimal(str(v))) for k, v in sorted(comp.layer_weights.items())}
    if comp.source == ComponentSource.RATINGS:
        entry["groups"] = dict(sorted(comp.group_weights.items()))
        if comp.item_weights:
            entry["items"] = dict(sorted(comp.item_weights.items()))
    if comp.source == ComponentSource.TEAM and comp.team_component:
        entry["team_component"] = comp.team_component
    if comp.source == ComponentSource.ROUTINE:
        entry["grade_points"] = {k: _num(Decimal(str(v))) for k, v in sorted(comp.grade_points.items())}
    return entry


def _grading_dict(policy: GradingPolicy | None) -> dict[str, Any]:
    if policy is None:
        return {"levels": [{"label": "合格", "ratio": None}, {"label": "不合格", "ratio": 0}]}
    levels = [
        {"label": lv.label, "ratio": None if lv.quota_percent is None else _num(lv.quota_percent / 100)}
        for lv in sorted(policy.levels.all(), key=lambda lv: lv.order)
    ]
    grading: dict[str, Any] = {"levels": levels, "hard_rules": [], "sanctions": [], "team_caps": {}}
    for key in ("rounding", "veto_ceiling", "falsification_grade"):
        if key in policy.options:
            grading[key] = policy.options[key]
    for rule in sorted(policy.rules.all(), key=lambda r: r.rule_type):
        if not rule.enabled:
            continue
        if rule.rule_type == GradingRuleType.SANCTIONS:
            grading["sanctions"] = list(rule.params.get("sanctions", []))
        elif rule.rule_type == GradingRuleType.TEAM_CAP:
            grading["team_caps"] = dict(rule.params.get("team_caps", {}))
        else:
            grading["hard_rules"].append(
                {"type": _HARD_RULE_TYPE[GradingRuleType(rule.rule_type)], **rule.params}
            )
    return grading


def _indicators(
    nodes: list[IndicatorNode], leaf_components: set[str], slots: set[int]
) -> list[dict[str, Any]]:
    parents = {n.parent_id for n in nodes if n.parent_id is not None}
    out: list[dict[str, Any]] = []
    for node in nodes:
        entry: dict[str, Any] = {
            "code": indicator_key(node.pk),
            "weight": _num(node.weight),
            "name": node.name,
        }
        if node.parent_id is not None:
            entry["parent"] = indicator_key(node.parent_id)
        if node.pk in slots and node.pk not in parents:
            # A framework slot: each unit fills it with its own declared leaves (load_declared).
            leaf_components.add(node.component.code)
        elif node.pk not in parents:
            entry["component"] = node.component.code
            entry["rule"] = {"type": node.rule_type or "completion", "params": node.rule_params}
            leaf_components.add(node.component.code)
        out.append(entry)
    return out


@dataclass(frozen=True)
class _SchemeRows:
    """The rows a scheme dict is built from (read while the fact COPYs run)."""

    schemes: list[Scheme]
    nodes: dict[int, list[IndicatorNode]]  # scheme id → its indicator nodes, by pk
    zones: dict[int, dict[str, dict[str, float | int]]]
    groups: list[dict[str, Any]]


def _scheme_rows(cycle: Cycle) -> _SchemeRows:
    schemes = list(
        Scheme.objects.filter(cycle=cycle)
        .select_related("category")
        .prefetch_related("components", "grading_policies__levels", "grading_policies__rules")
        .order_by("category__order", "category__code")
    )
    nodes_by_scheme: dict[int, list[IndicatorNode]] = {}
    for node in IndicatorNode.objects.filter(scheme__cycle=cycle).select_related("component").order_by("pk"):
        nodes_by_scheme.setdefault(node.scheme_id, []).append(node)
    groups = [
        {
            "code": g.code,
            "name": g.name,
            "trim_share": _num(g.trim_percent / 100),
            "trim_min_count": g.trim_min_count,
            "min_ballots": g.min_ballots,
        }
        for g in cycle.rater_groups.all()
    ]
    return _SchemeRows(schemes, nodes_by_scheme, _zone_weights(cycle), groups)


def scheme_dict(cycle: Cycle, slots: set[int] | None = None) -> dict[str, Any]:
    """Return the cycle's scheme in the bundle format (see docs/bundle.schema.json); ``slots`` are
    the framework nodes holding published declared leaves (default :func:`declared_slots`)."""
    rows = _scheme_rows(cycle)
    return _scheme_of(cycle, rows, declared_slots(cycle) if slots is None else slots)


def _scheme_of(cycle: Cycle, rows: _SchemeRows, slots: set[int]) -> dict[str, Any]:
    nodes_by_scheme, zones = rows.nodes, rows.zones
    categories: list[dict[str, Any]] = []
    for scheme in rows.schemes:
        components = list(scheme.components.all())
        policies = {p.subject: p for p in scheme.grading_policies.all()}
        options = scheme.options or {}
        for subject, suffix in ((Subject.TEAM, ""), (Subject.OFFICIAL, OFFICIAL_SUFFIX)):
            flat = _flat_components(components, subject)
            if not flat:
                continue
            used: set[str] = set()
            category: dict[str, Any] = {
                "code": scheme.category.code + suffix,
                "name": scheme.category.name,
                "subject": "unit" if subject == Subject.TEAM else "official",
                "components": [_component_dict(c, w) for c, w in flat],
                "indicators": _indicators(nodes_by_scheme.get(scheme.pk, []), used, slots)
                if subject == Subject.TEAM
                else [],
                "grading": _grading_dict(policies.get(subject)),
            }
            if subject == Subject.TEAM and zones.get(scheme.pk):
                category["zone_weights"] = zones[scheme.pk]
            # Officials' categories have their own components, so their tie-break is separate.
            prefix = "" if subject == Subject.TEAM else "official_"
            for key in ("missing_indicator", "tie_break"):
                if prefix + key in options:
                    category[key] = options[prefix + key]
            adjustments = options.get("adjustments" if subject == Subject.TEAM else "official_adjustments")
            if adjustments:
                category["adjustments"] = adjustments
            categories.append(category)
    return {"name": cycle.name, "score_decimals": 2, "rater_groups": rows.groups, "categories": categories}


def declared_slots(cycle: Cycle) -> set[int]:
    """The framework nodes of ``cycle`` that published declared leaves hang under (their units'
    own targets replace a rule of the office)."""
    return set(
        DeclaredIndicator.objects.filter(
            declaration__cycle=cycle, declaration__published_version__isnull=False
        )
        # No ordering: the model's default one would join four tables and make DISTINCT return
        # every row (2.1 M for a province) instead of the few hundred framework nodes.
        .order_by()
        .values_list("parent_id", flat=True)
        .distinct()
    )


def _zone_weights(cycle: Cycle) -> dict[int, dict[str, dict[str, float | int]]]:
    """Scheme id → {zone code: {framework node key: weight}}, sorted."""
    out: dict[int, dict[str, dict[str, float | int]]] = {}
    rows = (
        ZoneWeight.objects.filter(node__scheme__cycle=cycle)
        .order_by("zone__code", "node_id")
        .values_list("node__scheme_id", "zone__code", "node_id", "weight")
    )
    for scheme_id, zone, node_id, weight in rows:
        out.setdefault(scheme_id, {}).setdefault(zone, {})[indicator_key(node_id)] = _num(weight)
    return out


# --- entities and facts -------------------------------------------------------------------------

Schema = dict[str, pl.DataType]
DECLARED_READ = {**DECLARED_COLUMNS, "low_ambition": pl.Int64(), "order": pl.Int64()}


@dataclass(frozen=True)
class _Query:
    """One extraction query: ``sql`` (no parameters: callers format integers only) read into a
    frame of ``schema``, then ``post`` (run in the reading thread, beside the other COPYs)."""

    sql: str
    schema: Schema
    post: Callable[[pl.DataFrame], pl.DataFrame] | None = None

    def finish(self, frame: pl.DataFrame) -> pl.DataFrame:
        return self.post(frame) if self.post is not None else frame


def _frame(sql: str, schema: Schema) -> pl.DataFrame:
    """Run ``sql`` (no parameters: callers format integers only) into a frame with ``schema``.

    PostgreSQL streams the rows with COPY on this connection; SQLite goes through the cursor.
    :func:`_reads` reads several queries at once, faster, and falls back to this.
    """
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        raw = connection.connection
        buffer = io.BytesIO()
        with raw.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
            for chunk in copy:
                buffer.write(chunk)
        return _parse_csv(buffer.getvalue(), schema)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    return pl.DataFrame(rows, schema=schema, orient="row")


def _read(query: _Query) -> pl.DataFrame:
    return query.finish(_frame(query.sql, query.schema))


def _parse_csv(data: bytes, schema: Schema) -> pl.DataFrame:
    if not data:
        return pl.DataFrame(schema=schema)
    return pl.read_csv(data, has_header=False, new_columns=list(schema), schema=schema)


def _shared_snapshot() -> str | None:
    """Return a snapshot other sessions can read this transaction's data through, "" when there is
    no transaction (every statement sees the latest commits anyway), ``None`` when they cannot (the
    transaction has written rows only it sees, e.g. a test's, or the server refuses to export)."""
    if not connection.in_atomic_block:
        return ""
    with connection.cursor() as cursor:
        # Exporting fails in a subtransaction (a savepoint) and on a standby: check before asking.
        cursor.execute("SELECT txid_current_if_assigned() IS NULL AND NOT pg_is_in_recovery()")
        (clean,) = cursor.fetchone()
        if not clean or connection.savepoint_ids:
            return None
        cursor.execute("SELECT pg_export_snapshot()")
        return str(cursor.fetchone()[0])


class _Reads:
    """Queries being read; :meth:`result` waits for their frames. Used as a context manager, so
    that sessions still copying when the caller fails are stopped."""

    def __init__(self, queries: dict[str, _Query], started: _PsqlCopies | None = None) -> None:
        self.queries = queries
        self.started = started

    def result(self) -> dict[str, pl.DataFrame]:
        frames = self.started.result() if self.started is not None else None
        if frames is None:  # no psql sessions, or one failed: the connection reads them itself
            frames = {name: _read(query) for name, query in self.queries.items()}
        return frames

    def __enter__(self) -> _Reads:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.started is not None:
            self.started.close()


class _PsqlCopies:
    """Every query as a COPY in its own ``psql`` session, all at once, each parsed (and ``post``
    applied) in its own thread as soon as its session ends.

    psycopg hands COPY over row by row to Python (≈0.6 µs a row: 6 s of the client's CPU for the
    province's 10.5 M ratings) where psql, in C, spends 0.4 s; and the sessions run side by side,
    one server process each, on the snapshot of this transaction (the same data it would read),
    while this connection stays free for the ORM's small reads.
    """

    def __init__(self, queries: dict[str, _Query], psql: str, snapshot: str) -> None:
        params = connection.get_connection_params()
        password = params.get("password")
        # Only libpq's options (Django adds psycopg's own), never the password: ps shows the command line.
        conninfo = make_conninfo(
            **{k: v for k, v in params.items() if k in LIBPQ_OPTIONS and v not in (None, "")}
        )
        env = {**os.environ, "PGAPPNAME": "jixiao-extract"}
        if password:
            env["PGPASSWORD"] = str(password)
        begin = [
            "-c",
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            "-c",
            f"SET TRANSACTION SNAPSHOT '{snapshot}'",
        ]
        # JIT compiles a streaming scan's expressions for longer than they run (0.8 s of the
        # declared leaves' 2 s read).
        settings_sql = ["-c", "SET jit = off"]
        self.queries = queries
        self.procs = {
            name: subprocess.Popen(  # a fixed argument list, no shell; the SQL formats integers only
                [
                    psql,
                    "-X",
                    "-q",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-d",
                    conninfo,
                    *settings_sql,
                    *(begin if snapshot else []),
                    "-c",
                    f"COPY ({query.sql}) TO STDOUT (FORMAT csv)",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
            )
            for name, query in queries.items()
        }
        self.started = time.perf_counter()
        # Reading a pipe and parsing CSV (Polars) release the GIL.
        self.pool = ThreadPoolExecutor(max_workers=len(self.procs))
        self.pending = {name: self.pool.submit(self._parse, name) for name in self.procs}

    def _parse(self, name: str) -> pl.DataFrame | str:
        """The frame of ``name``, or psql's error text."""
        out, err = self.procs[name].communicate()
        if self.procs[name].returncode:
            return err.decode(errors="replace").strip() or f"psql exited {self.procs[name].returncode}"
        query = self.queries[name]
        copied = time.perf_counter()
        frame = query.finish(_parse_csv(out, query.schema))
        # The long pole shows here (bench_compute.py prints it).
        logger.debug(
            "psql %s: %.2f s to copy %.1f MiB, %.2f s to parse",
            name, copied - self.started, len(out) / 2**20, time.perf_counter() - copied,
        )  # fmt: skip
        return frame

    def result(self) -> dict[str, pl.DataFrame] | None:
        """The frames, or ``None`` if any session failed (logged)."""
        done = {name: future.result() for name, future in self.pending.items()}
        self.pool.shutdown()
        failed = {name: value for name, value in done.items() if isinstance(value, str)}
        if failed:
            logger.warning("psql extraction failed, reading through the connection instead: %s", failed)
            return None
        return {name: value for name, value in done.items() if isinstance(value, pl.DataFrame)}

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
        self.pool.shutdown(wait=True)


def _reads(queries: dict[str, _Query]) -> _Reads:
    """Start reading ``queries``: on PostgreSQL through concurrent ``psql`` sessions when the
    ``psql`` client is installed and can see the same data (``JIXIAO_EXTRACT_PSQL``, default on),
    else (or if a session fails) through the connection when the result is asked for."""
    if connection.vendor == "postgresql" and getattr(settings, "JIXIAO_EXTRACT_PSQL", True):
        psql = shutil.which("psql")
        connection.ensure_connection()
        snapshot = _shared_snapshot() if psql else None
        if psql and snapshot is not None:
            return _Reads(queries, _PsqlCopies(queries, psql, snapshot))
    return _Reads(queries)


def _frames(queries: dict[str, _Query]) -> dict[str, pl.DataFrame]:
    with _reads(queries) as reads:
        return reads.result()


def _entity_queries() -> dict[str, _Query]:
    """Every active unit and official with its unit's category code (the scheme's categories are
    kept by :func:`_entities`), by pk."""
    return {
        "units": _Query(
            "SELECT 'U' || CAST(u.id AS TEXT), c.code, z.code FROM organisation_unit u "
            "JOIN organisation_unitcategory c ON c.id = u.category_id "
            "LEFT JOIN organisation_functionzone z ON z.id = u.function_zone_id "
            "WHERE u.is_active ORDER BY u.id",
            {"id": pl.String(), "category": pl.String(), "zone": pl.String()},
        ),
        "officials": _Query(
            "SELECT 'O' || CAST(o.id AS TEXT), 'U' || CAST(o.unit_id AS TEXT), o.layer, c.code "
            "FROM organisation_official o JOIN organisation_unit u ON u.id = o.unit_id "
            "JOIN organisation_unitcategory c ON c.id = u.category_id "
            "WHERE o.is_active AND u.is_active ORDER BY o.id",
            {"id": pl.String(), "unit": pl.String(), "layer": pl.String(), "category": pl.String()},
        ),
    }


def _strings(frame: pl.DataFrame, column: str) -> np.ndarray[Any, Any]:
    return np.array(frame.get_column(column).to_list(), dtype=np.str_)


def _entities(frames: dict[str, pl.DataFrame], scheme: dict[str, Any]) -> tuple[Units, Officials]:
    """Units and officials assessed in the cycle: active ones in categories that have a scheme."""
    unit_categories = sorted(c["code"] for c in scheme["categories"] if c["subject"] == "unit")
    official_categories = sorted(
        c["code"].removesuffix(OFFICIAL_SUFFIX) for c in scheme["categories"] if c["subject"] == "official"
    )
    units = frames["units"].filter(pl.col("category").is_in(unit_categories))
    officials = frames["officials"].filter(pl.col("category").is_in(official_categories))
    return (
        Units(
            id=_strings(units, "id"),
            category=_strings(units, "category"),
            zone=_strings(units.with_columns(pl.col("zone").fill_null("")), "zone"),
        ),
        Officials(
            id=_strings(officials, "id"),
            unit=_strings(officials, "unit"),
            layer=_strings(officials, "layer"),
            category=_strings(officials.with_columns(pl.col("category") + OFFICIAL_SUFFIX), "category"),
        ),
    )


def load_entities(cycle: Cycle, scheme: dict[str, Any]) -> tuple[Units, Officials]:
    """Units and officials assessed in ``cycle``: active ones in categories that have a scheme."""
    del cycle  # every cycle assesses the units active now
    return _entities(_frames(_entity_queries()), scheme)


ID_COLUMNS: Schema = {"unit": pl.Int64(), "official": pl.Int64()}
CODED_RATING_COLUMNS: Schema = {"group": pl.Categorical(), "item": pl.Categorical(), "ballots": pl.Int64()}


def _fact_queries(cid: int) -> dict[str, _Query]:
    """The fact tables with their entities as the raw ``unit``/``official`` pks (:func:`_keyed`
    turns them into the engine's ids): sending two integers costs the server less than building
    ``U<pk>`` text, and the client maps them to codes without parsing a string per row."""
    return {
        "indicator_results": _Query(
            "SELECT unit_id, official_id, CASE WHEN indicator_id IS NULL THEN 'D' || CAST(declared_id AS TEXT) "
            "ELSE 'I' || CAST(indicator_id AS TEXT) END, value, NULLIF(grade, ''), target, last_year "
            f"FROM facts_indicatorresult WHERE cycle_id = {cid}",
            {**ID_COLUMNS, **_without_entity(INDICATOR_RESULT_COLUMNS)},
        ),
        "ratings": _Query(
            f"SELECT unit_id, official_id, rater_group, item, score, ballots FROM facts_evaluationscore WHERE cycle_id = {cid}",
            {**ID_COLUMNS, **_without_entity(RATING_COLUMNS), **CODED_RATING_COLUMNS},
            _ratings,
        ),
        "votes": _Query(
            f"SELECT official_id, excellent, competent, basic, incompetent FROM facts_votecount WHERE cycle_id = {cid}",
            {"official": pl.Int64(), **{k: pl.Int64() for k in VOTE_LABELS}},
            _votes,
        ),
        "adjustments": _Query(
            f"SELECT unit_id, official_id, kind, points, NULLIF(sanction, ''), "
            f"CASE WHEN indicator_id IS NULL THEN NULL ELSE 'I' || CAST(indicator_id AS TEXT) END, source, reason "
            f"FROM facts_adjustment WHERE cycle_id = {cid} ORDER BY id",
            {**ID_COLUMNS, **_without_entity(ADJUSTMENT_COLUMNS)},
            lambda frame: frame.with_columns(pl.col("kind").replace(_ADJUSTMENT_KIND)),
        ),
    }


def _without_entity(columns: Schema) -> Schema:
    return {name: dtype for name, dtype in columns.items() if name != "entity"}


def _ratings(ratings: pl.DataFrame) -> pl.DataFrame:
    if ratings.height and (ratings["ballots"] > 1).any():
        # An aggregate row (a survey firm's mean over n answers) counts as n ratings of that mean.
        ratings = ratings.with_columns(pl.int_ranges(0, pl.col("ballots")).alias("_copy")).explode("_copy")
    # The few rater groups and items as Enums of their sorted codes (the engine and the digest
    # read them by their codes, not as 10 M strings).
    return ratings.select(
        *ID_COLUMNS,
        _small_enum(ratings.get_column("group"), str),
        _small_enum(ratings.get_column("item"), str),
        "score",
    )


def _votes(votes: pl.DataFrame) -> pl.DataFrame:
    return (
        votes.unpivot(index="official", on=list(VOTE_LABELS), variable_name="label", value_name="count")
        .with_columns(pl.col("label").replace_strict(VOTE_LABELS), pl.lit(None, pl.Int64()).alias("unit"))
        .filter(pl.col("count") > 0)
        .select("unit", "official", "label", pl.col("count").cast(pl.Int64()))
    )


class _Keys:
    """How the adapter writes the engine's ids: as text (``U<pk>``/``O<pk>``), optionally keeping
    only the entities of ``known``."""

    def __init__(self, known: list[str] | None = None) -> None:
        self.known = None if known is None else pl.Series("entity", known, dtype=pl.String())

    def entity(self, frame: pl.DataFrame) -> pl.Series:
        unit = pl.format("U{}", "unit")
        if "official" not in frame.columns:
            return frame.select(unit.alias("entity")).to_series()
        expr = pl.when(pl.col("unit").is_not_null()).then(unit).otherwise(pl.format("O{}", "official"))
        return frame.select(expr.alias("entity")).to_series()

    def keyed(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` with ``entity`` (first) for its ``unit``/``official`` pk columns."""
        rest = frame.drop("unit", "official", strict=False)
        return self.keep(rest.insert_column(0, self.entity(frame)))

    def keep(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` (with a text ``entity`` column) without the entities not known."""
        if self.known is None or not frame.height:
            return frame
        return frame.filter(pl.col("entity").is_in(self.known.implode()))


class EntityKeys(_Keys):
    """The assessed entities' ids as one ``pl.Enum`` whose categories are the ids in the engine's
    order (``build_entities`` sorts them the same way), so that the engine and the input digest
    read the keys by their codes without encoding strings; facts about any other entity (an
    inactive unit, a category without a scheme) are dropped: they cannot change a result, and the
    engine refuses unknown entities.

    The fact queries send the raw pks; a pk → code table per kind turns them into codes (a
    gather, no string per row).
    """

    def __init__(self, units: Units, officials: Officials) -> None:
        ids = np.concatenate([np.asarray(units.id, dtype=np.str_), np.asarray(officials.id, dtype=np.str_)])
        order = np.argsort(ids, kind="stable")
        ordered = ids[order].tolist()
        super().__init__(ordered)
        self.enum = pl.Enum(ordered)
        self.physical = pl.Series([], dtype=self.enum).to_physical().dtype
        position = np.empty(ids.size, np.int64)
        position[order] = np.arange(ids.size)
        nu = len(units.id)
        self.unit = _pk_table(units.id, position[:nu])
        self.official = _pk_table(officials.id, position[nu:])

    def codes(self, frame: pl.DataFrame) -> np.ndarray[Any, Any]:
        """The code of every row's entity, -1 for an entity not assessed."""
        unit = np.asarray(frame.get_column("unit").fill_null(-1).to_numpy(), dtype=np.int64)
        code = _gather(self.unit, unit)
        if "official" in frame.columns:
            official = np.asarray(frame.get_column("official").fill_null(-1).to_numpy(), dtype=np.int64)
            code = np.where(unit >= 0, code, _gather(self.official, official))
        return code

    def keyed(self, frame: pl.DataFrame) -> pl.DataFrame:
        code = self.codes(frame)
        rest = frame.drop("unit", "official", strict=False)
        keep = code >= 0
        if not keep.all():
            rest, code = rest.filter(pl.Series(keep)), code[keep]
        entity = pl.Series("entity", code).cast(self.physical).cat.to(self.enum, strict=False)
        return rest.insert_column(0, entity)

    def keep(self, frame: pl.DataFrame) -> pl.DataFrame:
        if not frame.height:
            return frame.with_columns(pl.col("entity").cast(self.enum))
        entity = frame.get_column("entity").cast(self.enum, strict=False)
        return frame.with_columns(entity).filter(entity.is_not_null())


def _pk_table(ids: np.ndarray[Any, Any], codes: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """pk → code (-1 for a pk not among ``ids``), for ids ``U<pk>``/``O<pk>``."""
    pks = pl.Series(np.asarray(ids, dtype=np.str_).tolist(), dtype=pl.String()).str.slice(1).cast(pl.Int64)
    pk = np.asarray(pks.to_numpy(), dtype=np.int64)
    table = np.full(int(pk.max()) + 2 if pk.size else 1, -1, np.int64)  # the last slot: unknown pks
    table[pk] = codes
    return table


def _gather(table: np.ndarray[Any, Any], pks: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    out: np.ndarray[Any, Any] = table[np.where((pks < 0) | (pks >= table.size), table.size - 1, pks)]
    return out


KEYED = ("indicator_results", "ratings", "votes", "adjustments")  # read with raw pks


def _facts(frames: dict[str, pl.DataFrame], keys: _Keys) -> Facts:
    """The fact frames with the engine's ids (``keys``)."""
    previous = frames.get("previous", pl.DataFrame(schema=PREVIOUS_COLUMNS))
    routine = frames.get("routine", pl.DataFrame(schema=ROUTINE_COLUMNS))
    return Facts(
        **{name: keys.keyed(frames[name]) for name in KEYED},
        previous=keys.keep(previous),
        routine=keys.keep(routine),
    )


def load_facts(cycle: Cycle, previous: pl.DataFrame | None = None) -> Facts:
    """Read every fact table of ``cycle`` into the engine's frames (the COPYs run concurrently);
    the ids are text."""
    frames = _frames(_fact_queries(int(cycle.pk)))
    if previous is not None:
        frames["previous"] = previous
    return _facts(frames, _Keys())


def _canonical_params(text: str | None) -> str:
    return json.dumps(json.loads(text or "{}"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def removed_declared_key(uid: str) -> str:
    """The code of a published leaf that a pending change has removed from the working copy:
    ``D<uid>`` (the indicator's uid, stable across versions; a uid never looks like a pk)."""
    return f"D{uid}"


def _declared_query(cid: int) -> _Query:
    """The declared leaves of ``cycle``'s declarations whose working copy is the published one (or
    whose published version has no stored snapshot), as plain columns: the server only filters
    (joining the framework node for its component and building the codes in SQL took it 2.5 times
    as long); the reading thread builds the codes."""
    return _Query(
        "SELECT d.unit_id, i.id, i.parent_id, i.under_id, CAST(i.weight AS DOUBLE PRECISION), "
        "i.rule_type, CAST(i.rule_params AS TEXT), CASE WHEN i.low_ambition THEN 1 ELSE 0 END "
        "FROM declarations_declaredindicator i "
        "JOIN declarations_declaration d ON d.id = i.declaration_id "
        f"WHERE d.cycle_id = {cid} AND d.published_version IS NOT NULL "
        "AND (d.status = 'published' OR NOT EXISTS (SELECT 1 FROM declarations_declarationversion v "
        "WHERE v.declaration_id = d.id AND v.number = d.published_version))",
        {
            "unit": pl.Int64(), "id": pl.Int64(), "parent_id": pl.Int64(), "under": pl.Int64(),
            "weight": pl.Float64(), "rule": pl.String(), "params": pl.String(), "low_ambition": pl.Int64(),
        },
        _declared_codes,
    )  # fmt: skip


def _declared_codes(raw: pl.DataFrame) -> pl.DataFrame:
    """The engine's codes of the declared query's rows (``DECLARED_READ`` with the ``unit`` pk for
    the entity and ``parent_id`` for the component), in code order (the engine's: it then need not
    sort them)."""
    return raw.select(
        "unit",
        pl.format("D{}", "id").alias("code"),
        pl.when(pl.col("under").is_null())
        .then(pl.format("I{}", "parent_id"))
        .otherwise(pl.format("D{}", "under"))
        .alias("parent"),
        "weight",
        "parent_id",
        "rule",
        "params",
        "low_ambition",
        pl.col("id").alias("order"),
    ).sort("code")


def _declared(
    bulk: pl.DataFrame, pending: pl.DataFrame, components: dict[int, str], keys: _Keys
) -> pl.DataFrame:
    """The declared leaves (``DECLARED_COLUMNS``, in code order) from the bulk rows
    (:func:`_declared_codes`) and the pending declarations' snapshot rows (``DECLARED_READ``),
    with the entities' ids of ``keys`` (and only their entities)."""
    frame = keys.keyed(
        bulk.with_columns(
            pl.col("parent_id")
            .replace_strict(components, default=None, return_dtype=pl.String())
            .alias("component")
        ).select("unit", *(c for c in DECLARED_READ if c != "entity"))
    )
    if pending.height:
        mine = keys.keep(pending)
        frame = pl.concat([frame, mine.cast({"entity": frame.schema["entity"]})], how="vertical").sort("code")
    if frame.height == 0:
        return pl.DataFrame(schema=DECLARED_COLUMNS).cast({"entity": frame.schema["entity"]})
    # Few distinct parameter sets among a province's 1.4 M leaves: canonicalise each once.
    texts = frame.get_column("params").unique().to_list()
    canonical = {text: _canonical_params(text) for text in texts}
    return frame.with_columns(
        pl.col("params").replace_strict(canonical, return_dtype=pl.String()),
        pl.col("low_ambition").cast(pl.Boolean()),
    ).select(list(DECLARED_COLUMNS))


def _components_of(bulk: pl.DataFrame) -> dict[int, str]:
    """Framework node pk → its component's code, for the nodes the bulk rows hang under."""
    parents = bulk.get_column("parent_id").unique().to_list()
    return dict(IndicatorNode.objects.filter(pk__in=parents).values_list("pk", "component__code"))


def load_declared(cycle: Cycle, units: Units | None = None) -> pl.DataFrame:
    """The PUBLISHED declared leaves of ``cycle``'s declarations (``DECLARED_COLUMNS``) — only
    those of ``units`` when given (the units the cycle assesses): entity
    ``U<unit>``, code ``D<pk>``, parent (the framework node ``I<pk>``, or the code of the unit's
    level-3 target a level-4 one hangs under), weight, component (the framework node's), rule,
    params (canonical JSON text), low_ambition; in indicator id order (removed leaves last, by
    declaration and snapshot order), whichever source a leaf comes from.

    A declaration whose working copy is the published one (状态 已公布) is read from its rows in
    one bulk query (so is one whose published version has no stored snapshot, as in hand-made
    data). Any other declaration with a published version
    (a change request under way: 变更中, or submitted/returned/approved again) is read from the
    snapshot of that version (:mod:`jixiao.declarations.snapshot`), so a pending change never
    moves a score before it is republished. Snapshot leaves keep the code ``D<pk>`` of the
    working row with the same uid; a leaf the change removed keeps scoring under
    :func:`removed_declared_key` (``D<uid>``). ``low_ambition`` of a snapshot leaf is the
    working row's flag (false for a removed leaf).

    :func:`load_run_input` reads the bulk rows in the same concurrent extraction as the facts."""
    bulk = _read(_declared_query(int(cycle.pk)))
    pending = _published_snapshots(cycle, DECLARED_READ).rows
    keys = _Keys(None if units is None else units.id.tolist())
    return _declared(bulk, pending, _components_of(bulk), keys)


class _Snapshots(NamedTuple):
    rows: pl.DataFrame  # the published versions' leaves (``DECLARED_READ``)
    parents: set[int]  # the framework nodes the working rows hang under
    working: dict[int, int]  # working row pk → its unit's pk (their monthly reports count)


def _published_snapshots(cycle: Cycle, schema: Schema) -> _Snapshots:
    """The published-version snapshots of ``cycle``'s declarations whose working copy is not the
    published one, as rows of ``schema`` (three queries whatever their number), the framework
    nodes their working rows hang under (with the bulk rows', :func:`declared_slots`) and the
    working rows' units."""
    versions = list(
        DeclarationVersion.objects.filter(
            declaration__cycle=cycle, number=F("declaration__published_version")
        )
        .exclude(declaration__status=DeclarationStatus.PUBLISHED)
        .order_by("declaration_id")
        .values_list("declaration_id", "declaration__unit_id", "snapshot")
    )
    if not versions:
        return _Snapshots(pl.DataFrame(schema=schema), set(), {})
    unit_of = {declaration: unit for declaration, unit, _snap in versions}
    working_units: dict[int, int] = {}
    working: dict[tuple[int, str], tuple[int, bool]] = {}
    working_parents: set[int] = set()
    for of_declaration, row_uid, pk, low, node in (
        DeclaredIndicator.objects.filter(declaration_id__in=[v[0] for v in versions])
        .order_by()
        .values_list("declaration_id", "uid", "pk", "low_ambition", "parent_id")
    ):
        working[(of_declaration, str(row_uid))] = (pk, low)
        working_parents.add(node)
        working_units[pk] = unit_of[of_declaration]
    parents = {int(item["parent_id"]) for _, _, snap in versions for item in snap}
    component = dict(IndicatorNode.objects.filter(pk__in=parents).values_list("pk", "component__code"))
    rows: list[tuple[Any, ...]] = []
    removed = 1 << 62  # after every pk
    for declaration, unit, snap in versions:

        def code(uid: str, declaration: int = declaration) -> str:
            found = working.get((declaration, uid))
            return declared_key(found[0]) if found else removed_declared_key(uid)

        for item in snap:
            uid = str(item["uid"])
            found = working.get((declaration, uid))
            parent = code(str(item["under"])) if item.get("under") else indicator_key(int(item["parent_id"]))
            rows.append((
                unit_key(unit),
                code(uid),
                parent,
                float(item["weight"] or 0),
                component.get(int(item["parent_id"])),
                item["rule_type"],
                json.dumps(item.get("rule_params") or {}),
                1 if found and found[1] else 0,
                found[0] if found else removed + len(rows),
            ))  # fmt: skip
    return _Snapshots(pl.DataFrame(rows, schema=schema, orient="row"), working_parents, working_units)


def _routine_query(cid: int) -> _Query:
    month = (
        "to_char(r.period, 'YYYY-MM')" if connection.vendor == "postgresql" else "strftime('%Y-%m', r.period)"
    )
    return _Query(
        f"SELECT 'U' || CAST(d.unit_id AS TEXT), 'D' || CAST(i.id AS TEXT), {month}, r.grade "
        "FROM tracking_progressreport r "
        "JOIN declarations_declaredindicator i ON i.id = r.indicator_id "
        "JOIN declarations_declaration d ON d.id = i.declaration_id "
        f"WHERE d.cycle_id = {cid} AND d.published_version IS NOT NULL AND r.status = 'graded' "
        "AND r.grade <> '' ORDER BY r.id",
        ROUTINE_COLUMNS,
    )


EPOCH = date(2000, 1, 1)


def _routine_reports_query(cid: int) -> _Query:
    """The graded monthly reports as raw columns (indicator pk, period as days since ``EPOCH``,
    grade), without joining the 17 M reports of a province to their leaves and declarations on
    the server: the client knows the leaves of the cycle's published declarations from the
    declared read (:func:`_routine`). The server keeps only the pk range of those leaves."""
    leaves = (
        "FROM declarations_declaredindicator i JOIN declarations_declaration d ON d.id = i.declaration_id "
        f"WHERE d.cycle_id = {cid} AND d.published_version IS NOT NULL"
    )
    days = (
        f"r.period - DATE '{EPOCH.isoformat()}'"  # an integer, whatever the DateStyle
        if connection.vendor == "postgresql"
        else f"CAST(julianday(r.period) - julianday('{EPOCH.isoformat()}') AS INTEGER)"
    )
    return _Query(
        f"SELECT r.indicator_id, {days}, r.grade FROM tracking_progressreport r "
        f"WHERE r.indicator_id BETWEEN (SELECT MIN(i.id) {leaves}) AND (SELECT MAX(i.id) {leaves}) "
        "AND r.status = 'graded' AND r.grade <> ''",
        {"indicator": pl.Int64(), "period": pl.Int64(), "grade": pl.Categorical()},
    )


def _small_enum(series: pl.Series, text: Callable[[Any], str]) -> pl.Series:
    """A column of few distinct values (integers, or a Categorical) as a ``pl.Enum`` of ``text``
    of them (sorted), through their codes: no string per row."""
    categorical = series.dtype == pl.Categorical
    keys = series.to_physical() if categorical else series
    used = keys.unique().sort()
    values = pl.Series(used).cat.to(series.dtype).to_list() if categorical and used.len() else used.to_list()
    labels = sorted({text(v) for v in values})
    enum = pl.Enum(labels)
    to_label = np.array([labels.index(text(v)) for v in values], dtype=np.int64)
    at = np.searchsorted(np.asarray(used.to_numpy()), np.asarray(keys.to_numpy()))
    codes = pl.Series(series.name, to_label[at] if to_label.size else np.zeros(0, np.int64))
    return codes.cast(pl.Series([], dtype=enum).to_physical().dtype).cat.to(enum)


def _month(days: int) -> str:
    return (EPOCH + timedelta(days=int(days))).strftime("%Y-%m")


def _routine(
    reports: pl.DataFrame, owners: dict[str, np.ndarray[Any, Any]], keys: EntityKeys
) -> pl.DataFrame:
    """The routine facts (``ROUTINE_COLUMNS``) of the raw reports: those of the leaves in
    ``owners`` (``pk`` → ``unit`` pk: the cycle's published declarations' rows), entity, indicator
    ``D<pk>``, period ``YYYY-MM`` and grade as ``pl.Enum`` columns."""
    pk, unit = owners["pk"], owners["unit"]
    if reports.height == 0 or pk.size == 0:
        return pl.DataFrame(schema=ROUTINE_COLUMNS).with_columns(pl.col("entity").cast(keys.enum))
    # The leaf's position among the owners (-1: not a leaf of the cycle), then its unit's code.
    position = np.full(int(pk.max()) + 2, -1, np.int64)
    position[pk] = np.arange(pk.size)
    indicator = np.asarray(reports.get_column("indicator").to_numpy(), dtype=np.int64)
    at = _gather(position, indicator)
    code = np.where(at >= 0, _gather(keys.unit, unit[np.maximum(at, 0)]), -1)
    keep = code >= 0
    if not keep.all():
        reports, at, code = reports.filter(pl.Series(keep)), at[keep], code[keep]
    codes = pl.Series([f"D{p}" for p in pk.tolist()], dtype=pl.String())
    leaf = pl.Enum(codes)
    return pl.DataFrame([
        pl.Series("entity", code).cast(keys.physical).cat.to(keys.enum),
        pl.Series("indicator", at).cast(pl.Series([], dtype=leaf).to_physical().dtype).cat.to(leaf),
        _small_enum(reports.get_column("period"), _month),
        _small_enum(reports.get_column("grade"), lambda grade: grade),
    ])  # fmt: skip


def _owners(bulk: pl.DataFrame, working: dict[int, int]) -> dict[str, np.ndarray[Any, Any]]:
    """The cycle's published declarations' leaves (bulk rows and the working rows of those under
    change) with their units' pks: whose monthly reports are routine facts."""
    pk = np.concatenate([np.asarray(bulk.get_column("order").to_numpy(), dtype=np.int64),
                         np.fromiter(working, np.int64, len(working))])  # fmt: skip
    unit = np.concatenate([np.asarray(bulk.get_column("unit").to_numpy(), dtype=np.int64),
                           np.fromiter(working.values(), np.int64, len(working))])  # fmt: skip
    return {"pk": pk, "unit": unit}


def load_routine(cycle: Cycle) -> pl.DataFrame:
    """The graded monthly reports of ``cycle``'s published targets (``ROUTINE_COLUMNS``): entity
    ``U<unit>``, indicator ``D<pk>``, period ``YYYY-MM``, grade (the ProgressGrade code, the
    key of a routine component's ``grade_points``)."""
    return _read(_routine_query(int(cycle.pk)))


def _previous_run(cycle: Cycle) -> ScoringRun | None:
    return ScoringRun.objects.filter(cycle__year=cycle.year - 1).order_by("-number").first()


def _previous_query(run: ScoringRun) -> _Query:
    """The run's ranks and grades (``PREVIOUS_COLUMNS``), in the results' order."""
    return _Query(
        "SELECT CASE WHEN subject = 'official' AND official_id IS NOT NULL "
        "THEN 'O' || CAST(official_id AS TEXT) ELSE 'U' || CAST(unit_id AS TEXT) END, "
        "rank, NULLIF(grade, ''), category FROM results_entityresult "
        f"WHERE run_id = {int(run.pk)} ORDER BY subject, category, rank, id",
        {"entity": pl.String(), "rank": pl.Int64(), "grade": pl.String(), "category": pl.String()},
        _previous_ranks,
    )


def _previous_ranks(frame: pl.DataFrame) -> pl.DataFrame:
    return (
        frame.with_columns(pl.len().over("category").alias("category_size"))
        .select(list(PREVIOUS_COLUMNS))
        .cast(PREVIOUS_COLUMNS)  # type: ignore[arg-type]
    )


def previous_results(cycle: Cycle) -> pl.DataFrame:
    """Last year's ranks and grades (from the previous cycle's latest run), for cross-year rules."""
    last = _previous_run(cycle)
    return pl.DataFrame(schema=PREVIOUS_COLUMNS) if last is None else _read(_previous_query(last))


class RunInput(NamedTuple):
    """What a run scores: the scheme dict, the entities, the facts and the declared leaves."""

    scheme: dict[str, Any]
    units: Units
    officials: Officials
    facts: Facts
    declared: pl.DataFrame


def load_run_input(cycle: Cycle) -> RunInput:
    """Return the scheme dict, the entities, the facts (with the routine grades) and the declared
    leaves (:func:`load_declared`) of ``cycle``, every table in one concurrent extraction: the
    COPYs run in their sessions while this connection reads the scheme and the snapshots of
    declarations under change."""
    return _load(cycle, declared=True)


def load_cycle_input(cycle: Cycle) -> tuple[dict[str, Any], Units, Officials, Facts]:
    """Return the scheme dict, the entities and the facts (with the routine grades) of ``cycle``;
    the declared leaves come from :func:`load_declared` (or all of them from
    :func:`load_run_input`)."""
    scheme, units, officials, facts, _declared_leaves = _load(cycle, declared=False)
    return scheme, units, officials, facts


def _load(cycle: Cycle, *, declared: bool) -> RunInput:
    cid = int(cycle.pk)
    last = _previous_run(cycle)
    queries = {**_fact_queries(cid), **_entity_queries()}
    # The monthly grades are facts only for a cycle with a routine component: a province's 17 M
    # reports would otherwise be copied, packed and digested for an engine that never reads them.
    routine = uses_routine(cycle)
    if routine:
        # With the declared leaves read, the reports are matched to them here (_routine).
        queries["routine"] = _routine_reports_query(cid) if declared else _routine_query(cid)
    if last is not None:
        queries["previous"] = _previous_query(last)
    if declared:
        queries["declared"] = _declared_query(cid)
    with _reads(queries) as reads:
        # The connection is free while the sessions copy.
        rows = _scheme_rows(cycle)
        snapshots = _published_snapshots(cycle, DECLARED_READ) if declared else None
        slots = None if declared else declared_slots(cycle)
        frames = reads.result()
    if not routine:
        frames["routine"] = (
            pl.DataFrame(schema=_routine_reports_query(cid).schema)
            if declared
            else pl.DataFrame(schema=ROUTINE_COLUMNS)
        )
    if snapshots is not None:
        # Every declaration with a published version is read in bulk or through its snapshot, so
        # their parents are declared_slots' nodes without one more scan of the leaves.
        slots = {*frames["declared"].get_column("parent_id").unique().to_list(), *snapshots.parents}
    assert slots is not None
    scheme = _scheme_of(cycle, rows, slots)
    units, officials = _entities(frames, scheme)
    keys: _Keys = (
        EntityKeys(units, officials) if _unique(units, officials) else _Keys([*units.id, *officials.id])
    )
    if snapshots is None:
        facts = _facts(frames, keys)
        return RunInput(scheme, units, officials, facts, pl.DataFrame(schema=DECLARED_COLUMNS))
    bulk = frames["declared"]
    owners = _owners(bulk, snapshots.working)
    if isinstance(keys, EntityKeys):
        frames["routine"] = _routine(frames["routine"], owners, keys)
    elif routine:  # ids used twice: the engine refuses them anyway; keep the text path simple
        frames["routine"] = _read(_routine_query(cid))
    else:
        frames["routine"] = pl.DataFrame(schema=ROUTINE_COLUMNS)
    facts = _facts(frames, keys)
    declared_leaves = _declared(bulk, snapshots.rows, _components_of(bulk), keys)
    return RunInput(scheme, units, officials, facts, declared_leaves)


def uses_routine(cycle: Cycle) -> bool:
    """Whether a scheme of ``cycle`` has a routine component (平时实绩 from the monthly grades)."""
    return Component.objects.filter(scheme__cycle=cycle, source=ComponentSource.ROUTINE).exists()


def _unique(units: Units, officials: Officials) -> bool:
    """Whether no id is used twice (else the engine says so; an Enum cannot hold it)."""
    ids = np.concatenate([np.asarray(units.id, dtype=np.str_), np.asarray(officials.id, dtype=np.str_)])
    return bool(np.unique(ids).size == ids.size)


def cycle_input(
    scheme: dict[str, Any],
    units: Units,
    officials: Officials,
    facts: Facts,
    declared: pl.DataFrame | None = None,
) -> CycleInput:
    """Return the engine input (``parse_scheme`` + facts and declared leaves in their full declared
    dtypes), exactly what ``load_bundle`` gives for the exported bundle of the same cycle."""
    return _cycle_input(scheme, units, officials, facts, declared)


__all__ = [
    "CycleInput",
    "cycle_input",
    "load_cycle_input",
    "load_declared",
    "load_routine",
    "parse_key",
    "removed_declared_key",
    "scheme_dict",
]
