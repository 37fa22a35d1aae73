"""Benchmark: a 500-rater meeting votes on their phones within ten seconds.

    uv run python bench/bench_ballot_meeting.py [--raters 500] [--threads 32] [--workers 2]

Creates a throwaway PostgreSQL database ``<name>_ballots_<pid>`` on the server of DATABASE_URL
(default postgres://postgres@127.0.0.1:5432/jixiao_dev), migrates it, opens an event (one
unit's team, head and six members on the ballot), issues the codes, and starts gunicorn (sync
workers, persistent connections) on 127.0.0.1. Each simulated rater does what the phone does:
GET the ballot link, POST the code to open the ballot, POST the filled-in ballot. Then it
replays 50 used codes (each must be refused), closes the event, and checks: exactly N ballots,
no duplicate ids, no errors, and no code in gunicorn's access log. Loopback only; bounded by
the rater count and a 60-second timeout per request. Prints numbers; this is not a test.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/jixiao_dev"
TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _create_database() -> tuple[str, str, str]:
    import psycopg

    url = os.environ.get("DATABASE_URL", "") or DEFAULT_URL
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        raise SystemExit("this benchmark needs PostgreSQL (DATABASE_URL=postgres://…)")
    name = f"{parts.path.lstrip('/') or 'jixiao'}_ballots_{os.getpid()}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}")), admin, name


def _drop_database(admin: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _prepare(raters: int) -> tuple[int, list[str], dict[str, str]]:
    """Migrate, create an open event and ``raters`` codes; return (event id, codes, answers)."""
    from django.core.management import call_command
    from django.utils import timezone

    from jixiao.evaluations import ballots, services
    from jixiao.evaluations.models import EventGroup, FormKind
    from jixiao.organisation.models import Layer, Official, Region, Unit, UnitCategory
    from jixiao.schemes.models import Cycle, RaterGroup

    call_command("migrate", verbosity=0)
    cycle = Cycle.objects.create(year=2025, name="2025年度考核")
    staff = RaterGroup.objects.create(cycle=cycle, code="staff", name="干部职工", min_ballots=5)
    category = UnitCategory.objects.create(code="dept", name="政务部门")
    region = Region.objects.create(code="R1", name="示范市")
    unit = Unit.objects.create(
        code="U1", name="示范市财政局", short_name="财政局", category=category, region=region
    )
    Official.objects.create(code="G0", name="张局长", unit=unit, layer=Layer.HEAD, title="局长")
    for i in range(6):
        Official.objects.create(code=f"G{i + 1}", name=f"副局长{i + 1}", unit=unit, layer=Layer.MEMBER)
    event = services.event_create(
        actor=None,
        cycle=cycle,
        name="全体干部职工大会民主测评",
        closes_at=timezone.now() + timedelta(hours=2),
    )
    services.event_set_groups(actor=None, event=event, expected={staff.pk: raters})
    forms = services.default_forms_ensure()
    services.event_set_ratees(actor=None, event=event, units=[unit], kinds=list(FormKind.values), forms=forms)
    services.event_open(actor=None, event=event)
    group = EventGroup.objects.get(event=event)
    codes = [p.code for p in services.codes_issue(actor=None, group=group, count=raters)]
    layout = ballots.ballot_layout(group.pk)
    answers: dict[str, str] = {}
    for ratee in layout.ratees:
        for item in ratee.items:
            answers[ballots.answer_field(ratee.pk, item.code)] = "1"
        if ratee.has_vote:
            answers[ballots.vote_field(ratee.pk)] = "competent"
    return event.pk, codes, answers


class Rater:
    """One phone: its own keep-alive connection and cookie jar (the CSRF cookie)."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = ""
        self.latencies: list[float] = []

    def request(self, method: str, path: str, body: dict[str, str] | None = None) -> tuple[int, bytes]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        data = None
        if body is not None:
            data = urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        content = response.read()
        self.latencies.append(time.perf_counter() - started)
        for header in response.headers.get_all("Set-Cookie") or []:
            if header.startswith("csrftoken="):
                self.cookie = header.split(";", 1)[0]
        return response.status, content

    def vote(self, code: str, answers: dict[str, str]) -> str:
        status, page = self.request("GET", "/evaluations/b/")
        match = TOKEN.search(page)
        if status != 200 or match is None:
            return f"start {status}"
        token = match.group(1).decode()
        status, _ = self.request("POST", "/evaluations/b/open/", {"csrfmiddlewaretoken": token, "code": code})
        if status != 200:
            return f"open {status}"
        status, _ = self.request(
            "POST", "/evaluations/b/submit/", {"csrfmiddlewaretoken": token, "code": code, **answers}
        )
        return "ok" if status == 302 else f"submit {status}"


