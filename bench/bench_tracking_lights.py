"""Benchmark: the office's lights page for one category at province scale, and recomputing lights.

    .venv/bin/python bench/bench_tracking_lights.py [--units 10000] [--indicators 140] [--categories 10]
                         [--months 6] [--milestones 2] [--recompute-units 500] [--requests 30]
    .venv/bin/python bench/bench_tracking_lights.py --existing jixiao_bench --year 2025 --on 2025-12-31

Generates, with SQL straight into the tables, ``--units`` units in ``--categories`` categories,
one published declaration each with ``--indicators`` declared leaves (10,000 × 140 = 1.4 M),
``--milestones`` milestones and ``--months`` submitted monthly reports per leaf, in a throwaway
PostgreSQL database ``<name>_lights_<pid>`` (created and dropped here; DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/jixiao_dev). Then, each timed with wall and CPU time (this
process's; the server's is the difference, roughly) and the load average:

- the old row-by-row recompute (``bench/old_lights.py``) on ``--recompute-units`` units (the whole
  province at its rate would be ~15 minutes, so the slice is scaled, and said so), and the
  set-based ``lights_recompute`` on the same slice, the next day (ratio);
- the set-based recompute of the whole province: first fill, the next day (expected progress
  moves, so most lights change), the same day again (nothing changes), with its split into
  reads, rules, writes; one unit after a report, old and new;
- stored lights for every leaf (SQL), and the lights page of one category requested
  ``--requests`` times by the office through Django's test client: p50/p95 server time and the
  number of queries (target: under 300 ms, constant queries). Prints numbers; not a test.

``--existing NAME`` times the set-based recompute of cycle ``--year`` as of ``--on`` on an existing
database instead (it writes the lights there, twice; nothing is dropped).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/jixiao_dev"
TARGET_MS = 300.0


def _create_database() -> tuple[str, str, str]:
    import psycopg

    url = os.environ.get("DATABASE_URL", "") or DEFAULT_URL
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        raise SystemExit("this benchmark needs PostgreSQL (DATABASE_URL=postgres://…)")
    name = f"{parts.path.lstrip('/') or 'jixiao'}_lights_{os.getpid()}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}")), admin, name


def _generate(units: int, indicators: int, categories: int, months: int, milestones: int) -> int:
    """Registry, framework nodes, declarations, leaves and one report per leaf; return the cycle id."""
    from django.db import connection

    from jixiao.organisation.models import Region, UnitCategory
    from jixiao.schemes.models import Component, Cycle, CycleStage, CycleStatus, IndicatorNode, Scheme

    cycle = Cycle.objects.create(
        year=2026, name="2026年度考核", status=CycleStatus.OPEN, stage=CycleStage.TRACKING
    )
    region = Region.objects.create(code="R", name="全省")
    cats = [UnitCategory.objects.create(code=f"C{i}", name=f"类别{i}", order=i) for i in range(categories)]
    nodes = []
    for cat in cats:
        scheme = Scheme.objects.create(cycle=cycle, category=cat, name=f"{cat.name}方案")
        comp = Component.objects.create(scheme=scheme, code="k", name="重点工作", weight=100)
        nodes.append(
            IndicatorNode.objects.create(scheme=scheme, component=comp, level=1, name="框架", weight=100)
        )
    cat_ids = [c.pk for c in cats]
    node_ids = [n.pk for n in nodes]
    with connection.cursor() as cur:
        cur.execute(
            """INSERT INTO organisation_unit (code, name, short_name, category_id, region_id, is_active)
               SELECT 'U' || g, '单位' || g, '', (%s::int[])[1 + g %% %s], %s, true
               FROM generate_series(1, %s) g""",
            [cat_ids, categories, region.pk, units],
        )
        cur.execute(
            """INSERT INTO declarations_declaration (cycle_id, unit_id, status, version, published_version,
                   updated_at)
               SELECT %s, id, 'published', 1, 1, now() FROM organisation_unit""",
            [cycle.pk],
        )
        cur.execute(
            """INSERT INTO declarations_declaredindicator (declaration_id, uid, parent_id, name, measure,
                   target, target_text, rule_type, rule_params, weight, lead_department_id,
                   evidence_required, kind, is_long_term, is_core, low_ambition, ambition_reason, "order")
               SELECT d.id, gen_random_uuid(), (%s::int[])[array_position(%s::int[], u.category_id)],
                   '指标' || g, '项', 100, '', 'ratio', '{}'::jsonb, 1, NULL, '', 'base', false, true,
                   false, '', g
               FROM declarations_declaration d JOIN organisation_unit u ON u.id = d.unit_id,
                    generate_series(1, %s) g""",
            [node_ids, cat_ids, indicators],
        )
        # Progress rises month by month to mod(id * 37, 100) % in the last month reported.
        cur.execute(
            """INSERT INTO tracking_progressreport (indicator_id, period, progress_percent, narrative,
                   status, grade, quality_comment)
               SELECT id, make_date(2026, m, 1), round(mod(id * 37, 100) * m / %s::numeric, 2), '',
                   'submitted', '', ''
               FROM declarations_declaredindicator, generate_series(1, %s) m""",
            [months, months],
        )
        cur.execute(
            """INSERT INTO declarations_milestone (indicator_id, due, expected_percent, note)
               SELECT id, DATE '2026-01-01' + (364 * j / (%s + 1)), round(100.0 * j / (%s + 1), 2), ''
               FROM declarations_declaredindicator, generate_series(1, %s) j""",
            [milestones, milestones, milestones],
        )
        cur.execute("ANALYZE")
    return cycle.pk


def _store_all_lights(cycle_id: int) -> None:
    """IndicatorLight and UnitLight for every leaf with SQL (colours spread as reports would)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            """INSERT INTO tracking_indicatorlight (indicator_id, cycle_id, unit_id, category_id,
                   lead_department_id, color, expected_percent, reported_percent, reason, as_of)
               SELECT i.id, %s, u.id, u.category_id, NULL,
                   CASE WHEN r.progress_percent < 20 THEN 'red' WHEN r.progress_percent < 35 THEN 'yellow'
                        ELSE 'green' END, 41, r.progress_percent, '', DATE '2026-06-01'
               FROM declarations_declaredindicator i
               JOIN declarations_declaration d ON d.id = i.declaration_id
               JOIN organisation_unit u ON u.id = d.unit_id
               JOIN tracking_progressreport r ON r.indicator_id = i.id
               ON CONFLICT (indicator_id) DO NOTHING""",
            [cycle_id],
        )
        cur.execute(
            """INSERT INTO tracking_unitlight (cycle_id, unit_id, category_id, green, yellow, red, color, as_of)
               SELECT %s, unit_id, min(category_id), count(*) FILTER (WHERE color = 'green'),
                   count(*) FILTER (WHERE color = 'yellow'), count(*) FILTER (WHERE color = 'red'),
                   CASE WHEN bool_or(color = 'red') THEN 'red' WHEN bool_or(color = 'yellow') THEN 'yellow'
                        ELSE 'green' END, DATE '2026-06-01'
               FROM tracking_indicatorlight WHERE cycle_id = %s GROUP BY unit_id
               ON CONFLICT (cycle_id, unit_id) DO NOTHING""",
            [cycle_id, cycle_id],
        )
        cur.execute("ANALYZE")


