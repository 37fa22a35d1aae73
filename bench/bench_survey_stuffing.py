"""Benchmark-style figure: N scripted browser sessions (fresh cookies each) answer one survey link
from one address through a live gunicorn on loopback → how many are counted, how many are marked
suspect, and how many reach the facts; then the same from N distinct addresses.

    .venv/bin/python bench/bench_survey_stuffing.py [--sessions 40] [--workers 2] [--max-seconds 120]

Uses a throwaway SQLite database in a temporary directory (or ``--database postgres://…`` for an
empty database you own), migrates it, creates one unit, one survey with the default limits
(5 answers per address per link per 24 h) and its link, starts gunicorn (sync workers) on a free
loopback port, and runs the sessions one after another: each opens the page (which hands out the
device cookie) and submits the form with only that cookie. Distinct addresses are 127.0.0.2,
127.0.0.3 … (Linux routes all of 127/8 to loopback). Stops gunicorn and removes the directory.
Prints numbers; it is not a test. Bounded: every request times out after 10 s and the whole run
stops after ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path[:0] = [str(ROOT / "src"), str(BENCH)]

TOKEN = "stuffinglink1"
ANSWER = urllib.parse.urlencode({"q_overall": "0", "q_speed": "1"})
REQUEST_TIMEOUT = 10.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _seed() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from jixiao.organisation.models import Region, Unit, UnitCategory
    from jixiao.schemes.models import Cycle, RaterGroup
    from jixiao.surveys.models import Survey, SurveyQuestion, SurveyTarget

    call_command("migrate", verbosity=0)
    cycle = Cycle.objects.create(year=2025, name="2025年度")
    RaterGroup.objects.create(cycle=cycle, code="public", name="群众与服务对象", order=1)
    unit = Unit.objects.create(
        code="S001",
        name="政务服务中心",
        category=UnitCategory.objects.create(code="C", name="政务部门"),
        region=Region.objects.create(code="R", name="州本级"),
    )
    survey = Survey.objects.create(cycle=cycle, title="政务服务满意度")
    for order, (item, text) in enumerate([("overall", "总体"), ("speed", "效率")]):
        SurveyQuestion.objects.create(survey=survey, item=item, text=text, order=order)
    SurveyTarget.objects.create(survey=survey, unit=unit, token=TOKEN)


def _wait_ready(port: int, proc: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited early")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not become ready in time")


def _session(port: int, source: str) -> int:
    """One fresh browser session from ``source``: GET the page, POST the answer with its cookie."""
    path = f"/surveys/s/{TOKEN}/"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT, source_address=(source, 0))
    try:
        conn.request("GET", path)
        page = conn.getresponse()
        page.read()
        cookie = next(
            (
                m.group(1)
                for h in page.headers.get_all("Set-Cookie") or []
                if (m := re.match(r"(jx_dev=[^;]+)", h))
            ),
            "",
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        conn.request("POST", path, body=ANSWER, headers=headers)
        answer = conn.getresponse()
        answer.read()
        return answer.status
    finally:
        conn.close()


def _tally() -> tuple[int, int, dict[str, int], int]:
    """(counted, suspect, suspect per reason, fact rows after a push), read from the database."""
    from django.db import connection

    from jixiao.surveys.engine import survey_push_to_facts
    from jixiao.surveys.models import Survey, SurveyResponse

    connection.close()  # gunicorn wrote the rows: read them on a fresh connection
    answers = SurveyResponse.objects.all()
    reasons: dict[str, int] = {}
    for reason in answers.filter(suspect=True).values_list("suspect_reason", flat=True):
        reasons[reason] = reasons.get(reason, 0) + 1
    survey = Survey.objects.select_related("cycle").get()
    rows = survey_push_to_facts(survey=survey)
    counted = answers.filter(suspect=False).count()
    suspect = answers.filter(suspect=True).count()
    SurveyResponse.objects.all().delete()
    return counted, suspect, reasons, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--max-seconds", type=float, default=120.0)
    parser.add_argument(
        "--database", default="", help="an empty database URL (default: SQLite in a temp dir)"
    )
    args = parser.parse_args()
    if not 1 <= args.sessions <= 250:
        raise SystemExit("--sessions must be 1..250 (one distinct loopback address each)")
    started = time.monotonic()
    deadline = started + args.max_seconds
    with tempfile.TemporaryDirectory(prefix="jixiao-stuffing-") as tmp:
        os.environ.update(
            {
                "JIXIAO_VAR_DIR": tmp,
                "DJANGO_SETTINGS_MODULE": "survey_bench_settings",
                "DB_CONN_MAX_AGE": "60",
            }
        )
        (Path(tmp) / "static").mkdir()  # whitenoise warns about a missing static root otherwise
        if args.database:
            os.environ["DATABASE_URL"] = args.database
        else:
            os.environ.pop("DATABASE_URL", None)
        _seed()
        port = _free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-k", "sync", "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
             "--pythonpath", f"{BENCH},{ROOT / 'src'}", "--log-level", "warning",
             "jixiao.config.wsgi:application"],
            env={**os.environ}, cwd=str(ROOT),
        )  # fmt: skip
        try:
            _wait_ready(port, proc, deadline)
            print(
                f"gunicorn sync ×{args.workers} on 127.0.0.1:{port}, "
                f"{'SQLite (temp)' if not args.database else 'database ' + args.database.rsplit('/', 1)[-1]}; "
                f"survey limits: 5 answers per address per link per 24 h, 20 links per device"
            )
            for label, sources in (
                ("one address 127.0.0.1", ["127.0.0.1"] * args.sessions),
                ("distinct addresses 127.0.0.2…", [f"127.0.0.{i + 2}" for i in range(args.sessions)]),
            ):
                began = time.monotonic()
                statuses: dict[int, int] = {}
                for source in sources:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"stopped after --max-seconds {args.max_seconds:.0f}")
                    status = _session(port, source)
                    statuses[status] = statuses.get(status, 0) + 1
                seconds = time.monotonic() - began
                counted, suspect, reasons, rows = _tally()
                print(
                    f"{args.sessions} fresh sessions from {label:<30} statuses {statuses}   "
                    f"counted {counted:>3}   suspect {suspect:>3} {reasons or ''}   "
                    f"facts rows {rows:>3} (2 questions per counted answer)   {seconds:.1f} s"
                )
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(f"total {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
