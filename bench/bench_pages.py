"""Benchmark the pages every role reaches, at province (or prefecture) scale, from PostgreSQL.

Run: ``uv run python bench/bench_pages.py --scale province [--database postgres://…/jixiao_pages]
[--reuse] [--keep] [--requests 5]``.

Creates a throwaway database (dropped at the end unless ``--keep``; ``--reuse`` takes it as it is),
migrates it and generates the world (``jixiao generate`` in a subprocess, as
``bench_compute.py`` does, whose helpers it reuses), scores the 2025 cycle
(``results.services.run_compute``) unless it already has a run, then for each demo account
(``demo/accounts.py``: the office, the auditor, the leader, the two liaisons, the lead department,
the official) requests every page of its navigation (``web.context_processors.nav_links``), the
raw-ratings lists of those who read them, the lists of the 2025 cycle by year, the officials'
ranking of the largest category and one breakdown (``/results/entity/<id>/``) it may read.

The requests are served **in process** by Django's test ``Client`` with ``force_login``, not by
gunicorn: the office's second factor is marked as passed in its session (django-otp's device key,
as after a real code), the requirement (``JIXIAO_OTP_REQUIRED_ROLES``) is off for this process as
in the test suite, static files are not collected (plain storage), and the SQL queries are counted exactly
(``CaptureQueriesContext``) without a debug header. The time is therefore the server time of one
request (view, templates, queries), without the network and the WSGI server.

Prints per page: median and p95 wall time, CPU time (``time.process_time``: this process only,
not PostgreSQL's), bytes and SQL queries, the worst page last, with the load average at the start
and the end (the machine is shared). Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_compute import _generate, _load, _recreate

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/jixiao_pages"
YEAR = 2025
# The demo accounts with appraisal work (the three administrators see no appraisal data).
USERNAMES = ("kaohe", "shenji", "lingdao", "liaison1", "liaison2", "tongji", "ganbu")


@dataclass
class Sample:
    page: str
    who: str
    status: int = 0
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    size: int = 0
    queries: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def p95(self) -> float:
        ordered = sorted(self.wall)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _setup_django(database: str) -> None:
    os.environ["DATABASE_URL"] = database
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jixiao.config.settings")
    import django

    django.setup()
    from django.conf import settings

    # force_login gives no second factor: the requirement is off in this process (as in tests).
    settings.JIXIAO_OTP_REQUIRED_ROLES = []
    # The static files are not collected for a benchmark (no manifest): plain URLs, as in tests.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def _analyze() -> None:
    """Refresh the planner's statistics, as autovacuum does some time after a bulk load: the plans
    (and the score list's estimated total) of a fresh database would otherwise be a guess."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"  ANALYZE {time.perf_counter() - started:.1f} s")


def _score_cycle(recompute: bool) -> None:
    from jixiao.results.models import ScoringRun
    from jixiao.results.services import run_compute
    from jixiao.schemes.models import Cycle

    cycle = Cycle.objects.get(year=YEAR)
    run = ScoringRun.objects.filter(cycle=cycle).order_by("-number").first()
    if run is not None and not recompute:
        print(f"  cycle {YEAR} already scored (run {run.number})")
    else:
        started, cpu = time.perf_counter(), time.process_time()
        run = run_compute(cycle=cycle, actor=None, note="bench_pages")
        wall = time.perf_counter() - started
        print(
            f"  run_compute {YEAR}: run {run.number}, {wall:.1f} s wall, {time.process_time() - cpu:.1f} s CPU"
        )
    _store_blocks(run)


def _store_blocks(run: Any) -> None:
    """What the scoring job does after ``run_compute``: the run's explanation blocks (the first
    breakdown reads one instead of the run's frames)."""
    from jixiao.results.explanation_blocks import blocks_store
    from jixiao.results.models import ExplanationBlock

    if ExplanationBlock.objects.filter(run=run).exists():
        return
    started, cpu = time.perf_counter(), time.process_time()
    n = blocks_store(run=run)
    wall = time.perf_counter() - started
    print(f"  explanation blocks: {n}, {wall:.1f} s wall, {time.process_time() - cpu:.1f} s CPU")
    from jixiao.results import selectors

    # The benchmark's process read the frames to write the blocks: forget them, as a web
    # process that did not compute the run never had them.
    selectors._explainer.cache_clear()


def _pages(user: Any) -> list[tuple[str, str]]:
    """(label, url) of every page to request for ``user``."""
    from django.db.models import Count
    from django.urls import reverse

    from jixiao.accounts.permissions import sees_raw_ratings
    from jixiao.facts.selectors import may_see_entry_grids
    from jixiao.results import selectors as results
    from jixiao.results.models import EntityResult
    from jixiao.schemes.models import Cycle
    from jixiao.web.context_processors import nav_links

    pages = [(url, url) for url, _label in nav_links(user)]
    y = f"?year={YEAR}"
    if sees_raw_ratings(user):
        pages += [(f"{reverse('facts:score_list')}{y}",) * 2, (f"{reverse('facts:vote_list')}{y}",) * 2]
    if may_see_entry_grids(user):
        pages.append((f"{reverse('facts:indicator_list')}{y}",) * 2)
    pages.append((f"{reverse('facts:adjustment_list')}{y}",) * 2)
    run = results.latest_run(cycle=Cycle.objects.get(year=YEAR))
    if run is None:
        return pages
    ranking = reverse("results:ranking")
    pages.append((f"{ranking}{y}",) * 2)
    visible = results.visible_results(user=user, run=run)
    if results.may_see_rankings(user):
        largest = (
            EntityResult.objects.filter(run=run, subject="official")
            .values("category")
            .order_by()
            .annotate(n=Count("id"))
            .order_by("-n")
            .first()
        )
        if largest:
            category = largest["category"]
            pages.append(
                (
                    f"{ranking}{y}&subject=official&category={category} ({largest['n']:,})",
                    f"{ranking}{y}&subject=official&category={category}",
                )
            )
            visible = visible.filter(category=category)
    first = visible.order_by("rank", "pk").first()
    if first is not None:
        pages.append(("/results/entity/<id>/", reverse("results:breakdown", args=[first.pk])))
    return pages


def _verify_second_factor(client: Any, user: Any) -> None:
    """Mark the session as having passed the second factor (django-otp's session key), as a
    login with the one-time code would: the office's demo account has a TOTP device."""
    from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user

    device = next(iter(devices_for_user(user, confirmed=True)), None)
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()


def _measure_user(username: str, requests: int) -> list[Sample]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from jixiao.accounts.models import User

    user = User.objects.filter(username=username).first()
    if user is None:
        print(f"  (no account {username})")
        return []
    client = Client()
    client.force_login(user)
    _verify_second_factor(client, user)
    out = []
    for label, url in _pages(user):
        sample = Sample(page=label, who=f"{username}/{user.role}")
        for i in range(requests):
            started, cpu = time.perf_counter(), time.process_time()
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
                body = b"".join(response.streaming_content) if response.streaming else response.content
            sample.wall.append(time.perf_counter() - started)
            sample.cpu.append(time.process_time() - cpu)
            if i == 0 and response.status_code in (301, 302):
                print(f"    {url} → {response.get('Location')}")
            if i == 0:
                sample.status, sample.size, sample.queries = response.status_code, len(body), len(queries)
        out.append(sample)
        print(
            f"    {sample.who:22} {sample.page[:70]:70} {sample.status} {sample.median * 1000:8.0f} ms",
            flush=True,
        )
    return out


def _table(samples: list[Sample]) -> None:
    print()
    print("| page | who | status | median ms | p95 ms | CPU ms (median) | KB | queries |")
    print("|---|---|---|---|---|---|---|---|")
    for s in sorted(samples, key=lambda s: s.p95):
        print(
            f"| `{s.page}` | {s.who} | {s.status} | {s.median * 1000:.0f} | {s.p95 * 1000:.0f} "
            f"| {statistics.median(s.cpu) * 1000:.0f} | {s.size / 1024:.0f} | {s.queries} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", choices=("tiny", "prefecture", "province"), default="province")
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--requests", type=int, default=5, help="requests per page (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the database (and reuse it next time)")
    parser.add_argument("--reuse", action="store_true", help="use the database as it is (no generation)")
    parser.add_argument("--recompute", action="store_true", help="score the cycle even if it has a run")
    parser.add_argument("--only", default="", help="comma-separated usernames (default: every role)")
    args = parser.parse_args(argv)

    env = {**os.environ, "DATABASE_URL": args.database, "DJANGO_SETTINGS_MODULE": "jixiao.config.settings"}
    print(f"database {args.database} · scale {args.scale} · seed {args.seed} · load {_load()}")
    if not args.reuse:
        _recreate(args.database)
        _generate(args.scale, args.seed, env)
    try:
        _setup_django(args.database)
        _score_cycle(args.recompute)
        _analyze()
        started = _load()
        samples: list[Sample] = []
        for username in args.only.split(",") if args.only else USERNAMES:
            samples += _measure_user(username, args.requests)
        print(f"\nscale {args.scale} · {args.requests} requests per page · in process (Django test Client)")
        print(f"load average at start {started} · at end {_load()}")
        _table(samples)
    finally:
        if not args.keep and not args.reuse:
            from django.db import connections

            connections.close_all()
            _recreate(args.database, drop_only=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
