"""Benchmark: the office's lights page for one category at province scale, and recomputing lights.

    .venv/bin/python bench/bench_tracking_lights.py [--units 10000] [--indicators 140] [--categories 10]
                                                    [--recompute-units 500] [--requests 30]

Generates, with SQL straight into the tables, ``--units`` units in ``--categories`` categories,
one published declaration each with ``--indicators`` declared leaves (10,000 × 140 = 1.4 M), one
submitted report per leaf, in a throwaway PostgreSQL database ``<name>_lights_<pid>`` (created
and dropped here; DATABASE_URL, default postgres://postgres@127.0.0.1:5432/jixiao_dev). Then:

- ``lights_recompute`` for ``--recompute-units`` units (the after-report path does one unit; the
  daily job all of them: the per-unit rate is printed with its extrapolation);
- stored lights for every leaf (SQL), and the lights page of one category requested
  ``--requests`` times by the office through Django's test client: p50/p95 server time and the
  number of queries (target: under 300 ms, constant queries). Prints numbers; not a test.
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


def _generate(units: int, indicators: int, categories: int) -> int:
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
        cur.execute(
            """INSERT INTO tracking_progressreport (indicator_id, period, progress_percent, narrative,
                   status, grade, quality_comment)
               SELECT id, DATE '2026-05-01', mod(id * 37, 100), '', 'submitted', '', ''
               FROM declarations_declaredindicator"""
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--indicators", type=int, default=140, help="declared leaves per unit")
    parser.add_argument("--categories", type=int, default=10)
    parser.add_argument("--recompute-units", type=int, default=500)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()

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

        call_command("migrate", verbosity=0)
        t0 = time.perf_counter()
        with transaction.atomic():
            cycle_id = _generate(args.units, args.indicators, args.categories)
        leaves = args.units * args.indicators
        print(f"database {name}: {args.units:,} units, {leaves:,} declared leaves and reports "
              f"in {time.perf_counter() - t0:.1f} s")  # fmt: skip

        cycle = Cycle.objects.get(pk=cycle_id)
        some = list(Unit.objects.order_by("pk").values_list("pk", flat=True)[: args.recompute_units])
        t0 = time.perf_counter()
        written = lights_recompute(cycle=cycle, unit_ids=some, on=date(2026, 6, 1))
        seconds = time.perf_counter() - t0
        one = time.perf_counter()
        lights_recompute(cycle=cycle, unit_ids=some[:1], on=date(2026, 6, 1))
        one = time.perf_counter() - one
        print(f"lights_recompute: {len(some)} units / {written:,} leaves in {seconds:.2f} s "
              f"({written / seconds:,.0f} leaves/s; all {leaves:,} ≈ {leaves / written * seconds:.0f} s "
              f"in the daily job); one unit after a report: {one * 1000:.0f} ms")  # fmt: skip

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
