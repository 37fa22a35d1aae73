"""Benchmark the office's tracking pages at province scale: the lights page of one category and the
monthly ranking of that category. Prints p50/p95 server time and the query count of each.

Run: ``.venv/bin/python bench/bench_tracking_pages.py [--database postgres://…/jixiao_bench_tracking]
[--generate] [--runs 30] [--category CODE]``.

With ``--generate`` the database is recreated, migrated and filled with the province *and its
year of tracking* (``jixiao generate --scale province --tracking``: 10,000 units, 1.4 M declared
leaves, ~17 M monthly reports, the lights; in a subprocess, its time printed); without it the
database must hold that already (e.g. the one ``--generate --keep`` left). The scored cycle is
2025 (the generator's tracking cycle at province scale). The category defaults to the one with the
most units.

Each page is requested through Django's test client in this process as the office, after two
warm-up requests; the time is the server's (request → response, no network), the query count is
Django's (``CaptureQueriesContext``), which must be the same in every run — a count that grows
with the data would show here as a spread. The monthly ranking is computed first when the cycle
has none for the category (``tracking.ranking.rankings_compute``, timed), with the cycle's stage
moved to 过程跟踪 for the computation when the ranking service refuses the 年度评价 stage.

The pages come from the tracking (``tracking:lights``) and race (``race:ranking_detail``)
branches; on a tree without them the script says which URL is missing and skips that page.
Goal of issue 9: under 300 ms server time with a constant number of queries. Timings are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import urlparse, urlunparse

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/jixiao_bench_tracking"
YEAR = 2025
GOAL_MS = 300.0


def _admin_url(url: str) -> tuple[str, str]:
    parts = urlparse(url)
    name = parts.path.lstrip("/")
    if not name or parts.scheme not in ("postgres", "postgresql"):
        raise SystemExit(f"--database must be a PostgreSQL URL with a database name, got {url!r}")
    return urlunparse(parts._replace(path="/postgres")), name


def _recreate(url: str) -> None:
    import psycopg
    from psycopg import sql

    admin, name = _admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _generate(env: dict[str, str], seed: int) -> None:
    cli = [sys.executable, "-m", "jixiao.cli"]
    subprocess.run([*cli, "migrate", "-v0"], env=env, check=True)
    started = time.perf_counter()
    out = subprocess.run(
        [*cli, "generate", "--scale", "province", "--seed", str(seed), "--tracking"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    for line in out.stdout.splitlines():
        if "province_tracking" in line or "ProgressReport" in line or "DeclaredIndicator" in line:
            print(f"    {line.strip()}")
    print(f"  generate --scale province --tracking: {time.perf_counter() - started:.1f} s")


def _measure(label: str, get: Callable[[], Any], runs: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):  # warm-up: template and URL caches, connection
        response = get()
        if response.status_code != 200:
            print(f"  {label}: HTTP {response.status_code}, skipped")
            return
    times: list[float] = []
    queries: set[int] = set()
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = get()
            times.append((time.perf_counter() - started) * 1000)
        queries.add(len(captured.captured_queries))
    times.sort()
    p50 = statistics.median(times)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    count = ", ".join(str(q) for q in sorted(queries))
    verdict = "ok" if p95 < GOAL_MS and len(queries) == 1 else "over the goal"
    print(
        f"  {label:40} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  queries {count}"
        f"  ({runs} runs; goal p95 < {GOAL_MS:.0f} ms, constant queries: {verdict})"
    )


def _ranking_pk(cycle: Any, category: Any, office: Any) -> int | None:
    """The category's latest monthly ranking of the cycle, computed for December if none."""
    try:
        from jixiao.tracking import ranking
        from jixiao.tracking.models import MonthlyRanking
    except ImportError:
        print("  monthly ranking: the ranking service is not on this tree, skipped")
        return None
    existing = MonthlyRanking.objects.filter(cycle=cycle, category=category).order_by("-period").first()
    if existing is not None:
        return int(existing.pk)
    from jixiao.schemes.models import CycleStage

    stage = cycle.stage
    if stage not in getattr(ranking, "RANKING_STAGES", (stage,)):
        type(cycle).objects.filter(pk=cycle.pk).update(stage=CycleStage.TRACKING)
        cycle.refresh_from_db()
    started = time.perf_counter()
    stored = ranking.rankings_compute(
        cycle=cycle, period=ranking.month(date(YEAR, 12, 1)), actor=office, category=category
    )
    print(f"  rankings_compute (December, one category): {time.perf_counter() - started:.1f} s")
    return int(stored[0].pk) if stored else None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument(
        "--generate", action="store_true", help="recreate the database and generate the province"
    )
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--category", default="", help="unit category code (default: the one with most units)"
    )
    args = parser.parse_args()

    env = {**os.environ, "DATABASE_URL": args.database, "DJANGO_SETTINGS_MODULE": "jixiao.config.settings"}
    if args.generate:
        _recreate(args.database)
        _generate(env, args.seed)
    os.environ.update(env)
    os.environ.setdefault("JIXIAO_OTP_REQUIRED_ROLES", "")

    import django

    django.setup()
    from django.conf import settings
    from django.db.models import Count
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from jixiao.accounts.models import Role, User
    from jixiao.organisation.models import UnitCategory
    from jixiao.schemes.models import Cycle
    from jixiao.tracking.models import IndicatorLight, UnitLight

    settings.ALLOWED_HOSTS = ["*"]
    settings.JIXIAO_OTP_REQUIRED_ROLES = []  # force_login gives no second factor (as in the tests)
    cycle = Cycle.objects.get(year=YEAR)
    categories = UnitCategory.objects.annotate(n=Count("units")).order_by("-n", "order")
    category = categories.get(code=args.category) if args.category else categories.first()
    assert category is not None
    lights = IndicatorLight.objects.filter(cycle=cycle).count()
    unit_lights = UnitLight.objects.filter(cycle=cycle, category=category).count()
    print(
        f"cycle {cycle.year}, category {category.code} ({category.n:,} units, {unit_lights:,} unit lights);"
        f" {lights:,} indicator lights in the cycle"
    )
    office = User.objects.filter(role=Role.OFFICE, is_active=True).order_by("pk").first()
    if office is None:
        office = User.objects.create_user(username="bench-office", password=None, role=Role.OFFICE)
    client = Client()
    client.force_login(office)

    try:
        url = reverse("tracking:lights")
    except NoReverseMatch:
        print("  lights page: no URL named tracking:lights on this tree, skipped")
    else:
        query = {"year": str(YEAR), "category": str(category.pk)}
        _measure("lights page (one category, page 1)", lambda: client.get(url, query), args.runs)
        _measure(
            "lights page (one category, page 20)", lambda: client.get(url, {**query, "page": "20"}), args.runs
        )

    pk = _ranking_pk(cycle, category, office)
    if pk is not None:
        try:
            url = reverse("race:ranking_detail", args=[pk])
        except NoReverseMatch:
            print("  monthly ranking: no URL named race:ranking_detail on this tree, skipped")
        else:
            _measure("monthly ranking (one category, page 1)", lambda: client.get(url), args.runs)
            _measure(
                "monthly ranking (one category, page 20)", lambda: client.get(url, {"page": "20"}), args.runs
            )
        try:
            url = reverse("race:ranking_list")
        except NoReverseMatch:
            pass
        else:
            _measure("monthly rankings list", lambda: client.get(url, {"year": str(YEAR)}), args.runs)
    print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f}")


if __name__ == "__main__":
    main()
