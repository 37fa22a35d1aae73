"""Benchmark: sustained public survey submissions through gunicorn + PostgreSQL, against a bare
"validate and insert one row" view measured in the same run.

    uv run python bench/bench_survey_submit.py [--duration 12] [--connections 16] [--workers 2]

Creates a throwaway PostgreSQL database on 127.0.0.1 (``--admin-url``, default
postgres://postgres@127.0.0.1:5432/postgres), migrates and seeds it, starts gunicorn (sync workers,
CONN_MAX_AGE=60, settings bench/survey_bench_settings.py) on a free loopback port, drives it with wrk
(``apt-get install -y wrk``) for a bounded time, prints submissions/s and latency percentiles, then
stops gunicorn and drops the database. Prints numbers; it is not a test.

Every survey request carries a different signed device cookie, so each one is a real first answer
that passes the device bucket and the duplicate constraint (one INSERT); the per-address limit is
set out of reach because every request comes from 127.0.0.1, but the limiter still runs. The load
generator shares the machine's cores with gunicorn and PostgreSQL: compare the ratio, not the
absolute numbers, across machines.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path[:0] = [str(ROOT / "src"), str(BENCH)]

MAX_DURATION = 15
WARMUP = 2
RUN_OFFSET = 100_000  # cookie index where the measured runs start (the warm-up uses the ones before)
ROUNDS = 3

LUA = r"""
local threads = {}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  nthreads = tonumber(args[1])
  path = args[2]
  mode = args[3]
  offset = tonumber(args[5])
  cookies = {}
  if mode == "survey" then
    for line in io.lines(args[4]) do cookies[#cookies + 1] = line end
  end
  i = offset + tid
  statuses = {}
end
function request()
  i = i + nthreads
  if mode == "survey" then
    local body = "q_overall=" .. (i % 5) .. "&q_speed=" .. ((i * 7) % 5) .. "&q_attitude=" .. ((i * 3) % 5)
    if i % 3 == 0 then body = body .. "&tag=%E6%80%81%E5%BA%A6%E7%83%AD%E6%83%85" end
    if i % 10 == 0 then body = body .. "&opinion=%E7%AA%97%E5%8F%A3%E6%9C%8D%E5%8A%A1%E5%BE%88%E5%A5%BD" end
    return wrk.format("POST", path, {["Content-Type"] = "application/x-www-form-urlencoded",
      ["Cookie"] = "jx_dev=" .. cookies[(i % #cookies) + 1]}, body)
  end
  return wrk.format("POST", path, {["Content-Type"] = "application/x-www-form-urlencoded"}, "score=" .. (i % 101))
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses")) do merged[tostring(code)] = (merged[tostring(code)] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(merged) do parts[#parts + 1] = string.format('"%s": %d', code, n) end
  io.write(string.format('RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "socket_errors": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, table.concat(parts, ", ")))
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _create_database(admin_url: str) -> tuple[str, str]:
    import psycopg

    parts = urlsplit(admin_url)
    name = f"jixiao_survey_bench_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, urlunsplit(parts._replace(path=f"/{name}"))


def _drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _seed(devices: int, cookie_file: Path) -> str:
    """Migrate, create one unit with one survey link (3 questions), the baseline table and the
    signed device cookies; return the link's token."""
    import django

    django.setup()
    from django.core import signing
    from django.core.management import call_command
    from django.db import connection
    from survey_bench_urls import BARE_TABLE

    from jixiao.organisation.models import Region, Unit, UnitCategory
    from jixiao.schemes.models import Cycle
    from jixiao.surveys.antiabuse import DEVICE_COOKIE, DEVICE_SALT
    from jixiao.surveys.models import Survey, SurveyQuestion, SurveyTarget

    call_command("migrate", verbosity=0)
    unit = Unit.objects.create(
        code="B001",
        name="政务服务中心",
        category=UnitCategory.objects.create(code="C", name="政务部门"),
        region=Region.objects.create(code="R", name="州本级"),
    )
    survey = Survey.objects.create(
        cycle=Cycle.objects.create(year=2025, name="2025年度"), title="政务服务满意度"
    )
    for order, (item, text) in enumerate([("overall", "总体"), ("speed", "效率"), ("attitude", "态度")]):
        SurveyQuestion.objects.create(survey=survey, item=item, text=text, order=order)
    target = SurveyTarget.objects.create(survey=survey, unit=unit, token="benchlink001")
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {BARE_TABLE} (id bigserial PRIMARY KEY, score integer NOT NULL, created_at timestamptz NOT NULL)"
        )
    # Exactly what HttpResponse.set_signed_cookie writes.
    signer = signing.get_cookie_signer(salt=DEVICE_COOKIE + DEVICE_SALT)
    cookie_file.write_text("\n".join(signer.sign(f"benchdevice{i:08d}") for i in range(devices)) + "\n")
    connection.close()
    return target.token


def _wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited early")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not become ready")


def _wrk(
    base: str, path: str, mode: str, cookies: Path, offset: int, seconds: int, threads: int, connections: int
) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA)
    try:
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", script.name, base + path,
             "--", str(threads), path, mode, str(cookies), str(offset)],
            check=True, capture_output=True, text=True, timeout=seconds + 30,
        ).stdout  # fmt: skip
    finally:
        os.unlink(script.name)
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    result["rate"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def _merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Total rate over the rounds; the worst round's latency percentiles (conservative)."""
    statuses: dict[str, int] = {}
    for r in runs:
        for code, n in r["statuses"].items():
            statuses[code] = statuses.get(code, 0) + n
    merged = {key: max(r[key] for r in runs) for key in ("p50_us", "p90_us", "p99_us", "max_us")}
    requests = sum(r["requests"] for r in runs)
    seconds = sum(r["duration_us"] for r in runs) / 1e6
    rounds = ", ".join(f"{r['rate']:.0f}/s p99 {r['p99_us'] / 1000:.1f} ms" for r in runs)
    return {**merged, "requests": requests, "rate": requests / seconds, "statuses": statuses,
            "socket_errors": sum(r["socket_errors"] for r in runs), "rounds": rounds}  # fmt: skip


def _count(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return int(cursor.fetchone()[0])


def _show(label: str, r: dict[str, Any]) -> None:
    print(
        f"{label:<34} {r['rate']:8.0f} req/s   p50 {r['p50_us'] / 1000:6.1f} ms   p90 {r['p90_us'] / 1000:6.1f} ms   "
        f"p99 {r['p99_us'] / 1000:6.1f} ms   max {r['max_us'] / 1000:6.1f} ms   statuses {r['statuses']}   socket errors {r['socket_errors']}"
    )
    print(f"{'':<34} rounds: {r['rounds']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=int, default=12, help=f"seconds per measured run (≤ {MAX_DURATION})"
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if not 1 <= args.duration <= MAX_DURATION:
        raise SystemExit(f"--duration must be 1..{MAX_DURATION}")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")

    name, url = _create_database(args.admin_url)
    os.environ.update(
        {"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "survey_bench_settings", "DB_CONN_MAX_AGE": "60"}
    )
    cookies = Path(tempfile.mkstemp(prefix="jixiao-bench-cookies-", suffix=".txt")[1])
    proc: subprocess.Popen[bytes] | None = None
    try:
        token = _seed(RUN_OFFSET * 2, cookies)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-k", "sync", "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
             "--pythonpath", f"{BENCH},{ROOT / 'src'}", "--log-level", "warning", "--backlog", "2048",
             "jixiao.config.wsgi:application"],
            env={**os.environ}, cwd=str(ROOT),
        )  # fmt: skip
        _wait_ready(base, proc)
        survey_path = f"/surveys/s/{token}/"
        common = {"cookies": cookies, "threads": args.threads, "connections": args.connections}
        _wrk(base, survey_path, "survey", offset=0, seconds=WARMUP, **common)  # type: ignore[arg-type]
        _wrk(base, "/bench/bare/", "bare", offset=0, seconds=WARMUP, **common)  # type: ignore[arg-type]
        before_survey, before_bare = _count("surveys_surveyresponse"), _count("bench_bare_row")
        # Alternate short runs so that load from anything else on the machine hits both alike.
        survey_runs: list[dict[str, Any]] = []
        bare_runs: list[dict[str, Any]] = []
        slice_seconds = max(1, args.duration // ROUNDS)
        for round_ in range(ROUNDS):
            offset = RUN_OFFSET + round_ * RUN_OFFSET // ROUNDS
            survey_runs.append(
                _wrk(base, survey_path, "survey", offset=offset, seconds=slice_seconds, **common)
            )  # type: ignore[arg-type]
            bare_runs.append(_wrk(base, "/bench/bare/", "bare", offset=0, seconds=slice_seconds, **common))  # type: ignore[arg-type]
        survey, bare = _merge(survey_runs), _merge(bare_runs)
        inserted_survey = _count("surveys_surveyresponse") - before_survey
        inserted_bare = _count("bench_bare_row") - before_bare
        from django.db import connection

        connection.close()
        print(
            f"gunicorn sync ×{args.workers}, CONN_MAX_AGE=60, PostgreSQL {name}; wrk -t{args.threads} -c{args.connections} "
            f"{ROUNDS}×{max(1, args.duration // ROUNDS)}s each, alternating, on {os.cpu_count()} cores (shared by wrk, gunicorn and PostgreSQL)"
        )
        _show("survey submit (POST → 302)", survey)
        _show("bare validate + INSERT (baseline)", bare)
        print(
            f"rows inserted: survey {inserted_survey} (responses 302: {survey['statuses'].get('302', 0)}), bare {inserted_bare}"
        )
        print(f"ratio survey / bare: {survey['rate'] / bare['rate']:.2f}")
        target_ok = survey["rate"] >= 1000 and survey["p99_us"] < 50_000
        print(f"target ≥1,000/s and p99 < 50 ms: {'met' if target_ok else 'NOT met'}")
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        cookies.unlink(missing_ok=True)
        _drop_database(args.admin_url, name)


if __name__ == "__main__":
    main()