def _server_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend so far (same machine: /proc)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


class Timer:
    """Wall time of a block, CPU time of this process and of its database backend, and the load
    average at its end (the machine is shared: CPU times compare better than wall times)."""

    def __enter__(self) -> Timer:
        self.wall, self.cpu, self.server = time.perf_counter(), time.process_time(), _server_cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu
        self.server = _server_cpu() - self.server
        self.load = os.getloadavg()[0]

    def __str__(self) -> str:
        return f"{self.wall:.2f} s (CPU: here {self.cpu:.2f} s, server {self.server:.2f} s; load {self.load:.1f})"


def _split() -> dict[str, float]:
    """Wrap the set-based store's steps to add up their wall time (reads, rules, writes)."""
    from jixiao.tracking import lights_store

    spent = {"reads": 0.0, "rules": 0.0, "writes": 0.0, "written": 0.0}
    for name, step in (
        ("read_frame", "reads"),
        ("lights_frame", "rules"),
        ("unit_lights_frame", "rules"),
        ("_write_indicator_lights", "writes"),
        ("_write_unit_lights", "writes"),
    ):
        inner = getattr(lights_store, name)

        def timed(*a: object, _inner: object = inner, _step: str = step, **k: object) -> object:
            t0 = time.perf_counter()
            try:
                result = _inner(*a, **k)  # type: ignore[operator]
            finally:
                spent[_step] += time.perf_counter() - t0
            if _inner.__name__ == "_write_indicator_lights":  # type: ignore[attr-defined]
                spent["written"] += result
            return result

        setattr(lights_store, name, timed)
    return spent


