"""Benchmark scoring from the UI: enqueue → done through the real job runner, against calling
``run_compute`` directly in the same run.

Run: ``uv run python bench/bench_ui_compute.py [--scale prefecture|province] [--database URL] [--reuse]``.

With a PostgreSQL ``--database`` (default ``postgres://postgres@127.0.0.1:5432/jixiao_bench_ui``)
the database is created, migrated and filled with the demo world (``jixiao generate`` in a
subprocess) and dropped at the end unless ``--keep``; ``--reuse`` measures a database as it is (for
example a demo's SQLite file: ``--database sqlite:////path/var/jixiao.sqlite3 --reuse``). Then, for
the latest cycle with facts, it prints:

- the pre-flight check (``results.preflight.preflight``), which the job also runs first;
- ``results.services.run_compute`` called directly (the floor, measured in the same run);
- the UI path: ``jobs.services.job_start`` (what 开始计分 calls) with a ``jixiao worker`` started as a
  separate process, polling the job row as the page does, until the job has finished; the stages
  seen with the time each appeared;
- the ratio UI / direct and the overhead in seconds (best of ``--repeat`` each: the first direct
  run also pays for the process's cold imports and caches).

Timings are printed, never asserted. Each measured run adds a scoring run to the database.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from urllib.parse import urlparse, urlunparse

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/jixiao_bench_ui"
POLL = 0.2  # seconds between polls of the job row (the page polls every 2 s)
TIMEOUT = 1800


def _postgres(url: str) -> bool:
    return urlparse(url).scheme in ("postgres", "postgresql")


def _recreate(url: str, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = urlunparse(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _generate(scale: str, seed: int, env: dict[str, str]) -> None:
    cli = [sys.executable, "-m", "jixiao.cli"]
    subprocess.run([*cli, "migrate", "-v0"], env=env, check=True)
    started = time.perf_counter()
    subprocess.run(
        [*cli, "generate", "--scale", scale, "--seed", str(seed)], env=env, check=True, capture_output=True
    )
    print(f"  generation with facts (subprocess)         {time.perf_counter() - started:8.2f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", choices=("tiny", "prefecture", "province"), default="prefecture")
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each path (best is reported)")
    parser.add_argument("--keep", action="store_true", help="keep the generated database")
    parser.add_argument("--reuse", action="store_true", help="use the database as it is (no generation)")
    args = parser.parse_args(argv)
    env = {**os.environ, "DATABASE_URL": args.database, "DJANGO_SETTINGS_MODULE": "jixiao.config.settings"}
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")})
    print(f"database {args.database} · scale {args.scale if not args.reuse else '(as it is)'}")
    if not args.reuse:
        if not _postgres(args.database):
            raise SystemExit("generation needs a PostgreSQL --database; use --reuse for an existing file")
        _recreate(args.database)
        _generate(args.scale, args.seed, env)
    try:
        _measure(args, env)
    finally:
        if not args.keep and not args.reuse:
            from django.db import connections

            connections.close_all()
            _recreate(args.database, drop_only=True)
    return 0


def _measure(args: argparse.Namespace, env: dict[str, str]) -> None:
    import django

    django.setup()
    from jixiao.facts.models import IndicatorResult
    from jixiao.jobs.models import Job, JobKind, JobStatus
    from jixiao.jobs.services import job_start
    from jixiao.results.preflight import preflight
    from jixiao.results.services import run_compute
    from jixiao.schemes.models import Cycle, CycleStatus

    cycle = (
        Cycle.objects.exclude(status=CycleStatus.CLOSED)
        .filter(pk__in=IndicatorResult.objects.values("cycle_id"))
        .order_by("-year")
        .first()
    )
    if cycle is None:
        raise SystemExit("no open cycle with facts in the database")
    print(f"cycle {cycle.year}")
    started = time.perf_counter()
    problems = preflight(cycle)
    print(f"  pre-flight check ({len(problems)} problems)          {time.perf_counter() - started:8.2f} s")
    errors = [p.message for p in problems if p.is_error]
    if errors:
        raise SystemExit("pre-flight errors:\n" + "\n".join(errors))

    direct: list[float] = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        run = run_compute(cycle=cycle, actor=None, note="bench direct")
        direct.append(time.perf_counter() - started)
        print(f"  run_compute direct ({run.entity_count} entities)     {direct[-1]:8.2f} s")

    worker = subprocess.Popen(
        [sys.executable, "-m", "jixiao.cli", "worker", "--no-periodic", "--interval", "0.2"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    ui: list[float] = []
    try:
        # Wait until the worker has imported Django, as it has long before anyone clicks.
        assert worker.stdout is not None
        while "started" not in (line := worker.stdout.readline()):
            if not line:
                raise SystemExit("the worker did not start")
        for _ in range(args.repeat):
            started = time.perf_counter()
            job = job_start(kind=JobKind.COMPUTE, actor=None, cycle=cycle, params={"note": "bench ui"})
            seen: list[tuple[float, str]] = []
            while True:
                row = Job.objects.values("status", "stage", "progress", "message").get(pk=job.pk)
                stage = f"{row['progress']:3d}% {row['stage']}"
                if not seen or seen[-1][1] != stage:
                    seen.append((time.perf_counter() - started, stage))
                if row["status"] in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                    break
                if time.perf_counter() - started > TIMEOUT:
                    raise SystemExit("the job did not finish in time")
                time.sleep(POLL)
            ui.append(time.perf_counter() - started)
            for at, stage in seen:
                print(f"    {at:7.2f} s  {stage}")
            print(f"  UI job enqueue → done ({row['status']})          {ui[-1]:8.2f} s  {row['message']}")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    best_direct, best_ui = min(direct), min(ui)
    print(f"ratio UI / direct {best_ui / best_direct:.2f} · overhead {best_ui - best_direct:+.2f} s")


if __name__ == "__main__":
    raise SystemExit(main())
