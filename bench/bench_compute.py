"""Benchmark scoring a demo cycle from PostgreSQL: extraction, engine, result write, end to end.

Run: ``uv run python bench/bench_compute.py [--scale province] [--database postgres://…/jixiao_bench]``.

First the floor: the bare COPY of exactly the rows and columns ``run_compute`` reads (the cycle's
facts, the units and officials), drained into memory by psycopg (as ``engine_io`` did before) and by
``psql`` (a C client, what ``engine_io`` uses now), one table after the other; at the end
``run_compute`` end to end and its ratio to both floors, with the load average (``os.getloadavg``)
at the start and the end of every figure that matters, since the machine is shared.

Creates a throwaway database (dropped at the end unless ``--keep``), migrates it and generates the
demo world with a year of facts per cycle (``jixiao generate``, in a subprocess so that its memory
does not count here), then for the latest cycle measures and prints:

- input extraction: ``engine_io.scheme_dict`` / ``load_entities`` / ``load_facts`` (COPY → Polars);
- the engine: ``jixiao.scoring.engine.compute`` on the ``CycleInput`` (best of ``--repeat``);
- ``results.services.run_compute`` piece by piece (extraction, ``cycle_input``, the engine, the
  columnar input and results digests, the lean ``EntityResult`` rows and their write — COPY on
  PostgreSQL — and the ``RunDetail`` Parquet frames, rolled back) and end to end;
- one breakdown explanation on demand (``selectors.entity_explanation``) after the end-to-end run:
  the first (loads the run's frames) and cached ones;
- peak RSS (``resource.getrusage``) after the engine and after the pieces; ``run_compute`` end to
  end runs in a child process with its own peak RSS, its address space capped (``--end-to-end-memory``,
  default 12 GiB) so that a province run fails with MemoryError instead of waking the OOM killer;
- the plain-Python reference (``jixiao.scoring.reference.reference_compute``) on a 1% slice of the
  units (with their officials and facts), scaled to the full rows, as a ratio to the engine.

Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlparse, urlunparse

T = TypeVar("T")
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/jixiao_bench"
EXPLAIN_SAMPLE = 500


def _rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024  # KiB on Linux


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


FLOOR_TABLES: tuple[tuple[str, str, bool | str], ...] = (  # what run_compute reads: (table, columns,
    # filtered by the cycle: True for cycle_id, or the cycle column of a join)
    ("facts_evaluationscore", "unit_id, official_id, rater_group, item, score, ballots", True),
    (
        "facts_indicatorresult",
        "unit_id, official_id, indicator_id, declared_id, value, grade, target, last_year",
        True,
    ),
    ("facts_votecount", "official_id, excellent, competent, basic, incompetent", True),
    ("facts_adjustment", "unit_id, official_id, kind, points, sanction, indicator_id, source, reason", True),
    ("declarations_declaration", "id, unit_id, status, published_version", True),
    (
        "declarations_declaredindicator i JOIN declarations_declaration d ON d.id = i.declaration_id",
        "i.id, d.unit_id, i.parent_id, i.under_id, i.weight, i.rule_type, i.rule_params, i.low_ambition",
        "d.cycle_id",
    ),
    ("organisation_unit", "id, category_id, is_active", False),
    ("organisation_official", "id, unit_id, layer, is_active", False),
    # The graded monthly reports of the cycle's leaves (17 M rows with --tracking): the rows and
    # columns engine_io reads (the pk range of the cycle's published leaves, filtered client-side).
    ("tracking_progressreport", "indicator_id, period, grade", "routine"),
)
ROUTINE_WHERE = (
    " WHERE indicator_id BETWEEN (SELECT MIN(i.id) {leaves}) AND (SELECT MAX(i.id) {leaves})"
    " AND status = 'graded' AND grade <> ''"
)
LEAVES = (
    "FROM declarations_declaredindicator i JOIN declarations_declaration d ON d.id = i.declaration_id "
    "WHERE d.cycle_id = {cycle} AND d.published_version IS NOT NULL"
)


def _floor(cycle_id: int) -> dict[str, float]:
    """The bare COPY of the rows run_compute reads, into memory: psycopg, then psql (C)."""
    import shutil

    from django.db import connection

    def where(by_cycle: bool | str) -> str:
        if by_cycle == "routine":
            return ROUTINE_WHERE.format(leaves=LEAVES.format(cycle=int(cycle_id)))
        column = by_cycle if isinstance(by_cycle, str) else "cycle_id"
        return f" WHERE {column} = {int(cycle_id)}" if by_cycle else ""

    queries = [
        f"COPY (SELECT {cols} FROM {table}{where(by_cycle)}) TO STDOUT (FORMAT csv)"
        for table, cols, by_cycle in FLOOR_TABLES
    ]
    print(f"floor: bare COPY of the same rows and columns ({len(queries)} tables, one after the other):")
    connection.ensure_connection()
    floors: dict[str, float] = {}

    def drain() -> int:
        size = 0
        with connection.connection.cursor() as cursor:
            for sql in queries:
                with cursor.copy(sql) as copy:
                    size += sum(len(chunk) for chunk in copy)
        return size

    size, floors["psycopg"] = _timed(f"COPY → psycopg (load {_load()})", drain)
    psql = shutil.which("psql")
    if psql:
        params = connection.get_connection_params()
        target = (
            f"postgresql://{params.get('user')}@{params.get('host')}:{params.get('port')}/{params['dbname']}"
        )
        env = {**os.environ, **({"PGPASSWORD": str(params["password"])} if params.get("password") else {})}

        def with_psql() -> int:
            return sum(
                len(subprocess.run([psql, "-X", "-q", "-d", target, "-c", sql], env=env, check=True,
                                   capture_output=True).stdout)
                for sql in queries
            )  # fmt: skip

        _, floors["psql"] = _timed(f"COPY → psql (load {_load()})", with_psql)
    print(f"  {'  → bytes':44} {size / 2**20:8.1f} MiB")
    return floors


def _cpu() -> float:
    """CPU seconds of this process and its finished children (psql), user + system."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(label: str, fn: Callable[[], T]) -> tuple[T, float]:
    started, cpu = time.perf_counter(), _cpu()
    value = fn()
    seconds = time.perf_counter() - started
    print(f"  {label:44} {seconds:8.2f} s  (CPU {_cpu() - cpu:.2f} s)")
    return value, seconds