def _wait_for(port: int, proc: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited early")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raters", type=int, default=500)
    parser.add_argument("--threads", type=int, default=32, help="phones submitting at the same moment")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    url, admin, name = _create_database()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jixiao.config.settings")
    proc: subprocess.Popen[bytes] | None = None
    access_log = Path(tempfile.mkstemp(prefix="jixiao-ballot-access-", suffix=".log")[1])
    try:
        import django

        django.setup()
        from django.db import connections

        from jixiao.evaluations.closing import event_close
        from jixiao.evaluations.models import Ballot, BallotCode, EvaluationEvent, PendingBallot

        t0 = time.perf_counter()
        event_id, codes, answers = _prepare(args.raters)
        print(f"database {name}: migrated and {args.raters} codes issued in {time.perf_counter() - t0:.1f} s")
        connections.close_all()

        port = _free_port()
        env = {**os.environ, "DJANGO_DEBUG": "0", "DB_CONN_MAX_AGE": "60"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "jixiao.config.wsgi:application", "-k", "sync",
             "-w", str(args.workers), "-b", f"127.0.0.1:{port}", "--access-logfile", str(access_log),
             "--error-logfile", "-", "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        _wait_for(port, proc)
        Rater(port).request("GET", "/evaluations/b/")  # warm both workers' imports a little
        Rater(port).request("GET", "/evaluations/b/")

        # Baseline in the same run (the load generator shares the cores): GETs of the tiny start page.
        base_local = threading.local()

        def start_page(_n: int) -> int:
            if not hasattr(base_local, "rater"):
                base_local.rater = Rater(port)
            return int(base_local.rater.request("GET", "/evaluations/b/")[0])

        t_base = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.threads) as pool:
            base_status = list(pool.map(start_page, range(3 * args.raters)))
        base_rps = len(base_status) / (time.perf_counter() - t_base)

        local = threading.local()
        raters: list[Rater] = []
        lock = threading.Lock()

        def one(code: str) -> str:
            if not hasattr(local, "rater"):
                local.rater = Rater(port)
                with lock:
                    raters.append(local.rater)
            rater: Rater = local.rater
            rater.cookie = ""  # every rater is a new phone
            return rater.vote(code, answers)

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.threads) as pool:
            outcomes = list(pool.map(one, codes))
        wall = time.perf_counter() - started
        latencies = sorted(x for r in raters for x in r.latencies)
        requests = len(latencies)

        replay = Rater(port)
        refused = 0
        for code in codes[:50]:
            status, page = replay.request("GET", "/evaluations/b/")
            token = TOKEN.search(page).group(1).decode()  # type: ignore[union-attr]
            status, body = replay.request(
                "POST", "/evaluations/b/submit/", {"csrfmiddlewaretoken": token, "code": code, **answers}
            )
            refused += status == 409 and "已经使用过" in body.decode()

        stored_before_close = Ballot.objects.count() + PendingBallot.objects.count()
        t_close = time.perf_counter()
        event_close(actor=None, event=EvaluationEvent.objects.get(pk=event_id))
        close_seconds = time.perf_counter() - t_close
        ballot_ids = list(Ballot.objects.values_list("id", flat=True))
        errors = [o for o in outcomes if o != "ok"]
        log_text = access_log.read_text()
        leaked = sum(code in log_text for code in codes)

        p = statistics.quantiles(latencies, n=100)
        print(f"raters {args.raters}, concurrent phones {args.threads}, gunicorn sync workers {args.workers}")
        print(
            f"wall time for the meeting: {wall:.2f} s ({'within' if wall <= 10 else 'OVER'} the 10 s target)"
        )
        print(f"requests: {requests} ({requests / wall:.0f} req/s; {args.raters / wall:.0f} ballots/s)")
        print(f"baseline (start page GET only, same run): {base_rps:.0f} req/s; ballot flow at "
              f"{requests / wall / base_rps:.2f}× the baseline rate")  # fmt: skip
        print(f"latency: median {statistics.median(latencies) * 1000:.1f} ms, p95 {p[94] * 1000:.1f} ms, "
              f"p99 {p[98] * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms")  # fmt: skip
        print(f"errors: {len(errors)} {sorted(set(errors))[:5]}")
        print(f"replayed used codes refused with 'already used': {refused} / 50")
        print(f"stored before close (ballots + buffer): {stored_before_close}")
        print(f"closing (flush, tally, facts): {close_seconds:.2f} s")
        print(f"ballots after close: {len(ballot_ids)}, distinct ids: {len(set(ballot_ids))}, "
              f"used codes: {BallotCode.objects.filter(used=True).count()}")  # fmt: skip
        print(f"codes found in gunicorn's access log ({len(log_text.splitlines())} lines): {leaked}")
        ok = (
            len(ballot_ids) == args.raters == len(set(ballot_ids))
            and not errors
            and refused == 50
            and leaked == 0
        )
        print("RESULT:", "OK" if ok else "FAILED")
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:
            pass
        _drop_database(admin, name)
        access_log.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