def _whole(cycle: object, on: date, label: str, spent: dict[str, float]) -> Timer:
    from jixiao.tracking.lights import lights_recompute

    for k in spent:
        spent[k] = 0.0
    with Timer() as t:
        n = lights_recompute(cycle=cycle, on=on)  # type: ignore[arg-type]
    written = int(spent["written"])
    # _write_unit_lights reads the stored unit lights too: counted as writes' own read.
    print(f"  set-based, whole cycle, {label}: {n:,} lights, {written:,} written, {t}; "
          f"reads {spent['reads']:.2f} s, rules {spent['rules']:.2f} s, writes {spent['writes']:.2f} s")  # fmt: skip
    return t


def _existing(args: argparse.Namespace) -> None:
    url = os.environ.get("DATABASE_URL", "") or DEFAULT_URL
    os.environ["DATABASE_URL"] = urlunsplit(urlsplit(url)._replace(path=f"/{args.existing}"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jixiao.config.settings")
    import django

    django.setup()
    from jixiao.organisation.models import Unit
    from jixiao.schemes.models import Cycle
    from jixiao.tracking.lights import lights_recompute

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from old_lights import old_lights_recompute

    cycle = Cycle.objects.get(year=args.year)
    on = date.fromisoformat(args.on)
    units = Unit.objects.count()
    print(f"database {args.existing}, cycle {cycle.year}, lights as of {on}, {units:,} units:")
    if args.existing_old_units:
        some = list(Unit.objects.order_by("pk").values_list("pk", flat=True)[: args.existing_old_units])
        with Timer() as old:
            written = old_lights_recompute(cycle=cycle, unit_ids=some, on=on)
        with Timer() as new:
            lights_recompute(cycle=cycle, unit_ids=some, on=on)
        scale = units / len(some)
        print(f"  old row by row, {len(some)} units / {written:,} lights: {old}; the province scaled "
              f"×{scale:.0f} (not run) ≈ {old.wall * scale:.0f} s wall, {old.cpu * scale:.0f} s CPU here")  # fmt: skip
        print(f"  set-based, the same units (nothing changed): {new}")
    spent = _split()
    first = _whole(cycle, on, "first run over the stored lights", spent)
    _whole(cycle, on, "again (nothing changed)", spent)
    if args.existing_old_units:
        print(f"  daily job, old (scaled) / set-based first run: {old.wall * scale / first.wall:.0f}× wall")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--indicators", type=int, default=140, help="declared leaves per unit")
    parser.add_argument("--categories", type=int, default=10)
    parser.add_argument("--months", type=int, default=6, help="monthly reports per leaf")
    parser.add_argument("--milestones", type=int, default=2, help="milestones per leaf")
    parser.add_argument("--recompute-units", type=int, default=500, help="the old path's slice")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--existing", help="time the set-based recompute on this existing database")
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--on", default="2025-12-31")
    parser.add_argument("--existing-old-units", type=int, default=0, help="also time the old path on a slice")
    args = parser.parse_args()
    if args.existing:
        _existing(args)
        return

    url, admin, name = _create_database()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jixiao.config.settings")
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection, connections, transaction
        from django.test import Client
        from django.test.utils import CaptureQueriesContext, setup_test_environment

        from jixiao.accounts.models import Role, User
        from jixiao.organisation.models import Unit, UnitCategory
        from jixiao.schemes.models import Cycle
        from jixiao.tracking.lights import lights_recompute
        from jixiao.tracking.models import ProgressReport

        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from old_lights import old_lights_recompute

        call_command("migrate", verbosity=0)
        t0 = time.perf_counter()
        with transaction.atomic():
            cycle_id = _generate(args.units, args.indicators, args.categories, args.months, args.milestones)
        leaves = args.units * args.indicators
        print(f"database {name}: {args.units:,} units, {leaves:,} declared leaves, "
              f"{leaves * args.milestones:,} milestones, {leaves * args.months:,} reports "
              f"in {time.perf_counter() - t0:.1f} s")  # fmt: skip

        cycle = Cycle.objects.get(pk=cycle_id)
        some = list(Unit.objects.order_by("pk").values_list("pk", flat=True)[: args.recompute_units])
        day = date(2026, 6, 1)
        scale = args.units / len(some)
        old_lights_recompute(cycle=cycle, unit_ids=some, on=day)  # first fill of the slice
        with Timer() as old:
            written = old_lights_recompute(cycle=cycle, unit_ids=some, on=date(2026, 6, 2))
        with Timer() as new:
            lights_recompute(cycle=cycle, unit_ids=some, on=date(2026, 6, 3))
        print(f"slice of {len(some)} units / {written:,} lights, the next day:")
        print(f"  old row by row: {old}; the province at this rate (scaled ×{scale:.0f}, not run): "
              f"≈ {old.wall * scale:.0f} s wall, {(old.cpu + old.server) * scale:.0f} s CPU")  # fmt: skip
        print(f"  set-based:      {new}; ratio old/new {old.wall / new.wall:.1f}× wall, "
              f"{(old.cpu + old.server) / max(new.cpu + new.server, 1e-9):.1f}× CPU (here + server)")  # fmt: skip

        spent = _split()
        print(f"whole province, {args.units:,} units / {leaves:,} lights:")
        _whole(cycle, date(2026, 6, 4), "first fill (the slice's rows updated, the rest inserted)", spent)
        daily = _whole(cycle, date(2026, 6, 5), "the next day (expected progress moved)", spent)
        _whole(cycle, date(2026, 6, 5), "the same day again (nothing changed)", spent)
        print(f"  daily job, old (scaled) / new: {old.wall * scale / daily.wall:.0f}× wall")

        # One unit after a report (the report's write itself not counted).
        unit = some[len(some) // 2]
        report = (
            ProgressReport.objects.filter(indicator__declaration__unit_id=unit).order_by("-period").first()
        )
        assert report is not None
        per_unit: dict[str, list[float]] = {"old": [], "new": []}
        for n in range(6):
            ProgressReport.objects.filter(pk=report.pk).update(progress_percent=n * 10)
            with Timer() as t:
                if n % 2:
                    old_lights_recompute(cycle=cycle, unit_ids=[unit], on=date(2026, 6, 5))
                else:
                    lights_recompute(cycle=cycle, unit_ids=[unit], on=date(2026, 6, 5))
            per_unit["old" if n % 2 else "new"].append(t.wall * 1000)
        print(f"one unit after a report ({args.indicators} lights): old {statistics.median(per_unit['old']):.0f} ms, "
              f"set-based {statistics.median(per_unit['new']):.0f} ms (medians of 3; load {os.getloadavg()[0]:.1f})")  # fmt: skip

        _store_all_lights(cycle_id)
        setup_test_environment()
        settings.ALLOWED_HOSTS = ["*"]
        settings.JIXIAO_OTP_REQUIRED_ROLES = []  # force_login gives no second factor
        settings.JIXIAO_PASSWORD_MAX_AGE_DAYS = 0
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        office = User.objects.create(username="office", role=Role.OFFICE)
        client = Client()
        client.force_login(office)
        category = UnitCategory.objects.order_by("pk").first()
        assert category is not None
        url_path = f"/tracking/lights/?year=2026&category={category.pk}"
        times: list[float] = []
        counts: set[int] = set()
        for n in range(args.requests + 2):
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                response = client.get(url_path)
                elapsed = (time.perf_counter() - t0) * 1000
            assert response.status_code == 200, response.status_code
            if n >= 2:  # two warm-up requests
                times.append(elapsed)
                counts.add(len(ctx.captured_queries))
        times.sort()
        p50 = statistics.median(times)
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        per_category = Unit.objects.filter(category=category).count()
        print(f"lights page, one category ({per_category:,} units, {per_category * args.indicators:,} leaves): "
              f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, queries {sorted(counts)} — target < {TARGET_MS:.0f} ms: "
              f"{'OK' if p95 < TARGET_MS else 'MISSED'}")  # fmt: skip
        connections.close_all()
    finally:
        import psycopg

        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
