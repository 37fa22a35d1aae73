"""Benchmark: close a province-size set of evaluation events (10 million ballot items) into facts.

    uv run python bench/bench_close_event.py [--events 1000] [--ballots 200] [--members 8]

A province has ~10,000 units; here each of ``--events`` events is one unit's meeting: its team,
head and ``--members`` members are rated on five items (plus an overall vote for officials) by
two rater groups casting ``--ballots`` ballots in all. The defaults give 1,000 events × 10
ratees × 200 ballots × 5 items = 10,000,000 ballot items (about 5% 不了解) and 1.8 M votes.

The ballots are generated with SQL straight into the ballot tables (as the flush leaves them) in
a throwaway PostgreSQL database ``<name>_close_<pid>`` (created and dropped here; DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/jixiao_dev). Then the whole set is closed with
``events_close`` (what a province's office does at the end of the evaluation season) — flush, tally, EvaluationScore per rated answer, VoteCount, sealing, digest,
audit — and the total time is printed (target: under 30 s). Prints numbers; not a test.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/jixiao_dev"
TARGET_SECONDS = 30.0


def _create_database() -> tuple[str, str, str]:
    import psycopg

    url = os.environ.get("DATABASE_URL", "") or DEFAULT_URL
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        raise SystemExit("this benchmark needs PostgreSQL (DATABASE_URL=postgres://…)")
    name = f"{parts.path.lstrip('/') or 'jixiao'}_close_{os.getpid()}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}")), admin, name


def _generate(events: int, ballots: int, members: int) -> None:
    """Registry, events and their ballots, written with bulk SQL."""
    from django.db import connection
    from django.utils import timezone

    from jixiao.evaluations import services
    from jixiao.evaluations.models import EvaluationEvent, EventGroup, EventRatee, EventStatus, FormKind
    from jixiao.organisation.models import Layer, Official, Region, Unit, UnitCategory
    from jixiao.schemes.models import Cycle, RaterGroup

    cycle = Cycle.objects.create(year=2025, name="2025年度考核")
    groups = [
        RaterGroup.objects.create(cycle=cycle, code="leaders", name="领导班子成员", min_ballots=3, order=1),
        RaterGroup.objects.create(cycle=cycle, code="staff", name="干部职工", min_ballots=5, order=2),
    ]
    category = UnitCategory.objects.create(code="dept", name="政务部门")
    region = Region.objects.create(code="P", name="示范省")
    units = Unit.objects.bulk_create(
        Unit(code=f"U{i:05d}", name=f"单位{i}", category=category, region=region) for i in range(events)
    )
    Official.objects.bulk_create(
        Official(
            code=f"G{u.pk}-{j}", name=f"干部{u.pk}-{j}", unit=u, layer=Layer.HEAD if j == 0 else Layer.MEMBER
        )
        for u in units
        for j in range(members + 1)
    )
    forms = services.default_forms_ensure()
    closes = timezone.now() + timedelta(days=1)
    evs = EvaluationEvent.objects.bulk_create(
        EvaluationEvent(
            cycle=cycle, name=f"{u.name}民主测评", closes_at=closes, status=EventStatus.OPEN, flush_batch=20
        )
        for u in units
    )
    EventGroup.objects.bulk_create(
        EventGroup(event=e, rater_group=g, expected_ballots=ballots // 2) for e in evs for g in groups
    )
    officials: dict[int, list[tuple[int, str]]] = {}
    for pk, unit_id, layer in Official.objects.values_list("pk", "unit_id", "layer").order_by("pk"):
        officials.setdefault(unit_id, []).append((pk, layer))
    ratees: list[EventRatee] = []
    for e, u in zip(evs, units, strict=True):
        ratees.append(EventRatee(event=e, unit=u, form=forms[FormKind.TEAM], order=0))
        for n, (pk, layer) in enumerate(officials[u.pk], start=1):
            kind = FormKind.HEAD if layer == Layer.HEAD else FormKind.MEMBER
            ratees.append(EventRatee(event=e, official_id=pk, form=forms[kind], order=n))
    EventRatee.objects.bulk_create(ratees, batch_size=5000)
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO evaluations_eventratee_groups (eventratee_id, eventgroup_id) "
            "SELECT r.id, g.id FROM evaluations_eventratee r JOIN evaluations_eventgroup g ON g.event_id = r.event_id"
        )
        cur.execute("SET LOCAL synchronous_commit = off")
        # Half the ballots from each group: random UUIDs, as the flush writes them.
        cur.execute(
            "INSERT INTO evaluations_ballot (id, event_id, group_id) "
            "SELECT gen_random_uuid(), g.event_id, g.id FROM evaluations_eventgroup g, generate_series(1, %s)",
            [ballots // 2],
        )
        cur.execute(
            "INSERT INTO evaluations_ballotcode (event_id, group_id, code_hash, used, sealed) "
            "SELECT b.event_id, b.group_id, md5(b.id::text) || md5(random()::text), true, false "
            "FROM evaluations_ballot b"
        )
        cur.execute(
            "INSERT INTO evaluations_ballotanswer (ballot_id, ratee_id, item, choice, points) "
            "SELECT ballot_id, ratee_id, item, c, 95 - 10 * c FROM ("
            "  SELECT b.id AS ballot_id, r.id AS ratee_id, "
            "    CASE WHEN r.unit_id IS NULL THEN (ARRAY['de','neng','qin','ji','lian'])[i] "
            "         ELSE (ARRAY['overall','zzjs','kxjc','tjxz','lzjs'])[i] END AS item, "
            "    CASE WHEN random() < 0.05 THEN NULL ELSE floor(random() * 4)::int END AS c "
            "  FROM evaluations_ballot b JOIN evaluations_eventratee r ON r.event_id = b.event_id "
            "  CROSS JOIN generate_series(1, 5) i) s"
        )
        cur.execute(
            "INSERT INTO evaluations_ballotvote (ballot_id, ratee_id, vote) "
            "SELECT b.id, r.id, (ARRAY['excellent','competent','competent','competent','basic','incompetent',''])"
            "[1 + floor(random() * 7)::int] "
            "FROM evaluations_ballot b JOIN evaluations_eventratee r ON r.event_id = b.event_id "
            "WHERE r.official_id IS NOT NULL"
        )
        cur.execute(
            "INSERT INTO evaluations_ballotopinion (ballot_id, ratee_id, text) "
            "SELECT b.id, r.id, '希望进一步加强调查研究' FROM evaluations_ballot b "
            "JOIN evaluations_eventratee r ON r.event_id = b.event_id WHERE random() < 0.01"
        )
    with connection.cursor() as cur:
        cur.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--ballots", type=int, default=200, help="ballots per event (two groups)")
    parser.add_argument("--members", type=int, default=8, help="team members per unit besides the head")
    parser.add_argument(
        "--per-answer",
        action="store_true",
        help="one fact row per rated answer (default: compact, ballots = n)",
    )
    args = parser.parse_args()

    url, admin, name = _create_database()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jixiao.config.settings")
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, connections, transaction
        from django.db.models import Sum

        from jixiao.evaluations.closing import events_close, vacuum_after_close
        from jixiao.evaluations.models import Ballot, BallotAnswer, EvaluationEvent, EventStatus
        from jixiao.facts.models import EvaluationScore, VoteCount

        call_command("migrate", verbosity=0)
        t0 = time.perf_counter()
        with transaction.atomic():
            _generate(args.events, args.ballots, args.members)
        items = BallotAnswer.objects.count()
        rated = BallotAnswer.objects.filter(points__isnull=False).count()
        print(f"database {name}: generated {args.events} events, {Ballot.objects.count():,} ballots, "
              f"{items:,} ballot items ({items - rated:,} 不了解) in {time.perf_counter() - t0:.1f} s")  # fmt: skip

        started = time.perf_counter()
        events_close(
            actor=None,
            events=list(EvaluationEvent.objects.order_by("pk")),
            vacuum=False,
            compact_facts=not args.per_answer,
        )
        closing = time.perf_counter() - started
        vacuum_after_close()
        seconds = time.perf_counter() - started
        print(f"closing {closing:.1f} s + one VACUUM of the code and buffer tables {seconds - closing:.1f} s")

        facts = EvaluationScore.objects.count()
        represented = EvaluationScore.objects.aggregate(n=Sum("ballots"))["n"] or 0
        closed = EvaluationEvent.objects.filter(status=EventStatus.CLOSED).count()
        with connection.cursor() as cur:
            cur.execute("SELECT count(DISTINCT tally_digest) FROM evaluations_evaluationevent")
            digests = cur.fetchone()[0]  # type: ignore[index]
        print(f"closed {closed} events in {seconds:.1f} s ({items / seconds / 1e6:.2f} M ballot items/s) — "
              f"target < {TARGET_SECONDS:.0f} s: {'OK' if seconds < TARGET_SECONDS else 'MISSED'}")  # fmt: skip
        print(f"facts.EvaluationScore rows: {facts:,} carrying {represented:,} ratings (rated answers: {rated:,}); "
              f"facts.VoteCount rows: {VoteCount.objects.count():,}; distinct tally digests: {digests}")  # fmt: skip
        print("RESULT:", "OK" if represented == rated and closed == args.events else "FAILED")
        connections.close_all()
    finally:
        import psycopg

        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