def _admin_url(url: str) -> tuple[str, str]:
    parts = urlparse(url)
    name = parts.path.lstrip("/")
    if not name or parts.scheme not in ("postgres", "postgresql"):
        raise SystemExit(f"--database must be a PostgreSQL URL with a database name, got {url!r}")
    return urlunparse(parts._replace(path="/postgres")), name


def _recreate(url: str, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    admin, name = _admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _generate(scale: str, seed: int, env: dict[str, str]) -> None:
    cli = [sys.executable, "-m", "jixiao.cli"]
    subprocess.run([*cli, "migrate", "-v0"], env=env, check=True)
    started = time.perf_counter()
    out = subprocess.run(
        [*cli, "generate", "--scale", scale, "--seed", str(seed)],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    total = time.perf_counter() - started
    for line in out.stdout.splitlines():
        print(f"    {line.strip()}")
    print(f"  generation with facts (subprocess, wall)     {total:8.2f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", choices=("tiny", "prefecture", "province"), default="province")
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database (and reuse it next time)")
    parser.add_argument("--reuse", action="store_true", help="use the database as it is (no generation)")
    parser.add_argument("--full-explanations", action="store_true", help="(kept for scripts; always on)")
    parser.add_argument("--no-end-to-end", action="store_true", help="skip run_compute end to end")
    parser.add_argument("--quick", action="store_true", help="skip the engine repeats and the reference")
    parser.add_argument(
        "--no-pieces", action="store_true", help="with --quick: only the floor and end to end"
    )
    parser.add_argument(
        "--end-to-end-memory", type=int, default=12, help="GiB of address space for run_compute (default 12)"
    )
    args = parser.parse_args(argv)

    env = {**os.environ, "DATABASE_URL": args.database, "DJANGO_SETTINGS_MODULE": "jixiao.config.settings"}
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")})
    print(f"database {args.database} · scale {args.scale} · seed {args.seed}")
    if not args.reuse:
        _recreate(args.database)
        _generate(args.scale, args.seed, env)
    try:
        _measure(args)
    finally:
        if not args.keep and not args.reuse:
            from django.db import connections

            connections.close_all()
            _recreate(args.database, drop_only=True)
    return 0


def _measure(args: argparse.Namespace) -> None:
    import logging

    import django

    django.setup()
    # engine_io logs each psql session's copy and parse times at DEBUG: the extraction's long pole.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("    %(message)s"))
    extraction_log = logging.getLogger("jixiao.results.engine_io")
    extraction_log.addHandler(handler)
    extraction_log.setLevel(logging.DEBUG)
    extraction_log.propagate = False
    from jixiao.results import engine_io
    from jixiao.schemes.models import Cycle
    from jixiao.scoring.engine import compute
    from jixiao.scoring.scheme import parse_scheme
    from jixiao.scoring.types import CycleInput

    cycle = Cycle.objects.order_by("-year").first()
    if cycle is None:
        raise SystemExit("no cycle in the database")
    print(f"cycle {cycle.year} · load average {_load()}")
    floors = _floor(cycle.pk)
    if args.quick:
        if not args.no_pieces:
            print("run_compute, piece by piece (results/services.py):")
            _run_compute_pieces(cycle, args.full_explanations)
            print(f"peak RSS of the measurements above: {_rss_gib():.2f} GiB")
        if not args.no_end_to_end:
            _end_to_end(args.end_to_end_memory, floors)
        return
    print("input extraction (engine_io):")
    scheme_raw, t_scheme = _timed("scheme_dict", lambda: engine_io.scheme_dict(cycle))
    (units, officials), t_ent = _timed("load_entities", lambda: engine_io.load_entities(cycle, scheme_raw))
    previous, t_prev = _timed("previous_results", lambda: engine_io.previous_results(cycle))
    facts, t_facts = _timed("load_facts (COPY → Polars)", lambda: engine_io.load_facts(cycle, previous))
    declared, t_declared = _timed(
        "load_declared (COPY → Polars)", lambda: engine_io.load_declared(cycle, units)
    )
    scheme, t_parse = _timed("parse_scheme", lambda: parse_scheme(scheme_raw))
    extraction = t_scheme + t_ent + t_prev + t_facts + t_declared + t_parse
    f = facts
    rows = f.indicator_results.height + f.ratings.height + f.votes.height + f.adjustments.height
    print(
        f"  = extraction {extraction:.2f} s: {units.id.size:,} units, {officials.id.size:,} officials, "
        f"{f.ratings.height:,} ratings, {f.indicator_results.height:,} indicator results, "
        f"{f.votes.height:,} vote rows, {f.adjustments.height:,} adjustments, {declared.height:,} declared nodes"
    )
    inp = CycleInput(scheme, units, officials, facts, declared)
    print("engine (jixiao.scoring.engine.compute):")
    times = []
    results = None
    for i in range(args.repeat):
        results, seconds = _timed(f"compute #{i + 1}", lambda: compute(inp))
        times.append(seconds)
    engine_s = min(times)
    assert results is not None
    print(f"  = engine best {engine_s:.2f} s; peak RSS so far {_rss_gib():.2f} GiB")

    print("reference (plain Python) on a 1% slice:")
    from jixiao.scoring.reference import reference_compute

    small = _slice(inp, 100)
    sf = small.facts
    small_rows = sf.indicator_results.height + sf.ratings.height + sf.votes.height + sf.adjustments.height
    _, ref_small = _timed(
        f"reference_compute ({small.units.id.size} units)", lambda: reference_compute(small)
    )
    ref_scaled = ref_small * rows / max(small_rows, 1)
    print(
        f"  = {ref_small:.2f} s on {small_rows:,} rows → {ref_scaled:.0f} s scaled to {rows:,} rows; "
        f"engine is {ref_scaled / engine_s:.0f}× the reference"
    )

    print("run_compute, piece by piece (results/services.py):")
    complete = _run_compute_pieces(cycle, args.full_explanations)
    print(f"peak RSS of the measurements above: {_rss_gib():.2f} GiB")
    if complete and not args.no_end_to_end:
        _end_to_end(args.end_to_end_memory, floors)


def _slice(inp: Any, every: int) -> Any:
    """Every ``every``-th unit with its officials and their facts."""
    import numpy as np
    import polars as pl

    from jixiao.scoring.types import CycleInput, Facts, Officials, Units

    keep_units = inp.units.id[::every]
    unit_mask = np.isin(inp.officials.unit, keep_units)
    officials = Officials(
        *(getattr(inp.officials, c)[unit_mask] for c in ("id", "unit", "layer", "category"))
    )
    units = Units(keep_units, inp.units.category[::every])
    ids = pl.Series(np.concatenate([keep_units, officials.id]).tolist(), dtype=pl.String)
    f = inp.facts

    def only(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("entity").is_in(ids.implode())) if frame.height else frame

    facts = Facts(
        only(f.indicator_results), only(f.ratings), only(f.votes), only(f.adjustments), only(f.previous)
    )
    return CycleInput(inp.scheme, units, officials, facts, only(inp.declared))


def _run_compute_pieces(cycle: Any, full_explanations: bool) -> bool:
    """Time ``run_compute``'s steps one by one (the write is rolled back)."""
    from django.db import transaction

    from jixiao.results import engine_io, services
    from jixiao.results.models import ScoringRun
    from jixiao.scoring.digests import input_digest, results_digest
    from jixiao.scoring.engine import compute

    del full_explanations  # explanations are built on demand (selectors.entity_explanation)

    def load() -> Any:
        with transaction.atomic():  # as in run_compute: the psql sessions share its snapshot
            return engine_io.load_run_input(cycle)

    loaded, t_load = _timed("extraction: load_run_input (COPY → Polars)", load)
    scheme_raw = loaded.scheme
    inp, t_input = _timed("cycle_input (parse_scheme, full dtypes)", lambda: engine_io.cycle_input(*loaded))
    loaded = ()  # the facts now live in inp only
    res, t_engine = _timed("compute", lambda: compute(inp))
    meta = services.cycle_meta(cycle)
    _, t_in = _timed("input_digest (columnar, sorted tables)", lambda: input_digest(inp, scheme_raw, meta))
    _, t_out = _timed("results_digest (columnar)", lambda: results_digest(res))
    from jixiao.ledger.services import input_pack

    _, t_pack = _timed(
        "input_pack (the run's input as Parquet, ledger)",
        lambda: input_pack(
            cycle=meta,
            scheme=scheme_raw,
            units=inp.units,
            officials=inp.officials,
            facts=inp.facts,
            declared=inp.declared,
        ),
    )

    frame, t_rows = _timed("lean EntityResult rows (entity_frame)", lambda: services.entity_frame(res))
    n = frame.height
    print(f"  {'  peak RSS so far':44} {_rss_gib():8.2f} GiB")
    with transaction.atomic():
        run = ScoringRun.objects.create(cycle=cycle, number=10_000, engine_version="bench", note="bench")
        written, t_both = _timed(
            "rows + write (COPY / bulk_create)",
            lambda: services.write_frame(run, services.entity_frame(res)),
        )
        detail, t_parquet = _timed(
            "RunDetail: frames → Parquet (zstd)", lambda: services.run_detail(run, res, scheme_raw)
        )
        from jixiao.bound_insert import insert_bound

        _, t_detail = _timed("RunDetail: save (insert_bound)", lambda: insert_bound(detail))
        size = sum(len(getattr(detail, name)) for name in detail.FRAMES)
        print(f"  {'  → Parquet bytes':44} {size / 2**20:8.1f} MiB")
        transaction.set_rollback(True)
    assert written == n
    t_write = max(t_both - t_rows, 0.0)
    print(f"  {'  → write alone':44} {t_write:8.2f} s ({written:,} rows)")
    t_both += t_parquet + t_detail
    serial = t_load + t_input + t_engine + t_in + t_out + t_pack + t_both
    print(f"  = run_compute from the pieces (digest not overlapped) {serial:8.2f} s")
    return True


E2E = """
import os, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]) << 30, int(sys.argv[1]) << 30))
import django
django.setup()
from django.db import connection
from jixiao.results.models import EntityResult
from jixiao.results.selectors import entity_explanation
from jixiao.results.services import run_compute
from jixiao.schemes.models import Cycle
load = " ".join(f"{x:.2f}" for x in os.getloadavg())
def cpu():
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
cpu0 = cpu()
started = time.perf_counter()
run = None
try:
    run = run_compute(cycle=Cycle.objects.order_by("-year").first(), actor=None, note="bench")
    outcome = f"{run.entity_count:,} entities"
except MemoryError:
    outcome = f"MemoryError at the {sys.argv[1]} GiB address-space limit"
seconds = time.perf_counter() - started
used = cpu() - cpu0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
print(f"  {'run_compute end to end (subprocess)':44} {seconds:8.2f} s; {outcome}; peak RSS {peak:.2f} GiB")
print(f"  {'  CPU (process + psql children)':44} {used:8.2f} s")
print(f"  {'  load average before / after':44} {load} / {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
for name, floor in (f.split("=") for f in sys.argv[2:]):
    print(f"  {'  ratio to the floor (' + name + ')':44} {seconds / float(floor):8.2f}×  (floor {float(floor):.2f} s)")
if run is not None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size('results_rundetail')")
        print(f"  {'results_rundetail on disk (all runs)':44} {cursor.fetchone()[0] / 2**20:8.1f} MiB")
    rows = EntityResult.objects.filter(run=run, subject="official").select_related("run")
    for label, result in (("first, loads the frames", rows[0]), ("cached", rows[1]), ("cached", rows[2])):
        started = time.perf_counter()
        x = entity_explanation(result)
        ms = (time.perf_counter() - started) * 1000
        print(f"  {'breakdown explanation (' + label + ')':44} {ms:8.1f} ms; {len(x['raters'])} rater rows")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"  {'peak RSS with the frames cached':44} {peak:8.2f} GiB")
"""


def _end_to_end(memory_gib: int, floors: dict[str, float]) -> None:
    """run_compute in a child process, capped in address space so that it cannot take the machine."""
    env = {**os.environ}
    floor_args = [f"{name}={seconds}" for name, seconds in floors.items()]
    subprocess.run([sys.executable, "-c", E2E, str(memory_gib), *floor_args], env=env, check=False)


if __name__ == "__main__":
    sys.exit(main())
